// The 总览 figures: GET /stats for the desk's region or school, and per school for a region's ranking.
import { get, type Schemas } from '../api/client'
import type { Desk } from './session'

export type Stats = Schemas['StatsOut']
export type School = Schemas['SchoolOut']

/** Figures of a region or a school over a period of local days (default: the API's last 30 days). */
export function loadStats(desk: Desk, period: { from?: string, to?: string } = {}): Promise<Stats> {
  const scope = desk.kind === 'region' ? { region_id: desk.id } : { school_id: desk.id }
  return get('/stats', { query: { ...scope, ...period } })
}

/** The schools the user may see (a regulator's whole region). */
export function loadSchools(): Promise<School[]> {
  return get('/schools')
}

export interface SchoolRow { school: School, stats: Stats }

/** Each school's figures over the same period, most open problems first (the ranking). */
export async function schoolRanking(schools: School[], period: { from?: string, to?: string }): Promise<SchoolRow[]> {
  const rows = await Promise.all(schools.map(async (school) => ({
    school, stats: await get('/stats', { query: { school_id: school.id as number, ...period } }),
  })))
  return rows.sort((a, b) => (b.stats.in_progress ?? 0) - (a.stats.in_progress ?? 0)
    || (b.stats.found ?? 0) - (a.stats.found ?? 0))
}
