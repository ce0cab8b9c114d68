import { afterEach, describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'
import { clearDraft, useDraft } from '../../src/services/drafts'
import { deskOf, type User } from '../../src/services/session'
import { shanghaiDay, shanghaiTime } from '../../src/services/time'
import { barRange, instantAt, layout, shanghaiIso, ticks, type Timeline } from '../../src/services/playback'
import { configureClient } from '../../src/api/client'
import { percent, scopeOf } from '../../src/services/stats'
import { useBusy } from '../../src/services/loaded'
import { actionsFor, escalateViolation, listViolations, occurredText } from '../../src/services/violations'
import { consoleLink } from '../../src/services/inbox'

describe('desk of a user', () => {
  it('is the regulated region first, then an active staff binding, else none', () => {
    const regulator = { regulator_scopes: [{ region_id: 3, region_name: '西湖区' }], memberships: [] } as User
    expect(deskOf(regulator)).toEqual({ kind: 'region', id: 3, name: '西湖区', role: 'regulator' })
    const principal = { regulator_scopes: [], memberships: [
      { school_id: 1, school_name: '甲校', role: 'parent', status: 'active' },
      { school_id: 2, school_name: '乙校', role: 'principal', status: 'pending' },
      { school_id: 4, school_name: '丁校', role: 'principal', status: 'active' },
    ] } as User
    expect(deskOf(principal)).toEqual({ kind: 'school', id: 4, name: '丁校', role: 'principal' })
    const parent = { regulator_scopes: [], memberships: [{ school_id: 1, role: 'parent', status: 'active' }] } as User
    expect(deskOf(parent)).toBeNull()
  })
})

describe('violation actions and figures', () => {
  it('offers each role what the API lets it do', () => {
    expect(actionsFor('staff', 'notified', 'principal')).toEqual(['start'])
    expect(actionsFor('manager', 'rectifying', 'principal')).toEqual(['submit'])
    expect(actionsFor('principal', 'submitted', 'principal')).toEqual(['review', 'dismiss', 'escalate'])
    expect(actionsFor('principal', 'open', 'principal')).toEqual(['dismiss', 'escalate'])
    expect(actionsFor('principal', 'closed', 'principal')).toEqual([])
    // Escalated (or found by a regulator): the regulator reviews and dismisses, the principal no longer does.
    expect(actionsFor('regulator', 'open', 'regulator')).toEqual(['dismiss'])
    expect(actionsFor('regulator', 'submitted', 'regulator')).toEqual(['review', 'dismiss'])
    expect(actionsFor('principal', 'submitted', 'regulator')).toEqual([])
    expect(actionsFor('regulator', 'submitted', 'principal')).toEqual([])
  })

  afterEach(() => vi.unstubAllGlobals())

  it('hands a problem to the regulators with the reason', async () => {
    const calls: [string, RequestInit][] = []
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push([url, init])
      return new Response(JSON.stringify({ id: 7, reviewer: 'regulator' }), { status: 200, headers: { 'Content-Type': 'application/json' } })
    })
    configureClient({ token: () => 'tok', onUnauthorized: () => undefined })
    expect((await escalateViolation(7, '学校无法解决')).reviewer).toBe('regulator')
    expect(calls[0][0]).toMatch(/\/api\/v1\/violations\/7\/escalate$/)
    expect(calls[0][1].method).toBe('POST')
    expect(JSON.parse(calls[0][1].body as string)).toEqual({ reason: '学校无法解决' })
  })

  it('asks the API for the overview figure, period and drill-down level, and reads the total', async () => {
    const urls: string[] = []
    vi.stubGlobal('fetch', async (url: string) => {
      urls.push(url)
      return new Response(JSON.stringify([{ id: 9 }]), { status: 200, headers: { 'X-Total-Count': '321' } })
    })
    configureClient({ token: () => 'tok', onUnauthorized: () => undefined })
    const desk = { kind: 'region' as const, id: 3, name: '西湖区', role: 'regulator' }
    const page = await listViolations(desk, { state: 'in_progress', from: '2026-11-01', to: '2026-11-30', region_id: 8 }, 40)
    expect(page).toEqual({ rows: [{ id: 9 }], total: 321 })
    expect(urls[0]).toBe('/api/v1/regions/8/violations?state=in_progress&from=2026-11-01&to=2026-11-30&before_id=40&limit=50')
    await listViolations(desk, { overdue: true, school_id: 5 })
    expect(urls[1]).toBe('/api/v1/schools/5/violations?overdue=true&limit=50')
  })

  it('drills into a row and shows rates', () => {
    expect(scopeOf({ type: 'school', id: 4 })).toEqual({ kind: 'school', id: 4 })
    expect(scopeOf({ type: 'region', id: 2 })).toEqual({ kind: 'region', id: 2 })
    expect(percent(0.8567)).toBe('85.7%')
    expect(percent(null)).toBe('—')
  })
})

