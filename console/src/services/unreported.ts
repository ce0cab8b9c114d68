// 未报送: the canteens of the regulator's region missing a required record of a day after its deadline
// (GET /regions/{id}/unreported; backend/records/completeness.py: morning check, menu, samples, disinfection).
import { get } from '../api/client'
import type { Desk } from './session'

export interface MissingRecord {
  record: 'morning_check' | 'menu' | 'samples' | 'disinfection'
  record_label: string
  meal: string | null
  meal_label: string | null
  deadline: string
}

export interface UnreportedCanteen {
  school_id: number
  school_name: string | null
  canteen_id: number
  canteen_name: string
  missing: MissingRecord[]
}

export interface Unreported {
  region_id: number
  date: string
  generated_at: string
  total: number
  reported: number
  canteens: UnreportedCanteen[]
}

/** The region desk's list for a day (YYYY-MM-DD; the API's today when omitted). */
export async function loadUnreported(desk: Desk, day?: string): Promise<Unreported> {
  return await get('/regions/{region_id}/unreported',
    { params: { region_id: desk.id }, query: day ? { day } : {} }) as unknown as Unreported
}

/** One missing record in a few characters: 晨检, 午餐留样. */
export function missingText(missing: MissingRecord): string {
  return `${missing.meal_label ?? ''}${missing.record_label}`
}
