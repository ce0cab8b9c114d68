// 视频巡查: the camera tree, play URLs (each audited by the API), the wall's pages and rotation, and the
// patrol rounds (routes of backend/live/routes.py and backend/patrols/routes.py).
import { ApiError, get, post, type Schemas } from '../api/client'

export type TreeRegion = Schemas['TreeRegionOut']
export type Patrol = Schemas['PatrolOut']
export type PatrolSummary = Schemas['PatrolSummaryOut']
export type PatrolFinding = Schemas['PatrolFindingCreatedOut']

/** A camera as a wall tile needs it: where it is and whether it is live. */
export interface WallCamera {
  id: number
  name: string
  place: string
  live: boolean
  canteenId: number
}

export const LAYOUTS = [1, 4, 9, 16] as const
export type Layout = (typeof LAYOUTS)[number]

/** The wall's camera tree (only schools the user may watch at any time). */
export async function loadTree(): Promise<TreeRegion[]> {
  return (await get('/live/camera-tree')).regions ?? []
}

/** Every camera of the tree, in tree order, with where it is. */
export function flattenTree(regions: TreeRegion[]): WallCamera[] {
  const cameras: WallCamera[] = []
  for (const region of regions) {
    for (const school of region.schools ?? []) {
      for (const canteen of school.canteens ?? []) {
        for (const area of canteen.areas ?? []) {
          for (const camera of area.cameras ?? []) {
            cameras.push({ id: camera.id as number, name: camera.name ?? '', live: !!camera.live,
              place: `${school.name} · ${area.name}`, canteenId: canteen.id as number })
          }
        }
      }
    }
  }
  return cameras
}

/** The cameras with the live ones first, each group in tree order: a wall opens on kitchens it can show, and
 * the offline cameras (marked as such) follow on the later pages, so a patrol still reaches them. */
export function liveFirst(cameras: WallCamera[]): WallCamera[] {
  return [...cameras.filter((c) => c.live), ...cameras.filter((c) => !c.live)]
}

/** The cameras of page `page` of a wall of `size` tiles (pages wrap around: rotation never runs out). */
export function pageOf<T>(cameras: T[], size: number, page: number): T[] {
  if (cameras.length <= size) return cameras.slice()
  const pages = Math.ceil(cameras.length / size)
  const start = (((page % pages) + pages) % pages) * size
  return cameras.slice(start, start + size)
}

/** How many pages a rotation walks through. */
export function pageCount(count: number, size: number): number {
  return Math.max(1, Math.ceil(count / size))
}

export interface PlayResult { url?: string, offline?: string }

/** A fresh HLS URL of a camera (valid for one session), or why it cannot play now (offline, disabled). */
export async function playUrl(cameraId: number): Promise<PlayResult> {
  try {
    const answer = await post('/live/cameras/{camera_id}/play', { params: { camera_id: cameraId } })
    return { url: answer.hls_url }
  } catch (error) {
    if (error instanceof ApiError && error.status !== 401) return { offline: error.message }
    throw error
  }
}

/** Start a patrol over chosen canteens of the region (none: all of the region's). */
export function startPatrol(regionId: number, canteenIds: number[], title?: string): Promise<Patrol> {
  return post('/regions/{region_id}/patrols',
    { params: { region_id: regionId }, body: { canteen_ids: canteenIds, title: title || null } })
}

/** Tell the record which cameras the wall shows now. */
export function reportWatching(patrolId: number, cameraIds: number[]): Promise<unknown> {
  return post('/patrols/{patrol_id}/watching', { params: { patrol_id: patrolId }, body: { camera_ids: cameraIds } })
}

export interface FindingForm {
  camera_id: number
  description: string
  severity: 'minor' | 'major' | 'critical'
  kind?: string
  open_violation: boolean
}

/** File a finding: the API snapshots the camera now as its evidence and opens the violation. */
export function fileFinding(patrolId: number, form: FindingForm): Promise<PatrolFinding> {
  return post('/patrols/{patrol_id}/findings', {
    params: { patrol_id: patrolId },
    body: { ...form, kind: form.kind || null } as never,
  })
}

/** End the round. */
export function endPatrol(patrolId: number, summary: string): Promise<Patrol> {
  return post('/patrols/{patrol_id}/end', { params: { patrol_id: patrolId }, body: { summary: summary || null } })
}

/** The region's rounds, newest first. */
export function listPatrols(regionId: number): Promise<PatrolSummary[]> {
  return get('/regions/{region_id}/patrols', { params: { region_id: regionId } })
}

/** One round with its record. */
export function loadPatrol(patrolId: number): Promise<Patrol> {
  return get('/patrols/{patrol_id}', { params: { patrol_id: patrolId } })
}

/** A patrol's cameras as wall cameras. */
export function patrolCameras(patrol: Patrol): WallCamera[] {
  return (patrol.cameras ?? []).map((c) => ({ id: c.id as number, name: c.name ?? '', live: !!c.live,
    place: `${c.school_name} · ${c.area_name}`, canteenId: c.canteen_id as number }))
}

