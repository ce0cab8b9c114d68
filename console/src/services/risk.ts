// 风险警示: yellow and red cards, camera uptime over 7 and 30 days, and (regulators) the region's risk classes,
// card durations and early-warning limits with their history; 风险预警: the early warnings (backend/risk, docs/risk.md).
import { get, post, put, type Schemas } from '../api/client'
import type { Kind } from './kinds'
import type { Desk } from './session'
import { shanghaiTime } from './time'

export type Card = Schemas['CardOut']
export type SchoolUptime = Schemas['SchoolUptimeOut']
export type RiskSettings = Schemas['RiskSettingsOut']
export type KindSetting = Schemas['KindSettingOut']
export type SettingsChange = Schemas['SettingsChangeOut']
export type CardState = 'active' | 'lifted' | 'all'
/** The card list's filter, in the order the page offers it. */
export const CARD_STATES: { value: CardState, label: string }[] = [
  { value: 'active', label: '生效中' }, { value: 'lifted', label: '已撤销' }, { value: 'all', label: '全部' },
]

export const CLASS_OPTIONS = [
  { value: 1, label: '一级' },
  { value: 2, label: '二级' },
  { value: 3, label: '三级' },
]

/** The desk's cards: the region's (a filter by state), or the school's (active and lifted, filtered here). */
export async function loadCards(desk: Desk, state: CardState = 'active'): Promise<Card[]> {
  if (desk.kind === 'region') {
    return get('/regions/{region_id}/risk/cards', { params: { region_id: desk.id }, query: { state } })
  }
  const risk = await get('/schools/{school_id}/risk', { params: { school_id: desk.id } })
  return (risk.cards ?? []).filter((card) => state === 'all' || card.active === (state === 'active'))
}

/** Each school's uptime over 7 and 30 days: the region's schools (lowest first), or the desk's school. */
export async function loadUptime(desk: Desk): Promise<SchoolUptime[]> {
  if (desk.kind === 'region') {
    const report = await get('/regions/{region_id}/risk/uptime', { params: { region_id: desk.id } })
    return report.schools ?? []
  }
  const risk = await get('/schools/{school_id}/risk', { params: { school_id: desk.id } })
  return risk.uptime ? [risk.uptime] : []
}

/** A regulator lifts a card with a reason (audited). */
export function liftCard(cardId: number, reason: string): Promise<Card> {
  return post('/risk-cards/{card_id}/lift', { params: { card_id: cardId }, body: { reason } })
}

/** The region's effective settings, each with where it comes from. */
export function loadSettings(regionId: number): Promise<RiskSettings> {
  return get('/regions/{region_id}/risk/settings', { params: { region_id: regionId } })
}

/** Who changed the region's settings, newest first. */
export function loadHistory(regionId: number): Promise<SettingsChange[]> {
  return get('/regions/{region_id}/risk/settings/history', { params: { region_id: regionId } })
}

export interface EditedKind { kind: Kind, risk_class: 1 | 2 | 3, deadline_hours: number, inherit: boolean }
type SettingsIn = Schemas['RiskSettingsIn']
export interface EditedCards { yellow_after_hours: number, red_after_hours: number, inherit: boolean }

/** The PUT body of what the form changed: a kind whose values differ (or that goes back to inheriting, or
 * leaves the inherited value for its own); the card durations likewise; nothing else, so the audit lists only real changes. */
export function settingsBody(original: RiskSettings, kinds: EditedKind[], cards: EditedCards,
  limits: EditedLimit[] = []): SettingsIn {
  const before = new Map((original.kinds ?? []).map((k) => [k.kind, k]))
  const changed = kinds.filter((edit) => {
    const was = before.get(edit.kind)
    if (!was) return false
    if (edit.inherit) return was.source === 'own'
    return edit.risk_class !== was.risk_class || edit.deadline_hours !== was.deadline_hours
  }).map((edit) => (edit.inherit ? { kind: edit.kind, risk_class: null, deadline_hours: null, inherit: true }
    : { kind: edit.kind, risk_class: edit.risk_class, deadline_hours: edit.deadline_hours, inherit: false }))
  const was = original.cards
  let cardBody: SettingsIn['cards'] = null
  if (cards.inherit) {
    if (was?.source === 'own') cardBody = { yellow_after_hours: null, red_after_hours: null, inherit: true }
  } else if (cards.yellow_after_hours !== was?.yellow_after_hours || cards.red_after_hours !== was?.red_after_hours) {
    cardBody = { yellow_after_hours: cards.yellow_after_hours, red_after_hours: cards.red_after_hours, inherit: false }
  }
  return { kinds: changed, cards: cardBody, warnings: limitsBody(original, limits) }
}

