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
/** The span the bar shows, epoch milliseconds. */
export interface Range { from: number, to: number }

const ms = (iso: string | undefined | null): number => Date.parse(iso ?? '')

/** The whole day, or (zoomed) the recorded part of it with a margin of a tenth on each side (at least 2 min). */
export function barRange(timeline: Timeline, zoom: boolean): Range {
  const day = { from: ms(timeline.start), to: ms(timeline.end) }
  const recordings = timeline.recordings ?? []
  if (!zoom || !recordings.length) return day
  const first = ms(recordings[0].started_at)
  const last = ms(recordings[recordings.length - 1].ended_at)
  const margin = Math.max(120_000, (last - first) / 10)
  return { from: Math.max(day.from, first - margin), to: Math.min(day.to, last + margin) }
}

/** Where spans and marks sit on the bar, in percent of its range (what lies outside is left out). */
export function layout(timeline: Timeline, range: Range = barRange(timeline, false)):
{ recordings: Block[], gaps: Block[], marks: Mark[] } {
  const length = range.to - range.from
  const pct = (iso: string): number => Math.min(100, Math.max(0, ((ms(iso) - range.from) / length) * 100))
  const inside = (start: string, end: string): boolean => ms(end) > range.from && ms(start) < range.to
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
  ].filter((m) => inside(m.at, m.at) || ms(m.at) === range.from)
  return {
    recordings: (timeline.recordings ?? []).filter((r) => inside(r.started_at ?? '', r.ended_at ?? ''))
      .map((r) => block({ start: r.started_at, end: r.ended_at })),
    gaps: (timeline.gaps ?? []).filter((g) => inside(g.start ?? '', g.end ?? '')).map(block),
    marks,
  }
}

/** The instant at a fraction (0–1) of the bar, as ISO 8601 with +08:00. */
export function instantAt(range: Range, fraction: number): string {
  return shanghaiIso(range.from + fraction * (range.to - range.from))
}

/** Five evenly spaced labels under the bar (`HH:mm`, or `HH:mm:ss` under two hours). */
export function ticks(range: Range): string[] {
  return [0, 1, 2, 3, 4].map((i) => {
    const at = range.from + (i / 4) * (range.to - range.from)
    if (at >= range.to && range.to - range.from >= 86_400_000) return '24:00'
    return range.to - range.from < 7_200_000 ? clockOf(at) : clockOf(at).slice(0, 5)
  })
}

/** An epoch in milliseconds as `YYYY-MM-DDTHH:mm:ss.sss+08:00`. */
export function shanghaiIso(epochMs: number): string {
  return new Date(epochMs + 8 * 3600_000).toISOString().replace('Z', '+08:00')
}

/** `HH:mm:ss` of an instant in Asia/Shanghai. */
export function clockOf(epochMs: number): string {
  return shanghaiIso(epochMs).slice(11, 19)
}
