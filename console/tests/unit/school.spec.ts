import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, configureClient, fieldMessage } from '../../src/api/client'
import {
  cameraChanges, capabilitiesIn, createInvite, decideMember, deleteClass, inviteCodeUrl, inviteState, invitableRoles,
  listMembers, memberDetail, memberName, newCamera, revocable, publishParts, rotatePublishKey, saveNoticeSettings, sortWindows, updateCanteen, windowText, type Invite,
  type Member,
} from '../../src/services/school'
import type { User } from '../../src/services/session'

function answer(status: number, body: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

function recordCalls(reply: (url: string) => Response): [string, RequestInit][] {
  const calls: [string, RequestInit][] = []
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    calls.push([url, init])
    return reply(url)
  })
  configureClient({ token: () => 'tok', onUnauthorized: () => undefined })
  return calls
}

describe('school administration helpers', () => {
  it('reads what the caller may do in the desk school from /me', () => {
    const user = { is_admin: false, capabilities: { schools: { 1: ['members.read', 'invite.parent'] } } } as unknown as User
    expect([...capabilitiesIn(user, 1)]).toEqual(['members.read', 'invite.parent'])
    expect(capabilitiesIn(user, 2).size).toBe(0)
    expect(invitableRoles(capabilitiesIn(user, 1))).toEqual(['parent'])
    expect(invitableRoles(new Set(['invite.parent', 'invite.staff']))).toEqual(['parent', 'committee', 'manager', 'staff', 'principal'])
    expect(capabilitiesIn({ is_admin: true } as User, 9).has('school.manage')).toBe(true)
  })

  it('names members by name, with relation and class for parents', () => {
    const parent = { user_id: 7, applicant_name: '王小明妈妈', nickname: 'wx', relation: 'mother', child_class: '一年级一班' } as Member
    expect(memberName(parent)).toBe('王小明妈妈')
    expect(memberDetail(parent)).toBe('母亲 · 一年级一班')
    expect(memberName({ user_id: 8, applicant_name: null, nickname: '校长' } as Member)).toBe('校长')
    expect(memberName({ user_id: 9, applicant_name: null, nickname: null } as Member)).toBe('用户 9')
    expect(memberDetail({ relation: null, child_class: null } as Member)).toBe('')
  })

  it('offers to unbind an active member but never the only principal', () => {
    const principal = { id: 1, role: 'principal', status: 'active' } as Member
    const staff = { id: 2, role: 'staff', status: 'active' } as Member
    const former = { id: 3, role: 'principal', status: 'revoked' } as Member
    expect(revocable(staff, [principal, staff, former])).toBe(true)
    expect(revocable(principal, [principal, staff, former])).toBe(false)
    expect(revocable(former, [principal, staff, former])).toBe(false)
    const successor = { id: 4, role: 'principal', status: 'active' } as Member
    expect(revocable(principal, [principal, staff, successor])).toBe(true)
  })

  it('tells an invite state', () => {
    const now = new Date('2026-03-11T02:00:00Z')
    const open = { revoked: false, expires_at: '2026-03-12T10:00:00+08:00', uses: 0, max_uses: 2 } as Invite
    expect(inviteState(open, now)).toBe('有效')
    expect(inviteState({ ...open, uses: 2 }, now)).toBe('已用完')
    expect(inviteState({ ...open, expires_at: '2026-03-11T09:00:00+08:00' }, now)).toBe('已过期')
    expect(inviteState({ ...open, revoked: true }, now)).toBe('已撤销')
  })

  it('orders and reads weekly windows the way backend/timewindows.py means them', () => {
    const windows = [{ weekday: 2, start: '11:00', end: '12:00' }, { weekday: 0, start: '16:00', end: '23:59' },
      { weekday: 0, start: '06:30', end: '08:00' }]
    expect(sortWindows(windows).map(windowText)).toEqual(['周一 06:30–08:00', '周一 16:00–24:00', '周三 11:00–12:00'])
    expect(windows[0].weekday).toBe(2)  // not sorted in place
  })

  it('splits a publish URL into the server and the stream key, as OBS-like encoders ask for them', () => {
    expect(publishParts('rtmp://media.example.cn:1935/live/cam-12?key=Ab3_x-9')).toEqual(
      { server: 'rtmp://media.example.cn:1935/live', streamKey: 'cam-12?key=Ab3_x-9' })
    expect(publishParts('rtmp://127.0.0.1/app/live/cam-3?key=k')).toEqual(
      { server: 'rtmp://127.0.0.1/app/live', streamKey: 'cam-3?key=k' })
  })

  it('sends a camera secret only when one was typed', () => {
    const form = { name: '热厨', area_id: 3, source_kind: 'rtsp' as const, sampling_interval_seconds: '10' as unknown as number,
      enabled: true, enabled_checks: ['no_mask' as const], work_hours: [], source_url: '', source_username: '',
      source_password: 'pw' }
    const body = cameraChanges(form)
    expect(body).toEqual({ name: '热厨', area_id: 3, source_kind: 'rtsp', sampling_interval_seconds: 10, enabled: true,
      enabled_checks: ['no_mask'], work_hours: [], source_password: 'pw' })
    expect('source_url' in body).toBe(false)
    // A new camera carries its source; empty credentials are none, the area is in the URL.
    const created = newCamera({ ...form, source_url: 'rtsp://10.0.0.9/1', source_password: '' })
    expect(created).toMatchObject({ source_url: 'rtsp://10.0.0.9/1', source_username: null, source_password: null,
      regions_of_interest: [] })
    expect('area_id' in created).toBe(false)
    // A camera that pushes to the platform has no source: whatever was typed before choosing 推流 stays out.
    const pushes = { ...form, source_kind: 'push' as const, source_url: 'rtsp://typed-before/1', source_username: 'u' }
    expect(cameraChanges(pushes)).toEqual({ name: '热厨', area_id: 3, source_kind: 'push', sampling_interval_seconds: 10,
      enabled: true, enabled_checks: ['no_mask'], work_hours: [] })
    expect(newCamera(pushes)).toMatchObject({ source_kind: 'push', source_url: '', source_username: null,
      source_password: null })
  })
})

