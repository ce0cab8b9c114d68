// 监督检查: spot checks, inspection rounds and supervision orders (routes of backend/regulators/routes.py).
import { get, post, postForm, type Schemas } from '../api/client'
import type { Photo } from './photos'

export type SpotCheck = Schemas['SpotCheckOut']
export type Round = Schemas['RoundOut']
export type Order = Schemas['OrderOut']
export type InspectorChoice = Schemas['InspectorChoiceOut']

// The names of backend/regulators/models.py's RoundStatus and Severity (tests/console/test_console_labels.py).
export const ROUND_STATUS: Record<string, string> = { planned: '进行中', completed: '已完成' }
// How serious a regulator's finding is: an inspection's and a patrol's.
export const SEVERITIES: Record<string, string> = { minor: '一般', major: '较重', critical: '严重' }

/** Spot checks of a region, newest first. */
export function listSpotChecks(regionId: number): Promise<SpotCheck[]> {
  return get('/regions/{region_id}/spot-checks', { params: { region_id: regionId } })
}

/** Draw canteens at random (a seed reproduces an earlier draw). */
export function createSpotCheck(regionId: number, body: { size: number, seed: string | null, note: string | null }): Promise<SpotCheck> {
  return post('/regions/{region_id}/spot-checks', { params: { region_id: regionId }, body: { ...body, school_kind: null } })
}

/** Inspection rounds of a region. */
export function listRounds(regionId: number): Promise<Round[]> {
  return get('/regions/{region_id}/inspections', { params: { region_id: regionId } })
}

/** Plan a joint inspection: other inspectors of the region (the creator leads) and the canteens to visit,
 * or those of a spot check. */
export function createRound(regionId: number, body: { title: string, planned_at: string, inspector_ids: number[],
  canteen_ids: number[], spot_check_id: number | null }): Promise<Round> {
  return post('/regions/{region_id}/inspections', { params: { region_id: regionId }, body })
}

/** The regulators whose scope covers the region, by name: who may join a joint inspection there. */
export function listInspectors(regionId: number): Promise<InspectorChoice[]> {
  return get('/regions/{region_id}/inspectors', { params: { region_id: regionId } })
}

/** The inspectors one may invite: everyone listed but oneself (the creator leads the round anyway). */
export function otherInspectors(choices: InspectorChoice[], selfId: number | undefined): InspectorChoice[] {
  return choices.filter((c) => c.user_id !== selfId)
}

/** "西湖区市场监管局（杭州市）": an inspector's name, with the region of their authority when it is not the
 * round's own; the user number only for someone without a name. */
export function inspectorLabel(choice: InspectorChoice, regionId: number): string {
  const name = choice.name || `用户 ${choice.user_id}`
  return choice.scope_region_id === regionId ? name : `${name}（${choice.scope_region_name}）`
}

/** The round's inspectors by name, the lead marked: "西湖区市场监管局（带队）、执法二组". */
export function roundInspectors(round: Round): string {
  return (round.inspectors ?? []).map((i) => `${i.name || `用户 ${i.user_id}`}${i.lead ? '（带队）' : ''}`).join('、')
}

/** "城西小学 · 一号食堂": a canteen by its school's and its own name (its number only when both are unknown). */
export function canteenName(c: { canteen_id?: number | null, canteen_name?: string | null, school_name?: string | null }): string {
  const named = [c.school_name, c.canteen_name].filter(Boolean).join(' · ')
  return named || `食堂 ${c.canteen_id}`
}

/** Several canteens by name, "、"-separated. */
export function canteenNames(canteens: Parameters<typeof canteenName>[0][] | undefined): string {
  return (canteens ?? []).map(canteenName).join('、')
}

/** Upload a photo of what was found in one of the round's canteens; its key goes in the finding's photos. */
export function uploadFindingPhoto(id: number, canteenId: number, file: Blob, filename: string): Promise<Photo> {
  const form = new FormData()
  form.append('canteen_id', String(canteenId))
  form.append('file', file, filename)
  return postForm('/inspections/{inspection_id}/photos', { params: { inspection_id: id }, form })
}

/** One round with inspectors, canteens and findings. */
export function loadRound(id: number): Promise<Round> {
  return get('/inspections/{inspection_id}', { params: { inspection_id: id } })
}

/** Mark a canteen visited with its result. */
export function recordVisit(id: number, canteenId: number, result: 'pass' | 'issues'): Promise<unknown> {
  return post('/inspections/{inspection_id}/visits',
    { params: { inspection_id: id }, body: { canteen_id: canteenId, result } })
}

/** Record a finding (it opens a violation by default). */
export function recordFinding(id: number, body: Schemas['FindingIn']): Promise<unknown> {
  return post('/inspections/{inspection_id}/findings', { params: { inspection_id: id }, body })
}

/** Conclude a round with its summary. */
export function completeRound(id: number, summary: string): Promise<Round> {
  return post('/inspections/{inspection_id}/complete', { params: { inspection_id: id }, body: { summary: summary || null } })
}

/** A school's supervision orders. */
export function listOrders(schoolId: number): Promise<Order[]> {
  return get('/schools/{school_id}/supervision-orders', { params: { school_id: schoolId } })
}

/** One order. */
export function loadOrder(id: number): Promise<Order> {
  return get('/supervision-orders/{order_id}', { params: { order_id: id } })
}

/** Issue an order to a school (regulator). */
export function issueOrder(schoolId: number, body: { title: string, content: string, due_at: string, violation_ids: number[] }): Promise<Order> {
  return post('/schools/{school_id}/supervision-orders', { params: { school_id: schoolId }, body })
}

/** The school's answer (principal). */
export function respondOrder(id: number, response: string): Promise<Order> {
  return post('/supervision-orders/{order_id}/respond', { params: { order_id: id }, body: { response } })
}

/** Close an order (regulator). */
export function closeOrder(id: number, reason: string): Promise<Order> {
  return post('/supervision-orders/{order_id}/close', { params: { order_id: id }, body: { reason: reason || null } })
}
