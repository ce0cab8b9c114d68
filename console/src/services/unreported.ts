// 未报送: the canteens of the regulator's region missing a required record of a day after its deadline
// (GET /regions/{id}/unreported; backend/records/completeness.py: morning check, menu, samples, disinfection).
import { get, type Schemas } from '../api/client'
import type { Desk } from './session'

export type MissingRecord = Schemas['MissingRecordOut']
export type UnreportedCanteen = Schemas['UnreportedCanteenOut']
export type Unreported = Schemas['UnreportedOut']

/** The region desk's list for a day (YYYY-MM-DD; the API's today when omitted). */
export async function loadUnreported(desk: Desk, day?: string): Promise<Unreported> {
  return await get('/regions/{region_id}/unreported',
    { params: { region_id: desk.id }, query: day ? { day } : {} })
}

/** One missing record in a few characters: 晨检, 午餐留样. */
export function missingText(missing: MissingRecord): string {
  return `${missing.meal_label ?? ''}${missing.record_label}`
}
