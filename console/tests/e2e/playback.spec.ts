// 录像回放 in Chromium against the real API (tests/e2e/serve.sh seeds real ffmpeg recordings with a violation
// marked, `flask live seed-recordings`): clicking the violation's mark plays the recording from that moment,
// the speed changes, and a clip downloads as a valid MP4. Screenshot in artifacts/screenshots/.
import { readFileSync } from 'node:fs'
import { expect, test, type APIRequestContext } from '@playwright/test'

const SHOTS = 'artifacts/screenshots'

async function bearer(request: APIRequestContext, openid: string): Promise<string> {
  const response = await request.post('/api/v1/auth/dev-login', { data: { openid } })
  expect(response.ok()).toBeTruthy()
  return (await response.json()).token
}

test('playback seeks to a marked violation, changes speed and downloads a clip', async ({ page, request }) => {
  const token = await bearer(request, 'demo-staff-1')
  const headers = { Authorization: `Bearer ${token}` }
  const me = await (await request.get('/api/v1/me', { headers })).json()
  const schoolId = me.memberships.find((m: any) => m.role === 'staff').school_id
  const [canteen] = await (await request.get(`/api/v1/schools/${schoolId}/canteens`, { headers })).json()
  const [camera] = await (await request.get(`/api/v1/canteens/${canteen.id}/cameras`, { headers })).json()
  const day = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10)
  const timeline = await (await request.get(`/api/v1/live/cameras/${camera.id}/playback?day=${day}`, { headers })).json()
  // The mark seed-recordings put inside a recording (the demo's pending alarms of the day lie outside them).
  const covering = (at: string): any => timeline.recordings.find((r: any) => r.started_at <= at && at < r.ended_at)
  const violation = timeline.violations.find((v: any) => covering(v.at))
  const segment = covering(violation.at)
  const expected = (Date.parse(violation.at) - Date.parse(segment.started_at)) / 1000
  expect(expected).toBeGreaterThan(1)

  await page.goto('/console/login')
  await page.click('[data-test="login-demo-staff-1"]')
  await expect(page).toHaveURL(/\/console\/overview/)
  await page.click('text=录像回放')
  await expect(page.locator('[data-test="recording"]')).toHaveCount(timeline.recordings.length)
  // The health changes are marked too: at least those inside the recordings the bar opens on (seed-recordings puts
  // one inside a recording; the bar shows the recorded hours, so a change far outside them is not on it).
  const recordedHealth = timeline.health.filter((h: any) => covering(h.at)).length
  expect(recordedHealth).toBeGreaterThanOrEqual(1)
  await expect.poll(() => page.locator('[data-test="mark-health"]').count()).toBeGreaterThanOrEqual(recordedHealth)

  await page.click('[data-test="speed-0.5"]')  // slow, so the landing is measured before the video moves on
  await page.click(`[data-test="mark-violation-${violation.id}"]`)
  const player = page.locator('[data-test="player"]')
  const distance = (): Promise<number> => player.evaluate((v: HTMLVideoElement, at: number) => Math.abs(v.currentTime - at),
    expected)
  await expect.poll(distance).toBeLessThan(1)
  const landed = await player.evaluate((v: HTMLVideoElement) => v.currentTime)
  await expect.poll(() => player.evaluate((v: HTMLVideoElement) => v.currentTime)).toBeGreaterThan(landed)
  expect(await player.evaluate((v: HTMLVideoElement) => v.playbackRate)).toBe(0.5)
  await page.click('[data-test="speed-4"]')
  expect(await player.evaluate((v: HTMLVideoElement) => v.playbackRate)).toBe(4)
  await page.click('[data-test="speed-1"]')
  expect(await player.evaluate((v: HTMLVideoElement) => v.playbackRate)).toBe(1)
  await page.screenshot({ path: `${SHOTS}/playback.png`, fullPage: true })

  const clock = (iso: string): string => new Date(Date.parse(iso) + 8 * 3600_000).toISOString().slice(11, 19)
  await page.fill('[data-test="clip-from"]', clock(segment.started_at))
  await page.fill('[data-test="clip-to"]', clock(new Date(Date.parse(segment.started_at) + 5000).toISOString()))
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test="clip-download"]')])
  const path = await download.path()
  const bytes = readFileSync(path as string)
  // An MP4 opens with its ftyp box: a 4-byte size, then "ftyp".
  expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp')
  expect(bytes.includes(Buffer.from('moov'))).toBeTruthy()
  expect(download.suggestedFilename()).toMatch(/^camera-\d+-\d{8}-\d{6}\.mp4$/)
})
