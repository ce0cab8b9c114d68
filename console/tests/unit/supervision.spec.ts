import { afterEach, describe, expect, it, vi } from 'vitest'
import { configureClient } from '../../src/api/client'
import {
  canteenName, canteenNames, inspectorLabel, otherInspectors, roundInspectors, uploadFindingPhoto,
  type InspectorChoice, type Round,
} from '../../src/services/supervision'

const CHOICES: InspectorChoice[] = [
  { user_id: 3, name: '西湖区市场监管局', scope_region_id: 7, scope_region_name: '西湖区' },
  { user_id: 4, name: '西湖区市场监管局执法二组', scope_region_id: 7, scope_region_name: '西湖区' },
  { user_id: 9, name: '杭州市市场监管局', scope_region_id: 2, scope_region_name: '杭州市' },
  { user_id: 11, name: null, scope_region_id: 7, scope_region_name: '西湖区' },
]

describe('joint inspections by name', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('offers everyone of the region but oneself, by name, with the region of a wider authority', () => {
    const others = otherInspectors(CHOICES, 3)
    expect(others.map((c) => c.user_id)).toEqual([4, 9, 11])
    expect(others.map((c) => inspectorLabel(c, 7))).toEqual(
      ['西湖区市场监管局执法二组', '杭州市市场监管局（杭州市）', '用户 11'])
  })

  it('names a round\'s inspectors with the lead marked, and canteens by school and name', () => {
    const round = { inspectors: [{ user_id: 3, name: '西湖区市场监管局', lead: true },
      { user_id: 4, name: '执法二组', lead: false }] } as Round
    expect(roundInspectors(round)).toBe('西湖区市场监管局（带队）、执法二组')
    expect(canteenName({ canteen_id: 2, canteen_name: '一号食堂', school_name: '城西小学' })).toBe('城西小学 · 一号食堂')
    expect(canteenName({ canteen_id: 5, canteen_name: null, school_name: null })).toBe('食堂 5')
    expect(canteenNames([{ canteen_id: 1, canteen_name: '食堂', school_name: '甲校' },
      { canteen_id: 2, canteen_name: '食堂', school_name: '乙校' }])).toBe('甲校 · 食堂、乙校 · 食堂')
  })

  it('uploads a finding\'s photo as a form with the canteen and answers its key', async () => {
    const calls: [string, RequestInit][] = []
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push([url, init])
      return new Response(JSON.stringify({ key: 'inspections/1/2/a.png', url: 'https://x/a.png', size: 68 }),
        { status: 201, headers: { 'Content-Type': 'application/json' } })
    })
    configureClient({ token: () => 'tok', onUnauthorized: () => undefined })
    const photo = await uploadFindingPhoto(12, 2, new Blob(['png'], { type: 'image/png' }), 'fridge.png')
    expect(photo.key).toBe('inspections/1/2/a.png')
    const [url, init] = calls[0]
    expect(url).toMatch(/\/api\/v1\/inspections\/12\/photos$/)
    expect(init.method?.toUpperCase()).toBe('POST')
    const form = init.body as FormData
    expect(form.get('canteen_id')).toBe('2')
    expect((form.get('file') as File).name).toBe('fridge.png')
  })
})
