// The 总览 figures: GET /stats for a region or a school (the drill-down's level), and their Excel export.
import { download, get, type Schemas } from '../api/client'

export type Stats = Schemas['StatsOut']
export type School = Schemas['SchoolOut']
export type Child = Schemas['ChildOut']
export type Crumb = Schemas['CrumbOut']

/** Where the overview stands: a region (of the drill-down) or one school. */
export interface StatsScope { kind: 'region' | 'school', id: number }
export interface Period { from?: string, to?: string }

function scopeQuery(scope: StatsScope): { region_id: number } | { school_id: number } {
  return scope.kind === 'region' ? { region_id: scope.id } : { school_id: scope.id }
}

/** Figures of a region or a school over a period of local days (default: the API's last 30 days). */
export function loadStats(scope: StatsScope, period: Period = {}): Promise<Stats> {
  return get('/stats', { query: { ...scopeQuery(scope), ...period } })
}

/** The same figures as an Excel workbook (the server audits the export). */
export function exportStats(scope: StatsScope, period: Period): Promise<{ blob: Blob, filename: string }> {
  return download('/stats/export', { query: { ...scopeQuery(scope), ...period } })
}

/** The scope a drill-down row or a breadcrumb opens. */
export function scopeOf(row: { type?: string, id?: number }): StatsScope {
  return { kind: row.type === 'school' ? 'school' : 'region', id: row.id as number }
}

/** A rate (0..1) as the page shows it. */
export function percent(rate: number | null | undefined): string {
  return rate == null ? '—' : `${(rate * 100).toFixed(1)}%`
}

/** The schools the user may see (a regulator's whole region). */
export function loadSchools(): Promise<School[]> {
  return get('/schools')
}
