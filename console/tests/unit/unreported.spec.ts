import { afterEach, describe, expect, it, vi } from 'vitest'
import { configureClient } from '../../src/api/client'
import { menuFor } from '../../src/services/menu'
import type { Desk, User } from '../../src/services/session'
import { loadUnreported, missingText } from '../../src/services/unreported'

const region: Desk = { kind: 'region', id: 3, name: '西湖区', role: 'regulator' }
const school: Desk = { kind: 'school', id: 4, name: '一小', role: 'principal' }

describe('未报送', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('is in the menu of a region desk allowed records.read, never of a school desk', () => {
    const titles = (user: object, desk: Desk) => menuFor(user as User, desk).map((entry) => entry.title)
    const regulator = { capabilities: { regulator: ['records.read', 'ledger.read'], schools: {} } }
    expect(titles(regulator, region)).toEqual(['台账', '未报送'])
    const principal = { capabilities: { regulator: [], schools: { 4: ['records.read', 'ledger.read'] } } }
    expect(titles(principal, school)).toEqual(['台账'])
  })

  it('asks the region route for the day and names what is missing', async () => {
    const urls: string[] = []
    vi.stubGlobal('fetch', async (url: string) => {
      urls.push(url)
      return new Response(JSON.stringify({ region_id: 3, date: '2026-03-02', generated_at: '', total: 2, reported: 1,
        canteens: [] }), { status: 200, headers: { 'Content-Type': 'application/json' } })
    })
    configureClient({ token: () => 't', onUnauthorized: () => undefined })
    await loadUnreported(region, '2026-03-02')
    await loadUnreported(region)
    expect(urls).toEqual(['/api/v1/regions/3/unreported?day=2026-03-02', '/api/v1/regions/3/unreported'])
    expect(missingText({ record: 'samples', record_label: '留样', meal: 'lunch', meal_label: '午餐', deadline: '' }))
      .toBe('午餐留样')
    expect(missingText({ record: 'morning_check', record_label: '晨检', meal: null, meal_label: null, deadline: '' }))
      .toBe('晨检')
  })
})
