// 告警审核: the AI-alarm review queue (routes of backend/violations/alarm_routes.py), its grouping per camera
// and event, the verdicts, and the cheap cursor polled so new alarms appear without a reload.
import { download, get, post, saveFile, type Schemas } from '../api/client'
import type { Desk, User } from './session'

export type Alarm = Schemas['AlarmOut']
export type AlarmPage = Schemas['AlarmPageOut']
export type AlarmCursor = Schemas['CursorOut']
export type AlarmStats = Schemas['AlarmStatsOut']
export type Verdict = 'confirmed' | 'false_positive' | 'escalated'
export type AlarmState = 'pending' | 'reviewed' | 'all'
/** The queue's filter, in the order the page offers it. */
export const ALARM_STATES: { value: AlarmState, label: string }[] = [
  { value: 'pending', label: '待审核' }, { value: 'reviewed', label: '已审核' }, { value: 'all', label: '全部' },
]

export interface AlarmFilters {
  state: AlarmState
  kind?: string
  camera_id?: number
  school_id?: number
}

/** The same rule as backend/violations/alarm_queue.py: one camera and kind, neighbours ≤ 10 minutes apart. */
export const GROUP_GAP_MS = 10 * 60 * 1000
/** How often the page asks the cursor whether something changed (new alarms show within 5 s). */
export const POLL_MS = 3000

export const VERDICT_LABELS: Record<Verdict, string> = {
  confirmed: '确认属实', false_positive: '误报', escalated: '升级督办',
}

export interface AlarmGroup {
  key: string
  camera_id: number | null
  camera_name: string
  school_name: string
  kind: string
  kind_label: string
  items: Alarm[]
}

/** Groups of alarms (newest first) per camera and kind, split where neighbours lie more than `gap` apart.
 * Groups are listed by their newest alarm; pages appended to the list regroup by the same rule. */
export function groupAlarms(items: Alarm[], gap: number = GROUP_GAP_MS): AlarmGroup[] {
  const groups: AlarmGroup[] = []
  const open = new Map<string, { group: AlarmGroup, first: number }>()
  for (const item of items) {
    const key = `${item.camera_id ?? ''}:${item.kind}`
    const at = Date.parse(item.occurred_at ?? '')
    const current = open.get(key)
    if (!current || current.first - at > gap) {
      const group: AlarmGroup = {
        key: `${key}:${item.id}`, camera_id: item.camera_id ?? null, camera_name: item.camera_name ?? '',
        school_name: item.school_name ?? '', kind: item.kind ?? '', kind_label: item.kind_label ?? '', items: [],
      }
      open.set(key, { group, first: at })
      groups.push(group)
    }
    const entry = open.get(key)!
    entry.group.items.push(item)
    entry.first = Math.min(entry.first, at)
  }
  return groups
}

/** Append a page to the list without duplicates, newest first. */
export function mergeAlarms(current: Alarm[], page: Alarm[]): Alarm[] {
  const byId = new Map<number, Alarm>()
  for (const item of [...current, ...page]) byId.set(item.id as number, item)
  return [...byId.values()].sort((a, b) => (b.id as number) - (a.id as number))
}

/** Ids newer than the last one seen: what the "新告警" badge counts. */
export function newerThan(items: Alarm[], seen: number | null): number {
  return seen === null ? 0 : items.filter((item) => (item.id as number) > seen).length
}

/** A page of the desk's queue, newest first (`before` = next_before_id of the previous page). */
export function listAlarms(desk: Desk, filters: AlarmFilters, before?: number): Promise<AlarmPage> {
  const query = { state: filters.state, kind: filters.kind as never, camera_id: filters.camera_id,
    before_id: before, limit: 50 }
  if (desk.kind === 'school') {
    return get('/schools/{school_id}/alarms', { params: { school_id: desk.id }, query })
  }
  return get('/regions/{region_id}/alarms', { params: { region_id: desk.id },
    query: { ...query, school_id: filters.school_id } })
}

/** The newest alarm id and revision of the desk's queue (cheap: Redis or two indexed queries). */
export function alarmCursor(desk: Desk): Promise<AlarmCursor> {
  return desk.kind === 'school'
    ? get('/schools/{school_id}/alarms/cursor', { params: { school_id: desk.id } })
    : get('/regions/{region_id}/alarms/cursor', { params: { region_id: desk.id } })
}

