import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
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
