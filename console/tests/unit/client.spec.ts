import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, configureClient, download, fillPath, get, post } from '../../src/api/client'

function answer(status: number, body: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

describe('api client', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('fills path parameters and refuses a missing one', () => {
    expect(fillPath('/violations/{violation_id}/start', { violation_id: 12 })).toBe('/violations/12/start')
    expect(() => fillPath('/schools/{school_id}')).toThrow('school_id')
  })

  it('sends the bearer token, the query without empty values and a JSON body', async () => {
    const calls: [string, RequestInit][] = []
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push([url, init])
      return answer(200, { found: 3 })
    })
    configureClient({ token: () => 'tok', onUnauthorized: () => undefined })
    const stats = await get('/stats', { query: { region_id: 7, from: undefined, to: '2026-12-01' } })
    expect(stats.found).toBe(3)
    expect(calls[0][0]).toBe('/api/v1/stats?region_id=7&to=2026-12-01')
    expect((calls[0][1].headers as Record<string, string>).Authorization).toBe('Bearer tok')
    await post('/violations/{violation_id}/dismiss', { params: { violation_id: 5 }, body: { reason: '误报' } })
    expect(calls[1][0]).toBe('/api/v1/violations/5/dismiss')
    expect(calls[1][1].method).toBe('POST')
    expect(JSON.parse(calls[1][1].body as string)).toEqual({ reason: '误报' })
  })

  it('downloads a file with the token and the name the server gave it', async () => {
    const calls: [string, RequestInit][] = []
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push([url, init])
      return new Response(new Uint8Array([80, 75]), { status: 200, headers: {
        'Content-Disposition': "attachment; filename=stats.xlsx; filename*=UTF-8''%E8%A5%BF%E6%B9%96%E5%8C%BA-%E6%80%BB%E8%A7%88.xlsx" } })
    })
    configureClient({ token: () => 'tok', onUnauthorized: () => undefined })
    const file = await download('/stats/export', { query: { region_id: 3 } })
    expect(file.filename).toBe('西湖区-总览.xlsx')
    expect(file.blob.size).toBe(2)
    expect(calls[0][0]).toBe('/api/v1/stats/export?region_id=3')
    expect((calls[0][1].headers as Record<string, string>).Authorization).toBe('Bearer tok')
  })

  it('turns the error shape into an ApiError with field errors', async () => {
    vi.stubGlobal('fetch', async () => answer(422, {
      error: { code: 'validation_error', message: '输入有误', details: { fields: { measures: ['太短', '必填'] } } },
    }))
    configureClient({ token: () => null, onUnauthorized: () => undefined })
    const error = await post('/violations/{violation_id}/rectifications',
      { params: { violation_id: 1 }, body: { measures: 'x', photos: [] } }).catch((e) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error.status).toBe(422)
    expect(error.message).toBe('输入有误')
    expect(error.fields).toEqual({ measures: '太短；必填' })
  })

  it('puts a rule\'s refusal next to the one field it names', async () => {
    vi.stubGlobal('fetch', async () => answer(422, {
      error: { code: 'phone_invalid', message: '请填写正确的11位手机号码', details: { field: 'phone' } },
    }))
    configureClient({ token: () => null, onUnauthorized: () => undefined })
    const error = await get('/me/notice-channels').catch((e) => e)
    expect(error.fields).toEqual({ phone: '请填写正确的11位手机号码' })
    expect(new ApiError(422, 'x', '整体', {}).fields).toEqual({})
  })

  it('reports a 401 to the session before throwing', async () => {
    vi.stubGlobal('fetch', async () => answer(401, { error: { code: 'unauthorized', message: '请先登录', details: {} } }))
    const expired = vi.fn()
    configureClient({ token: () => 'old', onUnauthorized: expired })
    await expect(get('/me')).rejects.toMatchObject({ status: 401 })
    expect(expired).toHaveBeenCalledOnce()
  })
})