/** Verdict counts of the last 30 days: overall, per camera (its false-alarm rate) and per kind. */
export function alarmStats(desk: Desk): Promise<AlarmStats> {
  return desk.kind === 'school'
    ? get('/schools/{school_id}/alarms/stats', { params: { school_id: desk.id } })
    : get('/regions/{region_id}/alarms/stats', { params: { region_id: desk.id } })
}

export type ReviewBox = Schemas['BoxIn']
export type BoxLabel = ReviewBox['label']

/** The classes of the training set (backend/violations/training_set.py TRAINING_CLASSES), named as on evidence. */
export const BOX_LABELS: Record<BoxLabel, string> = {
  person: '人员', no_mask: '未戴口罩', no_hat: '未戴帽子', no_uniform: '未穿工作服', smoking: '吸烟', phone: '玩手机',
  rodent: '老鼠',
}

/** The box label an alarm of `kind` is about (a person after hours is a `person` box). */
export function boxLabelOf(kind: string | undefined): BoxLabel {
  if (kind === 'person_after_hours') return 'person'
  return (kind && kind in BOX_LABELS ? kind : 'person') as BoxLabel
}

/** A box dragged from (x0, y0) to (x1, y1) (fractions, any direction), clipped to the picture; null when it is
 * too small to mean anything (under 1 % of a side). */
export function dragBox(label: BoxLabel, x0: number, y0: number, x1: number, y1: number): ReviewBox | null {
  const clip = (v: number) => Math.min(Math.max(v, 0), 1)
  const round = (v: number) => Math.round(v * 10000) / 10000
  const box = { label, x1: round(clip(Math.min(x0, x1))), y1: round(clip(Math.min(y0, y1))),
    x2: round(clip(Math.max(x0, x1))), y2: round(clip(Math.max(y0, y1))) }
  return box.x2 - box.x1 < 0.01 || box.y2 - box.y1 < 0.01 ? null : box
}

/** Give a verdict; a false positive needs the reason (422 `reason_required` otherwise). A confirmation may
 * correct the detector with `boxes` (fractions of the picture): the training set's labels. */
export async function reviewAlarm(id: number, verdict: Verdict, reason = '',
  boxes: ReviewBox[] | null = null): Promise<Alarm> {
  const answer = await post('/alarms/{violation_id}/review',
    { params: { violation_id: id }, body: { verdict, reason: reason || null, boxes } })
  return answer.alarm as Alarm
}

/** Whether the caller may export the desk's training set (`/me` capability `training.export`: the school's
 * principal, the region's regulators). */
export function canExportTrainingSet(user: User | null, desk: Desk): boolean {
  const capabilities = user?.capabilities
  if (!capabilities) return false
  if (capabilities.admin) return true
  const granted = desk.kind === 'region' ? capabilities.regulator : capabilities.schools?.[String(desk.id)]
  return (granted ?? []).includes('training.export')
}

/** Download the desk's reviewed alarms as a YOLO training set (zip: images, labels, data.yaml; audited). */
export async function exportTrainingSet(desk: Desk): Promise<string> {
  const file = desk.kind === 'school'
    ? await download('/schools/{school_id}/alarms/training-set', { params: { school_id: desk.id } })
    : await download('/regions/{region_id}/alarms/training-set', { params: { region_id: desk.id } })
  saveFile(file)
  return file.filename
}

/** Poll the cursor every `interval` ms; `changed` runs when the revision moves. Returns the stop function. */
export function watchAlarms(desk: Desk, changed: (cursor: AlarmCursor) => void, interval = POLL_MS): () => void {
  let last: string | null = null
  let stopped = false
  const tick = async (): Promise<void> => {
    try {
      const cursor = await alarmCursor(desk)
      if (last !== null && cursor.revision !== last && !stopped) changed(cursor)
      last = cursor.revision ?? null
    } catch {
      // A failed poll (network, server restart) is retried on the next tick; a 401 ends the session anyway.
    }
  }
  void tick()
  const timer = setInterval(() => void tick(), interval)
  return () => {
    stopped = true
    clearInterval(timer)
  }
}