describe('school administration calls', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('uses the routes and methods of the API', async () => {
    const calls = recordCalls(() => answer(200, []))
    await listMembers(1, 'pending')
    await decideMember(5, false, '班级不符')
    await createInvite(1, { role: 'parent', max_uses: 5, expires_in_hours: 72, class_id: 4 })
    await updateCanteen(4, { live_windows: [] })
    await saveNoticeSettings(1, ['no_mask'])
    await rotatePublishKey(12)
    expect(calls.map(([url, init]) => `${init.method} ${url}`)).toEqual([
      'GET /api/v1/schools/1/memberships?status=pending', 'POST /api/v1/memberships/5/decision',
      'POST /api/v1/schools/1/invites', 'PATCH /api/v1/canteens/4', 'PUT /api/v1/schools/1/notice-settings',
      'POST /api/v1/live/cameras/12/publish-key'])
    expect(JSON.parse(calls[1][1].body as string)).toEqual({ approve: false, reason: '班级不符' })
    expect(JSON.parse(calls[4][1].body as string)).toEqual({ published_kinds: ['no_mask'] })
  })

  it('deletes a class and answers the refusal as an ApiError', async () => {
    const calls = recordCalls(() => answer(409, { error: { code: 'class_in_use', message: '该班级仍有家长绑定', details: {} } }))
    const error = await deleteClass(3).catch((e) => e)
    expect(calls[0][1].method).toBe('DELETE')
    expect(error).toBeInstanceOf(ApiError)
    expect([error.status, error.code]).toEqual([409, 'class_in_use'])
  })

  it('fetches the invite code image with the token and gives an object URL', async () => {
    const calls = recordCalls(() => new Response(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), { status: 200, headers: { 'Content-Type': 'image/png' } }))
    const created = vi.fn((blob: Blob) => `blob:${blob.size}`)
    const original = URL.createObjectURL
    URL.createObjectURL = created as never
    try {
      expect(await inviteCodeUrl(12, 'develop')).toBe('blob:4')  // the PNG's four bytes
    } finally {
      URL.createObjectURL = original
    }
    expect(calls[0][0]).toBe('/api/v1/invites/12/wxacode?env_version=develop')
    expect((calls[0][1].headers as Record<string, string>).Authorization).toBe('Bearer tok')
  })
})

describe('field errors of list items', () => {
  it('names the item the message belongs to', () => {
    expect(fieldMessage({ 0: { end: ['结束时间必须晚于开始时间'] }, 2: { weekday: ['必须在 0 到 6 之间'] } }))
      .toBe('第 1 条：结束时间必须晚于开始时间；第 3 条：必须在 0 到 6 之间')
    expect(fieldMessage(['太短', '必填'])).toBe('太短；必填')
    const error = new ApiError(422, 'validation_error', '输入有误', { fields: { live_windows: { 0: { end: ['x'] } } } })
    expect(error.fields).toEqual({ live_windows: '第 1 条：x' })
  })
})
