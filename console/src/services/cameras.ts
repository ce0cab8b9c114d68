// 摄像头: the cameras of the desk's school or region with their health now and uptime over 7 days
// (GET /schools/{id}/cameras/health, /regions/{id}/cameras/health; backend/monitoring/camera_uptime.py).
import { get, post, type Schemas } from '../api/client'
import type { Desk } from './session'

export type CameraHealthReport = Schemas['CameraHealthOut']
export type CameraHealth = Schemas['CameraHealthItemOut']

export type FalseAlarms = Schemas['FalseAlarmsOut']
export type FalseAlarmItem = Schemas['FalseAlarmItemOut']
export type TuningChange = Schemas['TuningChangeOut']

export interface CameraFilters { school_id?: number, canteen_id?: number }

/** The report of the desk's cameras (a regulator may narrow it to a school; anyone to a canteen). */
export function loadCameraHealth(desk: Desk, filters: CameraFilters = {}): Promise<CameraHealthReport> {
  if (desk.kind === 'region') {
    return get('/regions/{region_id}/cameras/health', { params: { region_id: desk.id }, query: filters })
  }
  return get('/schools/{school_id}/cameras/health',
    { params: { school_id: desk.id }, query: { canteen_id: filters.canteen_id } })
}

/** `97.4%`, or `—` when nothing is known (a camera that never reported). */
export function percentText(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${value}%`
}

/** The tag colour of a health status: offline red, other picture problems orange, unknown grey, ok green. */
export function statusType(status: string | undefined): 'success' | 'warning' | 'danger' | 'info' {
  if (status === 'ok') return 'success'
  if (status === 'offline') return 'danger'
  if (!status || status === 'unknown') return 'info'
  return 'warning'
}

/** The height (0..100) and colour of one day's bar in the small uptime chart. */
export function dayBar(value: number | null | undefined): { height: number, color: string } {
  if (value === null || value === undefined) return { height: 4, color: '#dcdfe6' }
  const color = value >= 99 ? '#67c23a' : value >= 90 ? '#e6a23c' : '#f56c6c'
  return { height: Math.max(4, Math.round(value)), color }
}

/** The canteens named in a report (for the canteen filter), by id. */
export function canteensOf(cameras: CameraHealth[], schoolId?: number): { id: number, name: string }[] {
  const seen = new Map<number, string>()
  for (const camera of cameras) {
    if (schoolId !== undefined && camera.school_id !== schoolId) continue
    if (camera.canteen_id !== undefined) seen.set(camera.canteen_id, `${camera.school_name ?? ''} ${camera.canteen_name ?? ''}`.trim())
  }
  return [...seen].map(([id, name]) => ({ id, name }))
}

/** 误报学习: per camera and kind, the share of reviewed alarms marked false and each threshold raise it made
 * (GET /schools/{id}/cameras/false-alarms; backend/monitoring/false_alarms.py). */
export function loadFalseAlarms(schoolId: number): Promise<FalseAlarms> {
  return get('/schools/{school_id}/cameras/false-alarms', { params: { school_id: schoolId } })
}

/** Take a threshold raise back (the school's principal and staff; audited). */
export async function revertTuningChange(cameraId: number, changeId: number): Promise<TuningChange> {
  const answer = await post('/cameras/{camera_id}/tuning-changes/{change_id}/revert',
    { params: { camera_id: cameraId, change_id: changeId } })
  return answer.change as TuningChange
}

/** `42%`, or `—` before any verdict (a share of 0..1). */
export function shareText(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${Math.round(value * 100)}%`
}
