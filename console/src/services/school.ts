// 学校管理: members and approvals, invites with their mini-program codes, classes, notice settings, canteens,
// kitchen areas and cameras (routes of backend/accounts, backend/schools and the notice settings of
// backend/violations). Who may do what is the API's: the page asks /me's capabilities, never role names.
import { del, download, get, patch, post, put, type Schemas } from '../api/client'
import type { User } from './session'

export type Member = Schemas['MembershipOut']
export type Invite = Schemas['InviteOut']
export type SchoolClass = Schemas['SchoolClassOut']
export type Canteen = Schemas['CanteenOut']
export type Area = Schemas['AreaOut']
export type Camera = Schemas['CameraOut']
export type PublishKey = Schemas['PublishKeyOut']
export type Window = Schemas['WindowSchema']
export type MealWindow = Schemas['MealWindowSchema']
export type NoticeSettings = Schemas['NoticeSettingsOut']
export type AuditRow = Schemas['AuditOut']
export type Role = Schemas['InviteIn']['role']
export type AreaKind = Schemas['AreaIn']['kind']
export type Check = NonNullable<Schemas['CameraIn']['enabled_checks']>[number]
export type SourceKind = Schemas['CameraIn']['source_kind']
type Kind = Schemas['NoticeSettingsIn']['published_kinds'][number]

// The names of backend/accounts/models.py (Role, Relation) and backend/schools/models.py (AreaKind).
export const ROLE_LABELS: Record<string, string> = {
  parent: '家长', committee: '家委会成员', manager: '食堂负责人', staff: '学校食品安全管理员', principal: '校长',
}
export const STATUS_LABELS: Record<string, string> = {
  pending: '待审核', active: '已通过', rejected: '未通过', revoked: '已解除',
}
export const RELATION_LABELS: Record<string, string> = {
  father: '父亲', mother: '母亲', paternal_grandfather: '爷爷', paternal_grandmother: '奶奶',
  maternal_grandfather: '外公', maternal_grandmother: '外婆', guardian: '其他监护人',
}
export const AREA_KIND_LABELS: Record<string, string> = {
  hot_kitchen: '热厨区', prep: '粗加工区', cold_room: '冷荤间', storage: '库房', washing: '洗消间', sample_room: '留样间', dining: '就餐区',
}
export const SOURCE_KIND_LABELS: Record<SourceKind, string> = {
  rtsp: 'RTSP 视频流', rtmp: 'RTMP 视频流', hls: 'HLS 直播流', http_snapshot: 'HTTP 抓图', file: '本地视频文件（演示）',
  push: '摄像头推流到平台',
}
export const MEAL_LABELS: Record<string, string> = { breakfast: '早餐', lunch: '午餐', dinner: '晚餐' }
export const WEEKDAYS = ['周一', '周二', '周三', '周四', '周五', '周六', '周日']
// What a camera may check (backend/schools/schemas.py DETECTION_CHECKS); named like the violation kinds.
export const CAMERA_CHECKS = ['no_mask', 'no_hat', 'no_uniform', 'smoking', 'phone', 'rodent', 'person_after_hours',
  'camera_offline', 'camera_blurred', 'camera_occluded'] as const satisfies readonly Check[]

/** What the caller may do in a school (`/me` capabilities: action names such as `school.manage`). */
export function capabilitiesIn(user: User | null, schoolId: number): Set<string> {
  if (user?.is_admin) return new Set(['school.manage', 'classes.manage', 'camera.manage', 'members.read',
    'invite.parent', 'invite.staff', 'approve.parent', 'approve.staff', 'notice.settings'])
  return new Set(user?.capabilities?.schools?.[String(schoolId)] ?? [])
}

/** The roles an invite may be made for with these capabilities (staff roles only by the principal). */
export function invitableRoles(can: Set<string>): Role[] {
  const roles: Role[] = []
  if (can.has('invite.parent')) roles.push('parent')
  if (can.has('invite.staff')) roles.push('committee', 'manager', 'staff', 'principal')
  return roles
}

/** Who a member is, by name: the name given when applying, else the WeChat nickname, else the user number. */
export function memberName(member: Member): string {
  return member.applicant_name || member.nickname || `用户 ${member.user_id}`
}

/** Whether a binding can be ended: an active one, but not the school's only principal (the API refuses with
 * `last_principal`: bind the new principal first). */
export function revocable(member: Member, members: Member[]): boolean {
  if (member.status !== 'active') return false
  return member.role !== 'principal' || members.filter((m) => m.role === 'principal' && m.status === 'active').length > 1
}

/** "母亲 · 三年级二班" for a parent, "" for others. */
export function memberDetail(member: Member): string {
  return [member.relation ? RELATION_LABELS[member.relation] ?? member.relation : '', member.child_class ?? '']
    .filter(Boolean).join(' · ')
}

