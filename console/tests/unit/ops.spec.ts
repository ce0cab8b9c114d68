import { afterEach, describe, expect, it, vi } from 'vitest'
import { configureClient } from '../../src/api/client'
import { menuFor } from '../../src/services/menu'
import {
  attemptsOf, errorHint, findUsers, listChannelDeliveries, listNotices, retryNotice, revokeSessions,
} from '../../src/services/ops'
import { personText } from '../../src/services/people'
import type { Desk, User } from '../../src/services/session'

const school: Desk = { kind: 'school', id: 4, name: '一小', role: 'principal' }

describe('通知投递', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('is the whole desk of an admin without region or school, an extra page of an admin at one, no one else\'s', () => {
    const titles = (user: object, desk: Desk | null) => menuFor(user as User, desk).map((entry) => entry.title)
    const admin = { capabilities: { admin: true, regulator: [], schools: {} } }
    expect(titles(admin, null)).toEqual(['通知投递', '用户与会话'])
    expect(titles(admin, school)).toContain('通知投递')
    expect(titles(admin, school)).toContain('用户与会话')
    expect(titles(admin, school)).toContain('总览')
    const principal = { capabilities: { admin: false, regulator: [], schools: { 4: ['stats.read'] } } }
    expect(titles(principal, school)).toEqual(['总览'])
    expect(titles({ capabilities: { admin: false, regulator: ['stats.read'], schools: {} } }, null)).toEqual([])
    expect(titles(principal, null)).toEqual([])
  })

  it('names a person as the school does: the name, then the role', () => {
    expect(personText('王芳', '食堂负责人')).toBe('王芳（食堂负责人）')
    expect(personText('王芳', null)).toBe('王芳')
    expect(personText(null, '家长')).toBe('')
  })

  it('explains the WeChat errors an admin can act on, and nothing else', () => {
    expect(errorHint('40003: invalid openid rid: 6a1f')).toContain('openid 无效')
    expect(errorHint('47003 argument invalid! data.thing1.value')).toContain('模板参数不合规')
    expect(errorHint('-1: system error')).toContain('自动重试')
    expect(errorHint('possibly_delivered: an earlier attempt may have arrived')).toBe('')
    expect(errorHint('40003')).toContain('AppID')
    expect(errorHint('400031 other')).toBe('')
    expect(errorHint(null)).toBe('')
  })

  it('uses the admin routes with their paging', async () => {
    const calls: string[] = []
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push(`${init.method} ${url}`)
      return new Response('[]', { status: 200, headers: { 'Content-Type': 'application/json' } })
    })
    configureClient({ token: () => 't', onUnauthorized: () => undefined })
    await listNotices('failed')
    await listNotices('unconfirmed', 90, 20)
    await attemptsOf(7)
    await retryNotice(7)
    await listChannelDeliveries('failed', 'sms', 12)
    expect(calls).toEqual([
      'GET /api/v1/admin/notices?status=failed&limit=50',
      'GET /api/v1/admin/notices?status=unconfirmed&before_id=90&limit=20',
      'GET /api/v1/admin/notices/7/attempts',
      'POST /api/v1/admin/notices/7/retry',
      'GET /api/v1/admin/channel-deliveries?status=failed&channel=sms&before_id=12&limit=50',
    ])
  })

  it('finds accounts by a text and ends an account\'s sessions, answering how many', async () => {
    const calls: string[] = []
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push(`${init.method} ${url}`)
      const body = url.includes('revoke') ? { revoked: 3 } : []
      return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } })
    })
    configureClient({ token: () => 't', onUnauthorized: () => undefined })
    expect(await findUsers('王 小明')).toEqual([])
    expect(await revokeSessions(12)).toBe(3)
    expect(calls).toEqual([
      'GET /api/v1/admin/users?q=%E7%8E%8B+%E5%B0%8F%E6%98%8E&limit=20',
      'POST /api/v1/users/12/revoke-sessions',
    ])
  })
})
