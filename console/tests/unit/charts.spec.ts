import { describe, expect, it } from 'vitest'
import { barsHeight, chartedKinds, kindChart } from '../../src/services/charts'

const byKind = [
  { kind: 'no_mask', label: '未佩戴口罩', found: 9, rectified: 5, in_progress: 4, dismissed: 0, overdue: 0 },
  { kind: 'rodent', label: '发现鼠患', found: 0, rectified: 0, in_progress: 0, dismissed: 0, overdue: 0 },
  { kind: 'phone', label: '操作时使用手机', found: 3, rectified: 0, in_progress: 0, dismissed: 3, overdue: 0 },
  { kind: 'camera_offline_meal', label: '就餐时段摄像头离线', found: 2, rectified: 2, in_progress: 0, dismissed: 0, overdue: 0 },
  { kind: 'no_uniform', label: '未穿工作服', found: 3, rectified: 1, in_progress: 2, dismissed: 0, overdue: 2 },
]

describe('按问题类型', () => {
  it('leaves out the kinds not found and draws the most found on top (ECharts lays categories bottom up)', () => {
    expect(chartedKinds(byKind).map((k) => k.kind)).toEqual(['camera_offline_meal', 'phone', 'no_uniform', 'no_mask'])
  })

  it('has a row for each kind, its bar as long as what was found: rectified, open and withdrawn stacked', () => {
    const kinds = chartedKinds(byKind)
    const option = kindChart(kinds) as { yAxis: { type: string, data: string[] }, xAxis: { type: string },
      series: { name: string, stack: string, data: number[] }[] }
    expect(option.yAxis.type).toBe('category')
    expect(option.xAxis.type).toBe('value')
    expect(option.yAxis.data).toEqual(['就餐时段摄像头离线', '操作时使用手机', '未穿工作服', '未佩戴口罩'])
    expect(option.series.map((s) => s.name)).toEqual(['已整改', '未完成', '误报撤销'])
    expect(new Set(option.series.map((s) => s.stack)).size).toBe(1)
    kinds.forEach((kind, row) => {
      expect(option.series.reduce((sum, s) => sum + s.data[row], 0)).toBe(kind.found)
    })
  })

  it('grows with the rows, never lower than an ordinary chart', () => {
    expect(barsHeight(2)).toBe('300px')
    expect(parseInt(barsHeight(20))).toBeGreaterThan(parseInt(barsHeight(9)))
    expect(parseInt(barsHeight(20)) / 20).toBeGreaterThanOrEqual(24)  // a readable row for each of the 20 kinds
  })
})
