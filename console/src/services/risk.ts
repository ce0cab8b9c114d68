// 风险警示: yellow and red cards, camera uptime over 7 and 30 days, and (regulators) the region's risk classes
// and card durations with their history (backend/risk, docs/risk.md).
import { get, post, put, type Schemas } from '../api/client'
import type { Kind } from './kinds'
import type { Desk } from './session'

export type Card = Schemas['CardOut']
export type SchoolUptime = Schemas['SchoolUptimeOut']
export type RiskSettings = Schemas['RiskSettingsOut']
export type KindSetting = Schemas['KindSettingOut']
export type SettingsChange = Schemas['SettingsChangeOut']
export type CardState = 'active' | 'lifted' | 'all'

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
export function settingsBody(original: RiskSettings, kinds: EditedKind[], cards: EditedCards): SettingsIn {
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
  return { kinds: changed, cards: cardBody }
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
