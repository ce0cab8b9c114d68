import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, configureClient } from '../../src/api/client'
import {
  addRobot, channelsForm, classesText, deleteRobot, listRobots, loadChannels, quietText, saveChannels,
  updateRobot, type Channels, type Robot,
} from '../../src/services/robots'

const KEY = '693a91f6-7a0c-4bc4-97a0-0ec2f1fa5aaa'
const ROBOT = { id: 4, name: '食堂群', key_hint: '****5aaa', classes: [1, 2], enabled: true, scope: 'school' } as Robot

function answer(status: number, body: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

function recordCalls(reply: (url: string, init: RequestInit) => Response): [string, RequestInit][] {
  const calls: [string, RequestInit][] = []
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    calls.push([url, init])
    return reply(url, init)
  })
  configureClient({ token: () => 'tok', onUnauthorized: () => undefined })
  return calls
}

const sent = (call: [string, RequestInit]) => [call[1].method, call[0], call[1].body ? JSON.parse(call[1].body as string) : null]

afterEach(() => vi.unstubAllGlobals())

describe('group robots', () => {
  it('goes to the school\'s or the region\'s robots by the desk', async () => {
    const calls = recordCalls(() => answer(200, [ROBOT]))
    expect(await listRobots({ kind: 'school', id: 1 })).toEqual([ROBOT])
    await listRobots({ kind: 'region', id: 3 })
    expect(calls.map(sent)).toEqual([['GET', '/api/v1/schools/1/notice-robots', null],
      ['GET', '/api/v1/regions/3/notice-robots', null]])
  })

  it('adds a robot from a pasted webhook URL (trimmed), the classes it posts', async () => {
    const calls = recordCalls(() => answer(201, ROBOT))
    const url = `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${KEY}`
    await addRobot({ kind: 'region', id: 3 }, { name: '监管群', webhook_key: ` ${url}\n`, classes: [1], enabled: true })
    expect(calls.map(sent)).toEqual([['POST', '/api/v1/regions/3/notice-robots',
      { name: '监管群', webhook_key: url, classes: [1], enabled: true }]])
  })

  it('changes a robot keeping its key unless a new one is typed, and deletes it', async () => {
    const calls = recordCalls((url, init) => (init.method === 'DELETE' ? answer(204, undefined) : answer(200, ROBOT)))
    const owner = { kind: 'school' as const, id: 1 }
    await updateRobot(owner, ROBOT, { enabled: false })
    await updateRobot(owner, ROBOT, { name: '新群', classes: [1, 2, 3], webhook_key: `  ${KEY} ` })
    await updateRobot(owner, ROBOT, { webhook_key: '   ' })
    await deleteRobot(owner, ROBOT)
    expect(calls.map(sent)).toEqual([
      ['PUT', '/api/v1/schools/1/notice-robots/4', { name: '食堂群', classes: [1, 2], enabled: false, webhook_key: null }],
      ['PUT', '/api/v1/schools/1/notice-robots/4', { name: '新群', classes: [1, 2, 3], enabled: true, webhook_key: KEY }],
      ['PUT', '/api/v1/schools/1/notice-robots/4', { name: '食堂群', classes: [1, 2], enabled: true, webhook_key: null }],
      ['DELETE', '/api/v1/schools/1/notice-robots/4', null],
    ])
  })

  it('shows the server\'s refusal of a key next to the webhook field', async () => {
    recordCalls(() => answer(422, { error: { code: 'webhook_key_invalid',
      message: '请填写企业微信群机器人的 Webhook 地址或其中的 key', details: { field: 'webhook_key' } } }))
    const error = await addRobot({ kind: 'school', id: 1 }, { name: '群', webhook_key: 'abc', classes: [1], enabled: true })
      .catch((e) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error.fields).toEqual({ webhook_key: '请填写企业微信群机器人的 Webhook 地址或其中的 key' })
  })

  it('names the classes a robot posts', () => {
    expect(classesText([1, 2])).toBe('一级、二级')
    expect(classesText([3])).toBe('三级')
    expect(classesText(undefined)).toBe('')
  })
})

describe('my notice channels', () => {
  const stored = { inbox: true, wechat: true, sms: true, sms_classes: [1], phone: null, account_phone: '138****8000',
    sms_phone: '138****8000', quiet_start: '22:00', quiet_end: '07:00', updated_at: null } as Channels

  it('edits the bound phone or an own number, quiet hours as a switch', async () => {
    expect(channelsForm(stored)).toEqual({ wechat: true, sms: true, useBoundPhone: true, phone: '', sms_classes: [1],
      quiet: true, quiet_start: '22:00', quiet_end: '07:00' })
    expect(channelsForm({ ...stored, phone: '13900139000', quiet_start: null, quiet_end: null })).toMatchObject({
      useBoundPhone: false, phone: '13900139000', quiet: false, quiet_start: '22:00', quiet_end: '07:00' })
    expect(channelsForm({ ...stored, account_phone: null }).useBoundPhone).toBe(false)
    expect(quietText('22:00', '07:00')).toBe('22:00 至次日 07:00')
    expect(quietText('12:00', '14:00')).toBe('12:00 至 14:00')
  })

  it('reads and saves them: no number sent for the bound phone, no hours when quiet hours are off', async () => {
    const calls = recordCalls(() => answer(200, stored))
    await loadChannels()
    await saveChannels({ ...channelsForm(stored), sms_classes: [3, 1], quiet: false })
    await saveChannels({ ...channelsForm(stored), useBoundPhone: false, phone: ' 139 0013 9000 ' })
    expect(calls.map(sent)).toEqual([
      ['GET', '/api/v1/me/notice-channels', null],
      ['PUT', '/api/v1/me/notice-channels', { wechat: true, sms: true, phone: null, sms_classes: [1, 3],
        quiet_start: null, quiet_end: null }],
      ['PUT', '/api/v1/me/notice-channels', { wechat: true, sms: true, phone: '139 0013 9000', sms_classes: [1],
        quiet_start: '22:00', quiet_end: '07:00' }],
    ])
  })
})