/** An invite's state in words: revoked, expired, used up, or still open. */
export function inviteState(invite: Invite, now: Date = new Date()): string {
  if (invite.revoked) return '已撤销'
  if (invite.expires_at && new Date(invite.expires_at) <= now) return '已过期'
  if ((invite.uses ?? 0) >= (invite.max_uses ?? 1)) return '已用完'
  return '有效'
}

/** Windows in the order the editor shows them: by weekday, then start. */
export function sortWindows<T extends Window>(windows: T[]): T[] {
  return [...windows].sort((a, b) => a.weekday - b.weekday || a.start.localeCompare(b.start))
}

/** A window as people read it: "周三 11:00–12:30"; an end of 23:59 runs through midnight (backend/timewindows.py). */
export function windowText(window: Window): string {
  return `${WEEKDAYS[window.weekday] ?? window.weekday} ${window.start}–${window.end === '23:59' ? '24:00' : window.end}`
}

/** The same window on every weekday from Monday to Friday (the usual school week), ready for the editor. */
export function weekdayWindows(start: string, end: string): Window[] {
  return [0, 1, 2, 3, 4].map((weekday) => ({ weekday, start, end }))
}

/** A school's bindings, newest first (optionally one status). */
export function listMembers(schoolId: number, status?: string): Promise<Member[]> {
  return get('/schools/{school_id}/memberships', { params: { school_id: schoolId }, query: status ? { status } as never : {} })
}

/** Approve or reject a pending binding. */
export function decideMember(id: number, approve: boolean, reason: string | null = null): Promise<Member> {
  return post('/memberships/{membership_id}/decision', { params: { membership_id: id }, body: { approve, reason } })
}

/** End an active binding. */
export function revokeMember(id: number, reason: string | null = null): Promise<Member> {
  return post('/memberships/{membership_id}/revoke', { params: { membership_id: id }, body: { reason } })
}

/** The school's invites the caller may issue, newest first. */
export function listInvites(schoolId: number): Promise<Invite[]> {
  return get('/schools/{school_id}/invites', { params: { school_id: schoolId } })
}

/** Create an invite (a parents' invite may name the child's class). */
export function createInvite(schoolId: number, body: { role: Role, max_uses: number, expires_in_hours: number,
  class_id: number | null }): Promise<Invite> {
  return post('/schools/{school_id}/invites', { params: { school_id: schoolId }, body })
}

/** Withdraw an invite. */
export function revokeInvite(id: number): Promise<Invite> {
  return post('/invites/{invite_id}/revoke', { params: { invite_id: id } })
}

/** The invite's mini-program code (PNG, made by WeChat) as an object URL for <img> and download. */
export async function inviteCodeUrl(id: number, envVersion: 'release' | 'trial' | 'develop'): Promise<string> {
  const image = await download('/invites/{invite_id}/wxacode', { params: { invite_id: id }, query: { env_version: envVersion } })
  return URL.createObjectURL(image.blob)
}

/** The school's classes in their order. */
// The categories of backend/audit/actions.py AuditCategory (the rows carry their own label; this names the filter).
export const AUDIT_CATEGORIES = {
  viewing: '直播与录像', records: '台账与导出', people: '成员与账号', setup: '学校与设备', supervision: '监管与整改',
  parent_meals: '家长陪餐',
} as const
export type AuditCategory = keyof typeof AUDIT_CATEGORIES

/** A page of the school's 操作日志, newest first: before `beforeId`, of one category or all (''). */
export function listAudit(schoolId: number, category: AuditCategory | '', beforeId?: number,
  limit = 50): Promise<AuditRow[]> {
  return get('/schools/{school_id}/audit', {
    params: { school_id: schoolId },
    query: { limit, ...(category ? { category } : {}), ...(beforeId ? { before_id: beforeId } : {}) },
  })
}

export function listClasses(schoolId: number): Promise<SchoolClass[]> {
  return get('/schools/{school_id}/classes', { params: { school_id: schoolId } })
}

/** Add a class (last). */
export function createClass(schoolId: number, name: string): Promise<SchoolClass> {
  return post('/schools/{school_id}/classes', { params: { school_id: schoolId }, body: { name, position: null } })
}

/** Rename or move a class. */
export function updateClass(id: number, body: { name?: string, position?: number }): Promise<SchoolClass> {
  return patch('/classes/{class_id}', { params: { class_id: id }, body })
}

/** Delete a class no binding names (the API answers 409 class_in_use otherwise). */
export function deleteClass(id: number): Promise<void> {
  return del('/classes/{class_id}', { params: { class_id: id } })
}

