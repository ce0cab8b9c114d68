// The overview's chart options (ECharts): bars by category, the kinds of problem, and the trends.
import type { Stats } from './stats'

type Kind = NonNullable<Stats['by_kind']>[number]
interface Series { name: string, data: (number | undefined)[], color?: string }

const ROW_PX = 30

/**
 * Horizontal bars, one row a category, its series stacked. A name longer than the column is shortened with an
 * ellipsis (the tooltip has it whole); labels stay inside the grid (containLabel), never cut at the chart's edge.
 */
export function bars(names: string[], series: Series[]): Record<string, unknown> {
  return {
    tooltip: { trigger: 'axis' }, legend: { data: series.map((s) => s.name) },
    grid: { left: 16, right: 24, bottom: 16, top: 36, containLabel: true },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: names, axisLabel: { width: 180, overflow: 'truncate' } },
    series: series.map((s) => ({ name: s.name, type: 'bar', barMaxWidth: 36, data: s.data, stack: 'all',
      itemStyle: s.color ? { color: s.color } : undefined })),
  }
}

/** A horizontal bar chart's height: a row for each category, never lower than an ordinary chart. */
export function barsHeight(rows: number): string {
  return `${Math.max(300, 72 + rows * ROW_PX)}px`
}

/**
 * The kinds found in the period, in the order the kind chart draws them: ECharts lays a category axis from the
 * bottom up, so the most found comes last and stands on top (ties by kind, top down, for a steady order).
 */
export function chartedKinds(byKind: Kind[]): Kind[] {
  return byKind.filter((k) => (k.found ?? 0) > 0)
    .sort((a, b) => (a.found ?? 0) - (b.found ?? 0) || ((a.kind ?? '') < (b.kind ?? '') ? 1 : -1))
}

/**
 * 按问题类型: one row a kind, its bar what became of what was found (rectified, still open, withdrawn as a false
 * alarm), so a bar's length is the kind's 发现 and names of any length stay readable however many kinds there are
 * (side by side under upright bars, nine kinds' names ran into each other).
 */
export function kindChart(kinds: Kind[]): Record<string, unknown> {
  return bars(kinds.map((k) => k.label ?? ''), [
    { name: '已整改', data: kinds.map((k) => k.rectified), color: '#67c23a' },
    { name: '未完成', data: kinds.map((k) => k.in_progress), color: '#e6a23c' },
    { name: '误报撤销', data: kinds.map((k) => k.dismissed), color: '#c0c4cc' },
  ])
}

/** A trend over weeks (bars) or days (a line): found and rectified. */
export function trend(labels: string[], found: (number | undefined)[], rectified: (number | undefined)[], type: 'bar' | 'line'): Record<string, unknown> {
  return {
    tooltip: { trigger: 'axis' }, legend: { data: ['发现', '整改完成'] },
    grid: { left: 16, right: 16, bottom: 16, top: 36, containLabel: true },
    xAxis: { type: 'category', data: labels }, yAxis: { type: 'value', minInterval: 1 },
    series: [{ name: '发现', type, data: found }, { name: '整改完成', type, data: rectified }],
  }
}
