import { afterEach, describe, expect, it, vi } from 'vitest'
import { configureClient } from '../../src/api/client'
import {
  cardType, figuresText, hoursText, limitsBody, loadCards, loadWarnings, ratingType, settingsBody, warningFacts,
  warningViolationIds, type Card, type RiskSettings, type Warning,
} from '../../src/services/risk'

const settings = {
  region_id: 3,
  kinds: [
    { kind: 'rodent', risk_class: 1, deadline_hours: 12, source: 'default' },
    { kind: 'smoking', risk_class: 2, deadline_hours: 12, source: 'own' },
    { kind: 'no_mask', risk_class: 3, deadline_hours: 48, source: 'inherited' },
  ],
  cards: { yellow_after_hours: 0, red_after_hours: 120, source: 'default' },
  warnings: [
    { name: 'repeat_count', value: 3, source: 'default' },
    { name: 'uptime_min_percent', value: 90, source: 'own' },
    { name: 'drift_percent', value: 50, source: 'inherited' },
  ],
} as RiskSettings

describe('risk settings form', () => {
  it('sends only the kinds and durations that changed', () => {
    const body = settingsBody(settings, [
      { kind: 'rodent', risk_class: 1, deadline_hours: 12, inherit: false },
      { kind: 'smoking', risk_class: 2, deadline_hours: 12, inherit: true },
      { kind: 'no_mask', risk_class: 2, deadline_hours: 24, inherit: false },
    ], { yellow_after_hours: 0, red_after_hours: 120, inherit: false })
    expect(body).toEqual({
      kinds: [
        { kind: 'smoking', risk_class: null, deadline_hours: null, inherit: true },
        { kind: 'no_mask', risk_class: 2, deadline_hours: 24, inherit: false },
      ],
      cards: null,
      warnings: [],
    })
  })

  it('sends new card durations, and inherits only what the region set itself', () => {
    const kinds = [{ kind: 'rodent' as const, risk_class: 1 as const, deadline_hours: 12, inherit: true }]
    expect(settingsBody(settings, kinds, { yellow_after_hours: 6, red_after_hours: 72, inherit: false })).toEqual({
      kinds: [], cards: { yellow_after_hours: 6, red_after_hours: 72, inherit: false }, warnings: [],
    })
    expect(settingsBody(settings, [], { yellow_after_hours: 0, red_after_hours: 120, inherit: true }).cards).toBeNull()
  })
})

describe('cards', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('colours active cards by colour and lifted ones grey; durations in days when whole', () => {
    expect(cardType({ color: 'red', active: true } as Card)).toBe('danger')
    expect(cardType({ color: 'yellow', active: true } as Card)).toBe('warning')
    expect(cardType({ color: 'red', active: false } as Card)).toBe('info')
    expect([hoursText(120), hoursText(30), hoursText(0)]).toEqual(['5 天', '30 小时', '0 小时'])
  })

  it('reads a region desk\'s cards from the region and filters a school desk\'s by state', async () => {
    const urls: string[] = []
    vi.stubGlobal('fetch', async (url: string) => {
      urls.push(url)
      const body = url.includes('/regions/') ? [{ id: 1, active: true }]
        : { cards: [{ id: 1, active: true }, { id: 2, active: false }] }
      return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } })
    })
    configureClient({ token: () => 't', onUnauthorized: () => undefined })
    expect(await loadCards({ kind: 'region', id: 3, name: '西湖区', role: 'regulator' }, 'all')).toHaveLength(1)
    const lifted = await loadCards({ kind: 'school', id: 1, name: '甲校', role: 'principal' }, 'lifted')
    expect(lifted.map((c) => c.id)).toEqual([2])
    expect(urls).toEqual(['/api/v1/regions/3/risk/cards?state=all', '/api/v1/schools/1/risk'])
  })
})

describe('early warnings', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('sends only the limits that changed, and inherits only what the region set itself', () => {
    expect(limitsBody(settings, [
      { name: 'repeat_count', value: 3, inherit: false },
      { name: 'uptime_min_percent', value: 90, inherit: true },
      { name: 'drift_percent', value: 40, inherit: false },
    ])).toEqual([
      { name: 'uptime_min_percent', value: null, inherit: true },
      { name: 'drift_percent', value: 40, inherit: false },
    ])
    expect(limitsBody(settings, [{ name: 'drift_percent', value: 50, inherit: true }])).toEqual([])
  })

  it('shows the data behind a warning and the problems it rests on', () => {
    const completeness = { kind: 'records_completeness', data: { from: '2026-11-23', to: '2026-11-29', owed_days: 7,
      complete_days: 4, percent: 57, previous_percent: 100,
      missing_days: [{ date: '2026-11-27', missing: ['晨检', '午餐菜单'] }] } } as Warning
    expect(warningFacts(completeness)).toEqual([
      '2026-11-23 至 2026-11-29：应报送 7 天，完整 4 天（57%）；前7天 100%', '2026-11-27 缺晨检、午餐菜单'])
    const health = { kind: 'health_certificate', data: { staff_id: 9, name: '王五', post: '切配', valid_until: null } } as Warning
    expect(warningFacts(health)).toEqual(['人员记录 9：王五（切配）', '健康证有效期至 未登记'])
    const drift = { kind: 'rectification_drift', data: { violations: [
      { violation_id: 5, title: '后厨吸烟', due_at: '2026-11-30T01:30:00+08:00', used_percent: 108, overdue: true }] } } as Warning
    expect(warningFacts(drift)).toEqual(['后厨吸烟：期限 2026-11-30 01:30，已用时 108%（已逾期）'])
    expect(warningViolationIds(drift)).toEqual([5])
    expect(warningViolationIds({ kind: 'repeated_violation', data: { violation_ids: [1, 2, 3] } } as Warning))
      .toEqual([1, 2, 3])
    expect(warningViolationIds({ kind: 'camera_uptime', data: { uptime_7d: 80 } } as Warning)).toEqual([])
  })

  it('reads a region desk\'s warnings with its filters and a school desk\'s from the school', async () => {
    const urls: string[] = []
    vi.stubGlobal('fetch', async (url: string) => {
      urls.push(url)
      return new Response('[]', { status: 200, headers: { 'Content-Type': 'application/json' } })
    })
    configureClient({ token: () => 't', onUnauthorized: () => undefined })
    await loadWarnings({ kind: 'region', id: 3, name: '西湖区', role: 'regulator' },
      { state: 'open', kind: 'camera_uptime', schoolId: 2 })
    await loadWarnings({ kind: 'school', id: 1, name: '甲校', role: 'principal' }, { state: 'all', kind: '' })
    expect(urls).toEqual(['/api/v1/regions/3/risk/warnings?state=open&kind=camera_uptime&school_id=2',
      '/api/v1/schools/1/risk/warnings?state=all'])
  })
})

describe('food-safety index', () => {
  it('names the figures of a component and colours the rating', () => {
    expect(figuresText({ name: 'timeliness', figures: { due: 4, late: 3, rate: 75 } })).toBe('到期 4，逾期 3，比率% 75')
    expect(figuresText({ name: 'uptime', figures: { rate: null } })).toBe('比率% —')
    expect([ratingType('A'), ratingType('B'), ratingType('C')]).toEqual(['success', 'warning', 'danger'])
  })
})
