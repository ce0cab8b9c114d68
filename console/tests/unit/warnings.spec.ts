import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { configureClient } from '../../src/api/client'
import { menuFor } from '../../src/services/menu'
import { session, type Desk, type User } from '../../src/services/session'
import WarningsPage from '../../src/pages/risk/WarningsPage.vue'

const region: Desk = { kind: 'region', id: 3, name: '西湖区', role: 'regulator' }
const school: Desk = { kind: 'school', id: 1, name: '西湖实验小学', role: 'principal' }

const WARNINGS = [
  { id: 7, kind: 'supplier_certificate', kind_label: '供应商证照到期', school_id: 1, school_name: '西湖实验小学',
    canteen_id: 1, canteen_name: '学生食堂', reason: '供应商「绿源」的食品经营许可证将于 2026-12-20 到期（还剩 20 天）。',
    data: { supplier_id: 4, supplier_name: '绿源', certificate_label: '食品经营许可证', valid_until: '2026-12-20' },
    raised_at: '2026-11-30T02:30:00+08:00', seen_at: '2026-11-30T02:30:00+08:00', resolved_at: null, active: true,
    acknowledged_at: null, ack_note: null },
  { id: 6, kind: 'repeated_violation', kind_label: '同类问题反复出现', school_id: 2, school_name: '文三路中学',
    canteen_id: 2, canteen_name: '学生食堂', reason: '学生食堂近 30 天出现 3 次“未佩戴口罩”。',
    data: { kind_label: '未佩戴口罩', days: 30, count: 3, limit_count: 3, violation_ids: [11, 12, 13] },
    raised_at: '2026-11-29T02:30:00+08:00', seen_at: '2026-11-30T02:30:00+08:00', resolved_at: null, active: true,
    acknowledged_at: '2026-11-30T09:00:00+08:00', ack_note: '已约谈食堂负责人' },
]

async function page(user: object): Promise<{ text: string, urls: string[], acknowledge: number }> {
  const urls: string[] = []
  vi.stubGlobal('fetch', async (url: string) => {
    urls.push(url)
    return new Response(JSON.stringify(WARNINGS), { status: 200, headers: { 'Content-Type': 'application/json' } })
  })
  configureClient({ token: () => 't', onUnauthorized: () => undefined })
  session.user = user as User
  // ElTag's mount hook needs a real layout (not jsdom's): a plain span shows the same label.
  const wrapper = mount(WarningsPage, { global: { stubs: { 'router-link': { template: '<a><slot /></a>' },
    ElTag: { template: '<span><slot /></span>' } } } })
  await flushPromises()
  const shown = { text: wrapper.text(), urls, acknowledge: wrapper.findAll('[data-test=acknowledge]').length }
  wrapper.unmount()
  return shown
}

describe('风险预警 page', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    session.user = null
  })

  it('is in the menu of a principal and a regulator allowed risk.warnings, not of the kitchen manager', () => {
    const titles = (user: object, desk: Desk) => menuFor(user as User, desk).map((entry) => entry.title)
    expect(titles({ capabilities: { regulator: ['risk.read', 'risk.warnings'], schools: {} } }, region))
      .toEqual(['风险警示', '风险预警'])
    expect(titles({ capabilities: { regulator: [], schools: { 1: ['risk.read', 'risk.warnings'] } } }, school))
      .toEqual(['风险警示', '风险预警'])
    expect(titles({ capabilities: { regulator: [], schools: { 1: ['risk.read'] } } }, school)).toEqual(['风险警示'])
  })

  it('lists a region\'s warnings with their reason, data and problems; an unacknowledged one offers the regulator 确认', async () => {
    const shown = await page({ regulator_scopes: [{ region_id: 3, region_name: '西湖区' }], memberships: [] })
    expect(shown.urls).toEqual(['/api/v1/regions/3/risk/warnings?state=open'])
    expect(shown.text).toContain('供应商「绿源」的食品经营许可证将于 2026-12-20 到期')
    expect(shown.text).toContain('供应商记录 4：绿源')
    expect(shown.text).toContain('未佩戴口罩：近 30 天 3 次（预警线 3 次）')
    expect(shown.text).toContain('#11#12#13')
    expect(shown.text).toContain('已约谈食堂负责人')
    expect(shown.text).toContain('文三路中学')
    expect(shown.acknowledge).toBe(1)
  })

  it('shows a principal the school\'s warnings without the acknowledge button', async () => {
    const shown = await page({ regulator_scopes: [], memberships: [
      { status: 'active', role: 'principal', school_id: 1, school_name: '西湖实验小学' }] })
    expect(shown.urls).toEqual(['/api/v1/schools/1/risk/warnings?state=open'])
    expect(shown.acknowledge).toBe(0)
    expect(shown.text).toContain('待监管确认')
  })
})