/** The violation kinds the school publishes to the parents' committee and parents. */
export function loadNoticeSettings(schoolId: number): Promise<NoticeSettings> {
  return get('/schools/{school_id}/notice-settings', { params: { school_id: schoolId } })
}

/** Choose the published kinds. */
export function saveNoticeSettings(schoolId: number, kinds: Kind[]): Promise<NoticeSettings> {
  return put('/schools/{school_id}/notice-settings', { params: { school_id: schoolId }, body: { published_kinds: kinds } })
}

/** A school's canteens with their windows. */
export function listCanteens(schoolId: number): Promise<Canteen[]> {
  return get('/schools/{school_id}/canteens', { params: { school_id: schoolId } })
}

/** Change a canteen's name, meal windows or live windows. */
export function updateCanteen(id: number, body: Schemas['CanteenPatch']): Promise<Canteen> {
  return patch('/canteens/{canteen_id}', { params: { canteen_id: id }, body })
}

/** A canteen's kitchen areas. */
export function listAreas(canteenId: number): Promise<Area[]> {
  return get('/canteens/{canteen_id}/areas', { params: { canteen_id: canteenId } })
}

/** Add a kitchen area. */
export function createArea(canteenId: number, body: { name: string, kind: AreaKind, public: boolean }): Promise<Area> {
  return post('/canteens/{canteen_id}/areas', { params: { canteen_id: canteenId }, body })
}

/** Change an area (whether parents may watch it: `public`). */
export function updateArea(id: number, body: Schemas['AreaPatch']): Promise<Area> {
  return patch('/areas/{area_id}', { params: { area_id: id }, body })
}

/** A canteen's cameras, without their secrets. */
export function listCameras(canteenId: number): Promise<Camera[]> {
  return get('/canteens/{canteen_id}/cameras', { params: { canteen_id: canteenId } })
}

/** Add a canteen (its windows are set afterwards). */
export function createCanteen(schoolId: number, name: string): Promise<Canteen> {
  return post('/schools/{school_id}/canteens', { params: { school_id: schoolId }, body: { name, meal_windows: [], live_windows: [] } })
}

/** Add a camera to an area; the source and credentials are write-only. */
export function createCamera(areaId: number, body: Schemas['CameraIn']): Promise<Camera> {
  return post('/areas/{area_id}/cameras', { params: { area_id: areaId }, body })
}

/** Change a camera; secrets are sent only when typed (an empty box keeps what is stored). */
export function updateCamera(id: number, body: Schemas['CameraPatch']): Promise<Camera> {
  return patch('/cameras/{camera_id}', { params: { camera_id: id }, body })
}

/** A new publish key of a camera that pushes RTMP (shown once: only its hash is kept); the previous key stops working
 * at once, a stream pushed with it included. */
export function rotatePublishKey(cameraId: number): Promise<PublishKey> {
  return post('/live/cameras/{camera_id}/publish-key', { params: { camera_id: cameraId } })
}

/** A publish URL as encoders that ask for two fields take it (OBS, many NVRs): the server (`rtmp://host/app`) and the
 * stream key (the stream name with its `?key=`). */
export function publishParts(url: string): { server: string, streamKey: string } {
  const cut = url.lastIndexOf('/')
  return { server: url.slice(0, cut), streamKey: url.slice(cut + 1) }
}

/** The changes of a camera form: settings always, a secret only when something was typed for it. */
export interface CameraForm {
  name: string
  area_id: number
  source_kind: SourceKind
  sampling_interval_seconds: number
  enabled: boolean
  enabled_checks: Check[]
  work_hours: Window[]
  source_url: string
  source_username: string
  source_password: string
}

export function cameraChanges(form: CameraForm): Schemas['CameraPatch'] {
  const body: Schemas['CameraPatch'] = {
    name: form.name, area_id: form.area_id, source_kind: form.source_kind,
    sampling_interval_seconds: Number(form.sampling_interval_seconds), enabled: form.enabled,
    enabled_checks: [...form.enabled_checks], work_hours: sortWindows(form.work_hours),
  }
  if (form.source_kind === 'push') return body // it pushes to the media server: no source of its own to read
  if (form.source_url) body.source_url = form.source_url
  if (form.source_username) body.source_username = form.source_username
  if (form.source_password) body.source_password = form.source_password
  return body
}

/** A new camera from the form (the area is in the URL; empty credentials are none). */
export function newCamera(form: CameraForm): Schemas['CameraIn'] {
  const { area_id: _area, ...settings } = cameraChanges(form)
  const pushes = form.source_kind === 'push'
  return { ...settings, name: form.name, source_kind: form.source_kind, source_url: pushes ? '' : form.source_url,
    source_username: (!pushes && form.source_username) || null, source_password: (!pushes && form.source_password) || null,
    regions_of_interest: [] } as Schemas['CameraIn']
}
