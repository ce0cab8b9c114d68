import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, configureClient } from '../../src/api/client'
import {
  GROUP_GAP_MS, alarmStats, canExportTrainingSet, exportTrainingSet, groupAlarms, listAlarms, mergeAlarms,
  newerThan, reviewAlarm, watchAlarms, type Alarm,
} from '../../src/services/alarms'
import { menuFor } from '../../src/services/menu'
import type { Desk, User } from '../../src/services/session'

const T0 = Date.parse('2026-12-06T10:00:00+08:00')

function alarm(id: number, minutesBefore: number, camera = 1, kind = 'no_mask'): Alarm {
  return { id, camera_id: camera, kind, camera_name: `cam${camera}`, kind_label: kind, school_name: '甲校',
    occurred_at: new Date(T0 - minutesBefore * 60_000).toISOString() } as Alarm
}

function answer(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const school: Desk = { kind: 'school', id: 4, name: '甲校', role: 'staff' }
const region: Desk = { kind: 'region', id: 3, name: '西湖区', role: 'regulator' }

describe('grouping per camera and event', () => {
  it('joins one camera and kind within 10 minutes, even with other cameras in between', () => {
    const groups = groupAlarms([alarm(6, 0), alarm(5, 2, 2), alarm(4, 5), alarm(3, 15), alarm(2, 26), alarm(1, 27, 1, 'smoking')])
    expect(groups.map((g) => g.items.map((i) => i.id))).toEqual([[6, 4, 3], [5], [2], [1]])
    expect(groups[0].camera_name).toBe('cam1')
    expect(GROUP_GAP_MS).toBe(600_000)
  })

  it('splits exactly past the gap, as the server does', () => {
    expect(groupAlarms([alarm(2, 0), alarm(1, 10)]).length).toBe(1)
    expect(groupAlarms([alarm(2, 0), alarm(1, 10.01)]).length).toBe(2)
  })

  it('merges pages without duplicates, newest first, and counts what is new', () => {
    const merged = mergeAlarms([alarm(5, 0), alarm(4, 1)], [alarm(4, 1), alarm(2, 3)])
    expect(merged.map((a) => a.id)).toEqual([5, 4, 2])
    expect(newerThan(merged, 4)).toBe(1)
    expect(newerThan(merged, null)).toBe(0)
  })
})

describe('alarm service', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.useRealTimers()
  })

  it('shows the queue in the menu to whom /me allows alarm.review at the desk', () => {
    const titles = (user: object, desk: Desk | null) => menuFor(user as User, desk).map((entry) => entry.title)
    const regulator = { capabilities: { regulator: ['stats.read', 'alarm.review', 'live.play'], schools: {} } }
    expect(titles(regulator, region)).toEqual(['总览', '告警审核', '视频巡查'])
    const staff = { capabilities: { regulator: [], schools: { 4: ['alarm.review', 'school.read'], 5: ['stats.read'] } } }
    expect(titles(staff, school)).toEqual(['告警审核', '学校管理'])
    const manager = { capabilities: { regulator: [], schools: { 4: ['violation.read', 'school.read'] } } }
    expect(titles(manager, { ...school, role: 'manager' })).toEqual(['问题整改', '学校管理'])
    expect(titles(staff, null)).toEqual([])
  })

  it('asks the school or the region route with the filters', async () => {
    const urls: string[] = []
    vi.stubGlobal('fetch', async (url: string) => {
      urls.push(url)
      return answer(200, { items: [], groups: [], next_before_id: null })
    })
    configureClient({ token: () => 't', onUnauthorized: () => undefined })
    await listAlarms(school, { state: 'pending', kind: 'smoking' })
    await listAlarms(region, { state: 'all', school_id: 2 }, 40)
    await alarmStats(school)
    await alarmStats(region)
    expect(urls).toEqual(['/api/v1/schools/4/alarms?state=pending&kind=smoking&limit=50',
      '/api/v1/regions/3/alarms?state=all&before_id=40&limit=50&school_id=2', '/api/v1/schools/4/alarms/stats',
      '/api/v1/regions/3/alarms/stats'])
  })

  it('reports the field error of a false positive without a reason', async () => {
    vi.stubGlobal('fetch', async () => answer(422, { error: { code: 'reason_required', message: '标记误报时必须填写原因',
      details: { fields: { reason: ['标记误报时必须填写原因'] } } } }))
    const error = await reviewAlarm(9, 'false_positive', '').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).fields).toEqual({ reason: '标记误报时必须填写原因' })
  })

  it('sends corrected boxes with a confirmation', async () => {
    const bodies: unknown[] = []
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
      bodies.push(JSON.parse(String(init.body)))
      return answer(201, { created: true, alarm: { id: 9 } })
    })
    const box = { label: 'no_mask' as const, x1: 0.1, y1: 0.2, x2: 0.3, y2: 0.4 }
    await reviewAlarm(9, 'confirmed', '', [box])
    await reviewAlarm(9, 'confirmed')
    expect(bodies).toEqual([{ verdict: 'confirmed', reason: null, boxes: [box] },
      { verdict: 'confirmed', reason: null, boxes: null }])
  })

  it('offers the training set to whom /me allows training.export, and downloads the desk\'s', async () => {
    const principal = { capabilities: { admin: false, regulator: [], schools: { 4: ['alarm.review', 'training.export'] } } }
    const staff = { capabilities: { admin: false, regulator: [], schools: { 4: ['alarm.review'] } } }
    const regulator = { capabilities: { admin: false, regulator: ['alarm.review', 'training.export'], schools: {} } }
    expect(canExportTrainingSet(principal as User, school)).toBe(true)
    expect(canExportTrainingSet(staff as User, school)).toBe(false)
    expect(canExportTrainingSet(principal as User, { ...school, id: 5 })).toBe(false)
    expect(canExportTrainingSet(regulator as User, region)).toBe(true)
    expect(canExportTrainingSet(null, region)).toBe(false)
    const urls: string[] = []
    vi.stubGlobal('fetch', async (url: string) => {
      urls.push(url)
      return new Response(new Uint8Array([80, 75, 5, 6]), { status: 200, headers: {
        'Content-Type': 'application/zip', 'Content-Disposition': 'attachment; filename=training-set-school4.zip' } })
    })
    const original = URL.createObjectURL
    URL.createObjectURL = (() => 'blob:zip') as never
    const clicked = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined)
    try {
      expect(await exportTrainingSet(school)).toBe('training-set-school4.zip')
      await exportTrainingSet(region)
      expect(clicked).toHaveBeenCalledTimes(2)
    } finally {
      URL.createObjectURL = original
      clicked.mockRestore()
    }
    expect(urls).toEqual(['/api/v1/schools/4/alarms/training-set', '/api/v1/regions/3/alarms/training-set'])
  })

  it('polls the cursor and calls back only when the revision moves', async () => {
    vi.useFakeTimers()
    const revisions = ['db.1.0', 'db.1.0', 'db.2.0']
    vi.stubGlobal('fetch', async () => answer(200, { latest_id: 1, revision: revisions.shift() ?? 'db.2.0' }))
    const changed = vi.fn()
    const stop = watchAlarms(school, changed, 1000)
    await vi.advanceTimersByTimeAsync(0)
    await vi.advanceTimersByTimeAsync(1000)
    expect(changed).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1000)
    expect(changed).toHaveBeenCalledTimes(1)
    stop()
    await vi.advanceTimersByTimeAsync(5000)
    expect(changed).toHaveBeenCalledTimes(1)
  })
})