describe('Shanghai time', () => {
  it('shows any instant in Asia/Shanghai', () => {
    expect(shanghaiTime('2026-12-05T17:30:00Z')).toBe('2026-12-06 01:30')
    expect(shanghaiTime('2026-12-06T01:30:00+08:00')).toBe('2026-12-06 01:30')
    expect(shanghaiDay('2026-12-05T16:00:00Z')).toBe('2026-12-06')
    expect(shanghaiTime(null)).toBe('')
  })
})

describe('a violation\'s 发生时间', () => {
  it('shows only where it reads differently from 发现时间', () => {
    expect(occurredText({ occurred_at: '2026-03-11T02:00:20Z', created_at: '2026-03-11T02:00:50Z' })).toBeNull()
    // A record rule's finding: the sample deadline passed at 13:30, the rule ran at 13:35.
    expect(occurredText({ occurred_at: '2026-03-11T05:30:00Z', created_at: '2026-03-11T05:35:00Z' })).toBe('2026-03-11 13:30')
    expect(occurredText({ occurred_at: null, created_at: '2026-03-11T05:35:00Z' })).toBeNull()
  })
})

describe('where a notice opens on the desk', () => {
  const n = (subject_type: string, purpose: string, subject_id = 7, school_id: number | null = 1) =>
    ({ subject_type, purpose, subject_id, school_id })
  it('opens the page of what it is about, or nothing where the desk has no page for it', () => {
    expect(consoleLink(n('violation', 'violation_created'))).toBe('/violations/7')
    expect(consoleLink(n('violation', 'risk_card'))).toBe('/violations/7')
    expect(consoleLink(n('violation', 'report_progress'))).toBeNull()  // a parent's report: the phone's inbox
    expect(consoleLink(n('supervision_order', 'supervision_issued'))).toBe('/supervision/orders/7')
    expect(consoleLink(n('membership', 'binding_requested'))).toBe('/school?tab=members')
    expect(consoleLink(n('membership', 'binding_approved'))).toBeNull()
    expect(consoleLink(n('region', 'records_unreported', 3, null))).toBe('/unreported')
    // The 未报送 summary opens the day it is about (written 21:30 Shanghai), however late it is read.
    expect(consoleLink({ ...n('region', 'records_unreported', 3, null), created_at: '2026-12-07T21:30:00+08:00' }))
      .toBe('/unreported?day=2026-12-07')
    expect(consoleLink(n('region', 'risk_warnings', 3, null))).toBe('/warnings')
    expect(consoleLink(n('record', 'seal_placed', 27, 2))).toBe('/ledger?school=2')
    expect(consoleLink(n('something_new', 'x'))).toBeNull()
  })
})

describe('form drafts', () => {
  it('survive a reload of the page and are cleared once accepted', async () => {
    sessionStorage.clear()
    const form = useDraft('t', { measures: '' })
    form.measures = '已更换口罩'
    await nextTick()
    expect(useDraft('t', { measures: '' }).measures).toBe('已更换口罩')
    clearDraft('t', form, { measures: '' })
    expect(form.measures).toBe('')
    expect(useDraft('t', { measures: '' }).measures).toBe('')
  })
})

