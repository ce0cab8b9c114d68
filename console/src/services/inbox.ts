// 消息: the signed-in user's notices (the same inbox as the mini-program's 消息通知: every notice lands here,
// whatever WeChat did with its copy), and where each opens on the desk.
import { get, post, type Schemas } from '../api/client'
import { shanghaiDay } from './time'

export type Notice = Schemas['NoticeOut']
export type Inbox = Schemas['InboxOut']

/** A page of the inbox, newest first (older than ``beforeId`` when given), with the unread count. */
export function loadInbox(beforeId?: number, limit = 20): Promise<Inbox> {
  return get('/inbox', { query: beforeId ? { before_id: beforeId, limit } : { limit } })
}

/** Only the unread count (the header's badge polls it). */
export async function unreadCount(): Promise<number> {
  return (await get('/inbox', { query: { unread: true, limit: 1 } })).unread ?? 0
}

/** Mark one notice read; answers it as it stands now. */
export function markRead(id: number): Promise<Notice> {
  return post('/inbox/{notice_id}/read', { params: { notice_id: id } })
}

/** Mark every notice of the user read; answers how many were unread. */
export function markAllRead(): Promise<Schemas['ReadAllOut']> {
  return post('/inbox/read-all', {})
}

/**
 * The desk page a notice is about, or null when it has none here (a parent's report progress, an applicant's
 * decision): the violation, the supervision order, the members waiting for approval, the region's unreported
 * canteens or early warnings, the school's 台账 for a seal.
 */
export function consoleLink(n: Pick<Notice, 'subject_type' | 'subject_id' | 'purpose' | 'school_id' | 'created_at'>): string | null {
  switch (n.subject_type) {
    case 'violation':
      return n.purpose === 'report_progress' ? null : `/violations/${n.subject_id}`
    case 'supervision_order':
      return `/supervision/orders/${n.subject_id}`
    case 'membership':
      return n.purpose === 'binding_requested' ? '/school?tab=members' : null
    case 'region':
      // The 未报送 summary is of the day it was written on (21:30, its job's time even when run late), so it opens
      // that day: read the next morning, today's list would say something else.
      if (n.purpose === 'records_unreported') return n.created_at ? `/unreported?day=${shanghaiDay(n.created_at)}` : '/unreported'
      return n.purpose === 'risk_warnings' ? '/warnings' : null
    case 'record':
      return n.school_id ? `/ledger?school=${n.school_id}` : null
    default:
      return null
  }
}
