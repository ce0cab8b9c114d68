// 问题整改: lists with filters, the detail, and each role's actions (routes of backend/violations/routes.py).
import { get, getPage, post, postForm, type Schemas } from '../api/client'
import type { Photo } from './photos'
import type { Desk } from './session'
import type { paths } from '../api/schema'
import { shanghaiTime } from './time'

type ListQuery = NonNullable<paths['/api/v1/schools/{school_id}/violations']['get']['parameters']['query']>

export type Violation = Schemas['ViolationOut']
export type ViolationDetail = Schemas['ViolationDetailOut']

/** A rectification's verdict as the reviewer gave it (RectificationOut.verdict). */
export const VERDICT_LABELS: Record<string, string> = { accepted: '通过', rejected: '驳回' }

export const PAGE_SIZE = 50
/** The API counts a list's matches up to this; one more means "more than". */
export const TOTAL_CAP = 10000

export const STATUS_OPTIONS = [
  { value: 'open', label: '待通知' }, { value: 'notified', label: '待整改' },
  { value: 'rectifying', label: '整改中' }, { value: 'submitted', label: '待复核' },
  { value: 'rejected', label: '已驳回' }, { value: 'closed', label: '已办结' },
]

export interface ViolationFilters {
  status?: ListQuery['status']
  kind?: ListQuery['kind']
  source?: ListQuery['source']
  overdue?: boolean
  school_id?: number
  /** A region below the desk's (the overview's drill-down); the desk's own region when absent. */
  region_id?: number
  from?: string
  to?: string
  /** The overview's figures: in_progress (not closed), rectified or dismissed (closed that way). */
  state?: ListQuery['state']
}

export interface ViolationPage { rows: Violation[], total: number }

/** A page of the desk's violations (or of one school or sub-region of a regulator's), newest first, filtered by
 * the API (the same definitions as /stats), older than `beforeId` when given; `total` counts every match. */
export function listViolations(desk: Desk, filters: ViolationFilters, beforeId?: number): Promise<ViolationPage> {
  const query = {
    status: filters.status, kind: filters.kind, source: filters.source, overdue: filters.overdue, state: filters.state,
    from: filters.from, to: filters.to, before_id: beforeId, limit: PAGE_SIZE,
  }
  const schoolId = desk.kind === 'school' ? desk.id : filters.school_id
  return schoolId
    ? getPage('/schools/{school_id}/violations', { params: { school_id: schoolId }, query })
    : getPage('/regions/{region_id}/violations', { params: { region_id: filters.region_id ?? desk.id }, query })
}

/** One violation with evidence, timeline and rectifications. */
export function loadViolation(id: number): Promise<ViolationDetail> {
  return get('/violations/{violation_id}', { params: { violation_id: id } })
}

/** Take the problem on (canteen manager or staff). */
export function startViolation(id: number, note: string): Promise<ViolationDetail> {
  return post('/violations/{violation_id}/start', { params: { violation_id: id }, body: { note: note || null } })
}

/** Upload a rectification (or report) photo to the violation's school; its key goes with the submission. Only
 * its uploader may reference it, so the desk that submits must upload. */
export function uploadViolationPhoto(schoolId: number, file: Blob, filename: string): Promise<Photo> {
  const form = new FormData()
  form.append('file', file, filename)
  return postForm('/schools/{school_id}/violation-photos', { params: { school_id: schoolId }, form })
}

/** Submit what was done, with photo keys uploaded first. */
export function submitRectification(id: number, measures: string, photos: string[] = []): Promise<ViolationDetail> {
  return post('/violations/{violation_id}/rectifications', { params: { violation_id: id }, body: { measures, photos } })
}

/** Accept or reject the submitted rectification (principal or regulator). */
export function reviewViolation(id: number, approve: boolean, reason: string): Promise<ViolationDetail> {
  return post('/violations/{violation_id}/review',
    { params: { violation_id: id }, body: { approve, reason: reason || null } })
}

/** Withdraw a false alarm with the reason on record. */
export function dismissViolation(id: number, reason: string): Promise<ViolationDetail> {
  return post('/violations/{violation_id}/dismiss', { params: { violation_id: id }, body: { reason } })
}

/** Hand the problem to the region's regulators (the principal), who review it from then on. */
export function escalateViolation(id: number, reason: string): Promise<ViolationDetail> {
  return post('/violations/{violation_id}/escalate', { params: { violation_id: id }, body: { reason } })
}

/**
 * When the problem happened (the frame, the missed deadline, the outage reaching meal hours): the deadline
 * runs from it. Shown beside 发现时间 (when the platform registered it, what the figures count by) only where
 * the two read differently, as a record rule's finding minutes after its deadline or a detection caught up
 * after a worker restart.
 */
export function occurredText(v: { occurred_at?: string | null, created_at?: string | null }): string | null {
  const occurred = shanghaiTime(v.occurred_at)
  return occurred && occurred !== shanghaiTime(v.created_at) ? occurred : null
}

/** Which actions the desk's role may take on a violation in its current status; `reviewer` (the violation's:
 * principal, or regulator once escalated or found by one) names who reviews and dismisses, and only the
 * principal hands a problem still with the school to the regulators. */
export function actionsFor(role: string, status: string, reviewer: string): string[] {
  const actions: string[] = []
  const rectifier = role === 'manager' || role === 'staff'
  const reviews = role === reviewer && (role === 'principal' || role === 'regulator')
  if (rectifier && ['open', 'notified', 'rejected'].includes(status)) actions.push('start')
  if (rectifier && status === 'rectifying') actions.push('submit')
  if (reviews && status === 'submitted') actions.push('review')
  if (reviews && status !== 'closed') actions.push('dismiss')
  if (reviews && role === 'principal' && status !== 'closed') actions.push('escalate')
  return actions
}