describe('form submission', () => {
  it('keeps the server field errors on failure and runs done only on success', async () => {
    const { ApiError } = await import('../../src/api/client')
    const { submitForm, useFormErrors } = await import('../../src/services/formErrors')
    const errors = useFormErrors()
    const done: string[] = []
    const failed = await submitForm(errors, async () => {
      throw new ApiError(422, 'validation_error', '请求参数不正确', { fields: { title: ['长度应在 2 到 100 之间'] } })
    }, () => done.push('no'))
    expect(failed).toBe(false)
    expect(errors.fields).toEqual({ title: '长度应在 2 到 100 之间' })
    expect(errors.message).toBe('请求参数不正确')
    expect(await submitForm(errors, async () => 7, (value) => done.push(`ok ${value}`))).toBe(true)
    expect(done).toEqual(['ok 7'])
    expect(errors.fields).toEqual({})
  })
})

describe('the playback bar', () => {
  const timeline = {
    start: '2026-11-23T00:00:00+08:00', end: '2026-11-24T00:00:00+08:00',
    recordings: [{ started_at: '2026-11-23T09:00:00+08:00', ended_at: '2026-11-23T09:30:00+08:00' }],
    gaps: [{ start: '2026-11-23T00:00:00+08:00', end: '2026-11-23T09:00:00+08:00' }],
    violations: [{ id: 7, kind: 'no_mask', title: '未戴口罩', at: '2026-11-23T09:15:00+08:00' }],
    health: [{ at: '2026-11-23T03:00:00+08:00', status: 'offline', label: '离线' }],
  } as unknown as Timeline

  it('places a day in percent, and zoomed the recorded part with a margin', () => {
    const day = layout(timeline)
    expect(day.recordings[0].left).toBeCloseTo(37.5)
    expect(day.recordings[0].width).toBeCloseTo(100 / 48)
    expect(day.marks.map((m) => m.kind)).toEqual(['violation', 'health'])
    const zoomed = barRange(timeline, true)
    expect(shanghaiIso(zoomed.from).slice(11, 16)).toBe('08:57')
    expect(shanghaiIso(zoomed.to).slice(11, 16)).toBe('09:33')
    const near = layout(timeline, zoomed)
    expect(near.marks.map((m) => m.label)).toEqual(['未戴口罩'])  // the 03:00 health mark lies outside
    expect(near.marks[0].left).toBeCloseTo(50)
    expect(instantAt(zoomed, 0.5)).toBe('2026-11-23T09:15:00.000+08:00')
    expect(ticks(barRange(timeline, false))).toEqual(['00:00', '06:00', '12:00', '18:00', '24:00'])
  })
})

describe('a page\'s loading flag and error line', () => {
  it('holds the flag while the work runs, clears the old error and keeps the failure\'s message', async () => {
    const busy = useBusy()
    busy.error.value = '上次的错误'
    let finish: () => void = () => undefined
    const running = busy.run(() => new Promise<void>((resolve) => { finish = resolve }))
    expect([busy.loading.value, busy.error.value]).toEqual([true, ''])
    finish()
    expect(await running).toBe(true)
    expect(busy.loading.value).toBe(false)
    expect(await busy.run(async () => { throw new Error('网络错误') })).toBe(false)
    expect([busy.loading.value, busy.error.value]).toEqual([false, '网络错误'])
  })

  it('shares one error line between a page\'s flags', async () => {
    const list = useBusy()
    const exporting = useBusy(list.error)
    await exporting.run(async () => { throw new Error('导出失败') })
    expect(list.error.value).toBe('导出失败')
    expect(list.loading.value).toBe(false)
    await list.run(async () => undefined)
    expect(exporting.error.value).toBe('')
  })
})
