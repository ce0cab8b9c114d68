import { describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import StatCard from '../../src/components/StatCard.vue'
import EChart from '../../src/components/EChart.vue'

describe('StatCard', () => {
  it('shows the figure and opens the list behind it on click', async () => {
    const card = mount(StatCard, { props: { label: '已超期', value: 4, testId: 'stat-overdue' } })
    expect(card.text()).toContain('已超期')
    expect(card.get('[data-test=value]').text()).toBe('4')
    await card.trigger('click')
    expect(card.emitted('open')).toHaveLength(1)
  })

  it('shows a dash when there is no figure', () => {
    const card = mount(StatCard, { props: { label: '整改率', value: null } })
    expect(card.get('[data-test=value]').text()).toBe('—')
  })
})

describe('EChart', () => {
  it('renders into a sized box', () => {
    const chart = mount(EChart, { props: { option: { series: [] }, height: '120px' } })
    expect(chart.get('.chart').attributes('style')).toContain('height: 120px')
    chart.unmount()
  })
})

describe('ChildrenTable (the overview drill-down)', () => {
  it('drills down by name and opens the list behind a figure', async () => {
    const { default: ChildrenTable } = await import('../../src/pages/overview/ChildrenTable.vue')
    const rows = [
      { type: 'region', id: 3, name: '西湖区', level: 'county', found: 5, rectified: 2, dismissed: 0, in_progress: 3, overdue: 1, rectification_rate: 0.4 },
      { type: 'school', id: 9, name: '文三路中学', level: 'school', found: 0, rectified: 0, dismissed: 0, in_progress: 0, overdue: 0, rectification_rate: null },
    ]
    const table = mount(ChildrenTable, { props: { rows }, attachTo: document.body })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(table.text()).toContain('区县')
    await table.get('[data-test="child-西湖区"]').trigger('click')
    expect(table.emitted('drill')?.[0]).toEqual([rows[0]])
    await table.get('[data-test="child-西湖区-overdue"]').trigger('click')
    expect(table.emitted('open')?.[0]).toEqual([rows[0], { overdue: true }])
    expect(table.get('[data-test="child-西湖区-in_progress"]').text()).toBe('3')
    expect(table.text()).toContain('40.0%')
    table.unmount()
  })
})

describe('App', () => {
  it('gives Element Plus its zh-cn locale (an empty table says 暂无数据, not No Data)', async () => {
    const { h } = await import('vue')
    const { ElTable } = await import('element-plus')
    const { createMemoryHistory, createRouter } = await import('vue-router')
    const { default: App } = await import('../../src/App.vue')
    const router = createRouter({ history: createMemoryHistory(), routes: [
      { path: '/', component: { render: () => h(ElTable, { data: [] }) }, meta: { public: true } }] })
    await router.push('/')
    await router.isReady()
    const app = mount(App, { global: { plugins: [router] } })
    await flushPromises()
    expect(app.text()).toContain('暂无数据')
    expect(app.text()).not.toContain('No Data')
    app.unmount()
  })
})

describe('LabelSelect', () => {
  it('offers a label table in its order and keeps the chosen key', async () => {
    const { default: LabelSelect } = await import('../../src/components/LabelSelect.vue')
    const select = mount(LabelSelect, {
      props: { labels: { failed: '发送失败', sent: '已发送' }, modelValue: 'failed' },
      attrs: { 'data-test': 'states' }, attachTo: document.body })
    await select.get('[data-test=states]').trigger('click')
    await flushPromises()
    const options = [...document.querySelectorAll('.el-select-dropdown__item')].map((o) => o.textContent?.trim())
    expect(options).toEqual(['发送失败', '已发送'])
    ;(document.querySelectorAll('.el-select-dropdown__item')[1] as HTMLElement).click()
    await flushPromises()
    expect(select.emitted('update:modelValue')?.[0]).toEqual(['sent'])
    select.unmount()
  })
})
