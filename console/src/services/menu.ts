// The side menu: each page shows to whom /me's capabilities allow what it needs at the desk (the API checks
// every call again; the menu only spares a user pages that would answer 403).
import { type Desk, type User } from './session'

// `platform`: a page of the whole platform (admins), shown at any desk to those allowed; an admin without a region or
// school works on these pages alone.
export interface MenuEntry {
  path: string, title: string, needs: string, schoolDesk?: boolean, regionDesk?: boolean, platform?: boolean
}

export const MENU: MenuEntry[] = [
  { path: '/overview', title: '总览', needs: 'stats.read' },
  { path: '/alarms', title: '告警审核', needs: 'alarm.review' },
  { path: '/violations', title: '问题整改', needs: 'violation.read' },
  { path: '/supervision', title: '监督检查', needs: 'supervision.read' },
  { path: '/wall', title: '视频巡查', needs: 'live.play' },
  { path: '/ledger', title: '台账', needs: 'ledger.read' },
  { path: '/unreported', title: '未报送', needs: 'records.read', regionDesk: true },
  { path: '/cameras', title: '摄像头', needs: 'camera.health' },
  { path: '/risk', title: '风险警示', needs: 'risk.read' },
  { path: '/warnings', title: '风险预警', needs: 'risk.warnings' },
  { path: '/playback', title: '录像回放', needs: 'recording.read' },
  { path: '/school', title: '学校管理', needs: 'school.read', schoolDesk: true },
  { path: '/ops', title: '通知投递', needs: 'admin', platform: true },
  { path: '/users', title: '用户与会话', needs: 'admin', platform: true },
]

/** What the user may do at the desk: the regulator's actions in a region, or the roles' actions in the school. */
export function deskCapabilities(user: User | null, desk: Desk | null): Set<string> {
  if (!user || !desk) return new Set()
  const capabilities = user.capabilities
  if (capabilities?.admin) return new Set(MENU.map((entry) => entry.needs))
  return new Set(desk.kind === 'region' ? capabilities?.regulator ?? [] : capabilities?.schools?.[String(desk.id)] ?? [])
}

/** The menu entries the user's desk allows, in menu order. */
export function menuFor(user: User | null, desk: Desk | null): MenuEntry[] {
  if (!desk) return user?.capabilities?.admin ? MENU.filter((entry) => entry.platform) : []
  const allowed = deskCapabilities(user, desk)
  return MENU.filter((entry) => allowed.has(entry.needs) && (!entry.schoolDesk || desk.kind === 'school')
    && (!entry.regionDesk || desk.kind === 'region'))
}
