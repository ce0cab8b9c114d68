// 录像回放: a camera's day (recordings, gaps, violation and health marks), play from a time, cut a clip
// (routes of backend/live/routes.py; recordings are MP4, played by a native <video>).
import { get, post, type Schemas } from '../api/client'
import type { Desk } from './session'
import { loadSchools } from './stats'

export type Timeline = Schemas['TimelineOut']
export type PlayAt = Schemas['RecordingPlayOut']
export type Clip = Schemas['ClipOut']

export interface CameraChoice { id: number, label: string }

export const SPEEDS = [0.5, 1, 2, 4]

/** The cameras the desk may play back: every camera of the school, or of every school of the region. */
export async function playbackCameras(desk: Desk): Promise<CameraChoice[]> {
  const schools = desk.kind === 'school' ? [{ id: desk.id, name: desk.name }] : await loadSchools()
  const choices: CameraChoice[] = []
  for (const school of schools) {
    const canteens = await get('/schools/{school_id}/canteens', { params: { school_id: school.id as number } })
    for (const canteen of canteens) {
      const cameras = await get('/canteens/{canteen_id}/cameras', { params: { canteen_id: canteen.id as number } })
      for (const camera of cameras) {
        const place = desk.kind === 'region' ? `${school.name} · ${canteen.name}` : canteen.name
        choices.push({ id: camera.id as number, label: `${place} · ${camera.name}` })
      }
    }
  }
  return choices
}

/** One camera's day (YYYY-MM-DD, Asia/Shanghai). */
export function loadTimeline(cameraId: number, day: string): Promise<Timeline> {
  return get('/live/cameras/{camera_id}/playback', { params: { camera_id: cameraId }, query: { day } })
}

/** The signed URL of the recording covering `at` and the offset to start from. */
export function playAt(cameraId: number, at: string): Promise<PlayAt> {
  return post('/live/cameras/{camera_id}/playback/play', { params: { camera_id: cameraId }, body: { at } })
}

/** Cut [start, end) into one MP4 (at most 10 minutes); its signed download URL. */
export function makeClip(cameraId: number, start: string, end: string): Promise<Clip> {
  return post('/live/cameras/{camera_id}/clips', { params: { camera_id: cameraId }, body: { start, end } })
}

export interface Block { left: number, width: number, start: string, end: string }
export interface Mark { left: number, at: string, kind: 'violation' | 'health', id: number | null, label: string }

const ms = (iso: string | undefined | null): number => Date.parse(iso ?? '')

/** Where spans and marks sit on the day's bar, in percent of the day. */
export function layout(timeline: Timeline): { recordings: Block[], gaps: Block[], marks: Mark[] } {
  const from = ms(timeline.start)
  const length = ms(timeline.end) - from
  const pct = (iso: string): number => Math.min(100, Math.max(0, ((ms(iso) - from) / length) * 100))
  const block = (span: { start?: string, end?: string }): Block => {
    const start = span.start ?? ''
    const end = span.end ?? ''
    return { left: pct(start), width: Math.max(0.15, pct(end) - pct(start)), start, end }
  }
  const marks: Mark[] = [
    ...(timeline.violations ?? []).map((v) => ({
      left: pct(v.at ?? ''), at: v.at ?? '', kind: 'violation' as const, id: v.id ?? null, label: v.title ?? v.kind ?? '',
    })),
    ...(timeline.health ?? []).map((h) => ({
      left: pct(h.at ?? ''), at: h.at ?? '', kind: 'health' as const, id: null, label: h.label ?? h.status ?? '',
    })),
  ]
  return {
    recordings: (timeline.recordings ?? []).map((r) => block({ start: r.started_at, end: r.ended_at })),
    gaps: (timeline.gaps ?? []).map(block),
    marks,
  }
}

/** The instant at a fraction (0–1) of the day's bar, as ISO 8601 with +08:00. */
export function instantAt(timeline: Timeline, fraction: number): string {
  const from = ms(timeline.start)
  return shanghaiIso(from + fraction * (ms(timeline.end) - from))
}

/** An epoch in milliseconds as `YYYY-MM-DDTHH:mm:ss.sss+08:00`. */
export function shanghaiIso(epochMs: number): string {
  return new Date(epochMs + 8 * 3600_000).toISOString().replace('Z', '+08:00')
}

/** `HH:mm:ss` of an instant in Asia/Shanghai. */
export function clockOf(epochMs: number): string {
  return shanghaiIso(epochMs).slice(11, 19)
}
