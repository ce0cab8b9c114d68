import { afterEach, describe, expect, it, vi } from 'vitest'
import { configureClient } from '../../src/api/client'
import {
  cardType, figuresText, hoursText, loadCards, ratingType, settingsBody, type Card, type RiskSettings,
} from '../../src/services/risk'

const settings = {
  region_id: 3,
  kinds: [
    { kind: 'rodent', risk_class: 1, deadline_hours: 12, source: 'default' },
    { kind: 'smoking', risk_class: 2, deadline_hours: 12, source: 'own' },
    { kind: 'no_mask', risk_class: 3, deadline_hours: 48, source: 'inherited' },
  ],
  cards: { yellow_after_hours: 0, red_after_hours: 120, source: 'default' },
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
    })
  })

  it('sends new card durations, and inherits only what the region set itself', () => {
    const kinds = [{ kind: 'rodent' as const, risk_class: 1 as const, deadline_hours: 12, inherit: true }]
    expect(settingsBody(settings, kinds, { yellow_after_hours: 6, red_after_hours: 72, inherit: false })).toEqual({
      kinds: [], cards: { yellow_after_hours: 6, red_after_hours: 72, inherit: false },
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

describe('food-safety index', () => {
  it('names the figures of a component and colours the rating', () => {
    expect(figuresText({ name: 'timeliness', figures: { due: 4, late: 3, rate: 75 } })).toBe('到期 4，逾期 3，比率% 75')
    expect(figuresText({ name: 'uptime', figures: { rate: null } })).toBe('比率% —')
    expect([ratingType('A'), ratingType('B'), ratingType('C')]).toEqual(['success', 'warning', 'danger'])
  })
})
