// The platform desk (admins). 通知投递: the WeChat copies of notices and the SMS and group-robot messages by delivery
// state, whom each went to, every attempt of a notice with WeChat's error explained, and 重试 for a failed one after
// its cause is fixed (routes of backend/notices/routes.py; the inbox copy of every notice exists whatever happens).
// 用户与会话: an account found by a name, the phone's last digits or its number, and 退出所有设备 for it
// (backend/accounts/user_search.py).
import { get, post, type Schemas } from '../api/client'

export type Delivery = Schemas['DeliveryOut']
export type ChannelDelivery = Schemas['ChannelDeliveryOut']
export type Attempt = Schemas['AttemptOut']
export type FoundUser = Schemas['FoundUserOut']
export type DeliveryStatus = keyof typeof DELIVERY_STATES
export type Channel = 'sms' | 'wecom'

// backend/notices/models.py NoticeStatus (the WeChat copy's and an SMS or robot message's state).
export const DELIVERY_STATES = {
  pending: '待发送', sent: '已发送', inbox_only: '仅站内消息', failed: '发送失败', unconfirmed: '可能已送达',
} as const

// backend/notices/models.py AttemptOutcome.
export const ATTEMPT_OUTCOMES: Record<string, string> = {
  in_flight: '发送中', sent: '成功', quota_spent: '订阅次数已用完', retry: '稍后重试', failed: '失败',
  unknown: '结果未知', interrupted: '发送中断',
}

export const CHANNEL_LABELS: Record<Channel, string> = { sms: '短信', wecom: '企业微信群机器人' }

// What an admin does about the subscribe-message errors they meet (WeChat's errcode, at the start of last_error).
const WECHAT_ERRORS: Record<string, string> = {
  '-1': '微信系统繁忙，会自动重试',
  40001: 'access_token 无效：检查小程序的 AppSecret 配置',
  40003: 'openid 无效：接收人不是本小程序的用户，检查 AppID 配置',
  40037: '模板 ID 无效：检查订阅消息模板配置（WECHAT_SUBSCRIBE_TEMPLATES）',
  41030: '跳转页面不存在：小程序版本中没有该页面',
  43101: '接收人未订阅或订阅次数已用完：消息只留在站内',
  45009: '调用超过微信的频率限制，会自动重试',
  47003: '模板参数不合规：某个字段超出微信的长度或格式限制',
}

/** What an admin can do about a delivery's last error: WeChat's code explained, or '' when it names none we know. */
export function errorHint(lastError: string | null | undefined): string {
  const code = /^(-?\d+)\b/.exec(lastError ?? '')?.[1]
  return code ? WECHAT_ERRORS[code] ?? '' : ''
}

/** A page of notices in one state, newest first (`beforeId`: the last id of the page before). */
export function listNotices(status: DeliveryStatus, beforeId?: number, limit = 50): Promise<Delivery[]> {
  return get('/admin/notices', { query: { status, before_id: beforeId, limit } })
}

/** Every send attempt of a notice, in order. */
export function attemptsOf(noticeId: number): Promise<Attempt[]> {
  return get('/admin/notices/{notice_id}/attempts', { params: { notice_id: noticeId } })
}

/** A failed notice gets a fresh budget of attempts, due now (after its cause is fixed; audited). */
export function retryNotice(noticeId: number): Promise<Delivery> {
  return post('/admin/notices/{notice_id}/retry', { params: { notice_id: noticeId } })
}

/** A page of SMS and robot messages in one state, of one channel or both. */
export function listChannelDeliveries(status: DeliveryStatus, channel?: Channel, beforeId?: number,
  limit = 50): Promise<ChannelDelivery[]> {
  return get('/admin/channel-deliveries', { query: { status, channel, before_id: beforeId, limit } })
}

/** The newest accounts `text` names: a name given when binding, a nickname, the phone's last 4+ digits, a user number. */
export function findUsers(text: string, limit = 20): Promise<FoundUser[]> {
  return get('/admin/users', { query: { q: text, limit } })
}

/** End every session of an account (a lost phone, someone who left); answers how many ended (audited). */
export async function revokeSessions(userId: number): Promise<number> {
  return (await post('/users/{user_id}/revoke-sessions', { params: { user_id: userId } })).revoked ?? 0
}