/** Save the changes; answers the region's settings as they now are. */
export function saveSettings(regionId: number, body: SettingsIn): Promise<RiskSettings> {
  return put('/regions/{region_id}/risk/settings', { params: { region_id: regionId }, body })
}

/** `黄牌` orange, `红牌` red; a lifted card grey. */
export function cardType(card: Card): 'warning' | 'danger' | 'info' {
  if (!card.active) return 'info'
  return card.color === 'red' ? 'danger' : 'warning'
}

/** `5 天` for whole days, else `30 小时`. */
export function hoursText(hours: number | undefined): string {
  if (hours === undefined) return '—'
  return hours >= 24 && hours % 24 === 0 ? `${hours / 24} 天` : `${hours} 小时`
}

// 风险预警: early warnings of rising risk before a violation (backend/risk/early_warning.py), each with its reason
// and the data behind it; regulators acknowledge one with a note.
export type Warning = Schemas['WarningOut']
export type WarningState = 'open' | 'resolved' | 'all'
/** The warning list's filter, in the order the page offers it. */
export const WARNING_STATES: { value: WarningState, label: string }[] = [
  { value: 'open', label: '未解除' }, { value: 'resolved', label: '已解除' }, { value: 'all', label: '全部' },
]
export type LimitSetting = Schemas['LimitSettingOut']

export const WARNING_KINDS = [
  { value: 'records_completeness', label: '台账完整率偏低' },
  { value: 'supplier_certificate', label: '供应商证照到期' },
  { value: 'health_certificate', label: '健康证到期或未登记' },
  { value: 'repeated_violation', label: '同类问题反复出现' },
  { value: 'camera_uptime', label: '摄像头在线率偏低' },
  { value: 'rectification_drift', label: '整改临近期限' },
  { value: 'late_rectifications', label: '逾期整改占比上升' },
] as const
export type WarningKind = typeof WARNING_KINDS[number]['value']

export interface WarningFilter { state: WarningState, kind?: WarningKind | '', schoolId?: number | null }

/** The desk's warnings, newest first: the region's (filtered by kind and school), or the school's. */
export async function loadWarnings(desk: Desk, filter: WarningFilter): Promise<Warning[]> {
  const kind = filter.kind ? { kind: filter.kind } : {}
  if (desk.kind === 'region') {
    const school = filter.schoolId ? { school_id: filter.schoolId } : {}
    return get('/regions/{region_id}/risk/warnings',
      { params: { region_id: desk.id }, query: { state: filter.state, ...kind, ...school } })
  }
  return get('/schools/{school_id}/risk/warnings',
    { params: { school_id: desk.id }, query: { state: filter.state, ...kind } })
}

/** A regulator acknowledges a warning with a note (audited). */
export function acknowledgeWarning(warningId: number, note: string): Promise<Warning> {
  return post('/risk-warnings/{warning_id}/acknowledge', { params: { warning_id: warningId }, body: { note } })
}

type Data = Record<string, any>  // the data of each kind: backend/risk/early_warning.py

const percent = (value: unknown): string => (value === null || value === undefined ? '—' : `${value}%`)

/** The data behind a warning, a line per figure, so a regulator can check the reason. */
export function warningFacts(warning: Warning): string[] {
  const d = (warning.data ?? {}) as Data
  switch (warning.kind) {
    case 'records_completeness':
      return [`${d.from} 至 ${d.to}：应报送 ${d.owed_days} 天，完整 ${d.complete_days} 天（${d.percent}%）；前7天 ${percent(d.previous_percent)}`,
        ...(d.missing_days ?? []).map((day: Data) => `${day.date} 缺${day.missing.join('、')}`)]
    case 'supplier_certificate':
      return [`供应商记录 ${d.supplier_id}：${d.supplier_name}`, `${d.certificate_label}有效期至 ${d.valid_until}`]
    case 'health_certificate':
      return [`人员记录 ${d.staff_id}：${d.name}（${d.post}）`, `健康证有效期至 ${d.valid_until ?? '未登记'}`]
    case 'repeated_violation':
      return [`${d.kind_label}：近 ${d.days} 天 ${d.count} 次（预警线 ${d.limit_count} 次）`]
    case 'camera_uptime':
      return [`近7天在线率 ${percent(d.uptime_7d)}，启用摄像头 ${d.cameras} 路，预警线 ${percent(d.limit_percent)}`]
    case 'rectification_drift':
      return (d.violations ?? []).map((v: Data) =>
        `${v.title}：期限 ${shanghaiTime(v.due_at)}，已用时 ${v.used_percent}%${v.overdue ? '（已逾期）' : ''}`)
    case 'late_rectifications':
      return [`近30天到期 ${d.due} 项，未按期 ${d.late} 项（${d.percent}%）；前30天 ${percent(d.previous_percent)}`]
    default:
      return []
  }
}

/** The violations a warning rests on, to open them. */
export function warningViolationIds(warning: Warning): number[] {
  const d = (warning.data ?? {}) as Data
  if (warning.kind === 'rectification_drift') return (d.violations ?? []).map((v: Data) => v.violation_id)
  return d.violation_ids ?? d.late_violation_ids ?? []
}

type LimitName = NonNullable<SettingsIn['warnings']>[number]['name']
export interface EditedLimit { name: LimitName, value: number, inherit: boolean }

/** The PUT body's early-warning limits: those whose value changed, or that go back to inheriting their own. */
export function limitsBody(original: RiskSettings, limits: EditedLimit[]): SettingsIn['warnings'] {
  const before = new Map((original.warnings ?? []).map((l) => [l.name, l]))
  return limits.filter((edit) => {
    const was = before.get(edit.name)
    if (!was) return false
    return edit.inherit ? was.source === 'own' : edit.value !== was.value
  }).map((edit) => (edit.inherit ? { name: edit.name, value: null, inherit: true }
    : { name: edit.name, value: edit.value, inherit: false }))
}

export type RegionIndex = Schemas['RegionIndexOut']
export type RankedIndex = Schemas['RankedIndexOut']
export type SchoolIndex = Schemas['SchoolIndexOut']
export type IndexComponent = Schemas['IndexComponentOut']

/** 食安指数: the region's ranking of a month (best first; the newest month without one). */
export function loadRanking(regionId: number, month?: string): Promise<RegionIndex> {
  return get('/regions/{region_id}/risk/index', { params: { region_id: regionId }, query: month ? { month } : {} })
}

/** A school's index of a month with each component, its place in its region and its last twelve months. */
export function loadSchoolIndex(schoolId: number, month?: string): Promise<SchoolIndex> {
  return get('/schools/{school_id}/risk/index', { params: { school_id: schoolId }, query: month ? { month } : {} })
}

/** The colour of a 阳光食堂 rating's tag. */
export function ratingType(rating: string | undefined): 'success' | 'warning' | 'danger' {
  return rating === 'A' ? 'success' : rating === 'B' ? 'warning' : 'danger'
}

const FIGURE_LABELS: Record<string, string> = {
  class1: '一级', class2: '二级', class3: '三级', due: '到期', late: '逾期', rate: '比率%', canteen_days: '食堂日',
  complete: '完整', online_seconds: '在线秒', known_seconds: '已知秒', confirmed: '确认', escalated: '升级督办',
  false_positive: '误报', minor: '一般', major: '较重', critical: '严重',
}

/** A component's figures in one line: 一级 1，二级 0，三级 2. */
export function figuresText(component: IndexComponent): string {
  return Object.entries(component.figures ?? {})
    .map(([key, value]) => `${FIGURE_LABELS[key] ?? key} ${value ?? '—'}`).join('，')
}
