// 视频巡查 in Chromium against the real API and the real media stack (tests/e2e/serve.sh: nginx-rtmp with the
// demo cameras relayed by ffmpeg): a 4-tile wall plays (every <video>'s currentTime advances), a camera opens
// alone on double click (the live cameras come first, the offline ones after them), rotation moves on, a patrol round is recorded with what was on the wall, a finding's
// snapshot becomes the evidence of the violation it opens, the big screen shows the wall, the alarms and
// today's figures, and a switched-off camera shows as offline. Prints how long each tile took to show its first
// frame.
import { writeFileSync } from 'node:fs'
import { expect, test, type APIRequestContext, type Page } from '@playwright/test'

test.describe.configure({ mode: 'serial' })

async function bearer(request: APIRequestContext, openid: string): Promise<string> {
  const response = await request.post('/api/v1/auth/dev-login', { data: { openid } })
  expect(response.ok()).toBeTruthy()
  return (await response.json()).token
}

async function call(request: APIRequestContext, token: string, method: 'get' | 'post' | 'patch', path: string,
  data?: unknown): Promise<any> {
  const response = await request[method](`/api/v1${path}`, { headers: { Authorization: `Bearer ${token}` }, data })
  expect(response.ok(), `${method} ${path}: ${await response.text()}`).toBeTruthy()
  return response.json()
}

async function login(page: Page, openid: string): Promise<void> {
  await page.goto('/console/login')
  await page.click(`[data-test="login-${openid}"]`)
  await expect(page).toHaveURL(/\/console\/overview/)
}

/** The region the regulator regulates (the demo county). */
async function regionOf(request: APIRequestContext, token: string): Promise<number> {
  return (await call(request, token, 'get', '/me')).regulator_scopes[0].region_id
}

/** The camera ids of the tree that are live now. */
async function liveCameras(request: APIRequestContext, token: string): Promise<number[]> {
  const tree = await call(request, token, 'get', '/live/camera-tree')
  return tree.regions.flatMap((r: any) => r.schools.flatMap((s: any) => s.canteens.flatMap((c: any) =>
    c.areas.flatMap((a: any) => a.cameras.filter((cam: any) => cam.live).map((cam: any) => cam.id)))))
}

/** Each playing <video>'s currentTime. */
function playTimes(page: Page): Promise<number[]> {
  return page.locator('[data-test="tile"] video').evaluateAll((videos) =>
    (videos as HTMLVideoElement[]).map((v) => v.currentTime))
}

test('a 4-tile wall plays the live kitchens and one camera opens alone', async ({ page, request }) => {
  test.setTimeout(240_000)
  const token = await bearer(request, 'demo-regulator')
  // The relays start after the api (the first run encodes the demo video to H.264 once).
  await expect.poll(async () => (await liveCameras(request, token)).length, { timeout: 150_000, intervals: [1000] })
    .toBeGreaterThanOrEqual(4)
  await login(page, 'demo-regulator')
  await page.goto('/console/wall')
  await expect(page.locator('[data-test="tile"]')).toHaveCount(4)
  // Every tile shows its first frame, then keeps playing.
  await expect.poll(async () => page.locator('[data-test="tile"]').evaluateAll((tiles) =>
    tiles.filter((t) => (t as HTMLElement).dataset.firstFrameMs).length), { timeout: 60_000 }).toBe(4)
  const before = await playTimes(page)
  await expect.poll(async () => {
    const after = await playTimes(page)
    return after.filter((time, index) => time > before[index] + 1).length
  }, { timeout: 30_000 }).toBe(4)
  const firstFrames = await page.locator('[data-test="tile"]').evaluateAll((tiles) =>
    tiles.map((t) => Number((t as HTMLElement).dataset.firstFrameMs)))
  const line = `first frame on loopback (play API → first decoded frame), ms per tile: ${firstFrames.join(', ')}`
  console.log(line)
  writeFileSync('artifacts/wall-first-frame.txt', `${line}\n`)
  await page.screenshot({ path: 'artifacts/screenshots/wall.png' })

  // Double click: that camera alone; double click again: the wall.
  const first = page.locator('[data-test="tile"]').first()
  const cameraId = await first.getAttribute('data-camera')
  await first.dblclick()
  await expect(page.locator('[data-test="wall"]')).toHaveAttribute('data-single', cameraId!)
  await expect(page.locator('[data-test="tile"]')).toHaveCount(1)
  await page.locator('[data-test="tile"]').dblclick()
  await expect(page.locator('[data-test="tile"]')).toHaveCount(4)

  // 9 tiles: every camera of the tree (the six demo cameras, and any another test added), then empty ones.
  const cameraCount = (await call(request, token, 'get', '/live/camera-tree')).regions.flatMap((r: any) =>
    r.schools.flatMap((s: any) => s.canteens.flatMap((c: any) => c.areas.flatMap((a: any) => a.cameras)))).length
  await page.locator('[data-test="layout"] label', { hasText: '9 画面' }).click()
  await expect(page.locator('[data-test="tile"]')).toHaveCount(9)
  await expect(page.locator('[data-test="tile"].empty')).toHaveCount(9 - cameraCount)

  await page.locator('[data-test="layout"] label', { hasText: '16 画面' }).click()
  await expect(page.locator('[data-test="tile"]')).toHaveCount(16)
  await expect(page.locator('[data-test="tile"].empty')).toHaveCount(16 - cameraCount)

  // 轮巡: one tile, every 5 s the next camera.
  await page.locator('[data-test="layout"] label', { hasText: '1 画面' }).click()
  const shownFirst = await page.locator('[data-test="tile"]').getAttribute('data-camera')
  await page.locator('.el-input-number input').fill('5')
  await page.locator('.el-input-number input').blur()
  await page.locator('[data-test="rotate"]').click()
  await expect(page.locator('[data-test="tile"]')).not.toHaveAttribute('data-camera', shownFirst!, { timeout: 12_000 })
})

test('a patrol round is recorded and a snapshot becomes the evidence of a finding', async ({ page, request }) => {
  test.setTimeout(120_000)
  const token = await bearer(request, 'demo-regulator')
  await login(page, 'demo-regulator')
  await page.goto('/console/wall')
  await page.locator('[data-test="patrol-canteens"]').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '西湖实验小学 · 学生食堂' }).click()
  await page.keyboard.press('Escape')
  await page.locator('[data-test="patrol-start"]').click()
  await expect(page.locator('[data-test="patrol-active"]')).toContainText('路摄像头')
  const [patrol] = await call(request, token, 'get', `/regions/${await regionOf(request, token)}/patrols`)
  expect(patrol.status).toBe('active')
  // The wall reported what it shows: the canteen's first cameras are being watched, and only the round's.
  await expect.poll(async () => (await call(request, token, 'get', `/patrols/${patrol.id}`)).views
    .filter((v: any) => !v.ended_at).length).toBeGreaterThanOrEqual(1)
  const round = await call(request, token, 'get', `/patrols/${patrol.id}`)
  expect(round.canteens.map((c: any) => `${c.school_name} · ${c.canteen_name}`))
    .toEqual(['西湖实验小学 · 学生食堂'])
  const roundCameras = round.cameras.map((c: any) => String(c.id))
  expect(round.views.every((v: any) => roundCameras.includes(String(v.camera_id)))).toBeTruthy()
  const onWall = await page.locator('[data-test="tile"]').evaluateAll((tiles) =>
    tiles.map((t) => (t as HTMLElement).dataset.camera).filter(Boolean))
  expect(onWall.length).toBeGreaterThanOrEqual(1)
  expect(onWall.every((id) => roundCameras.includes(id!))).toBeTruthy()

  await page.locator('[data-test="finding-open"]').click()
  await page.locator('[data-test="finding-submit"]').click()
  await expect(page.locator('.el-form-item__error')).toContainText('长度')  // the server's field error
  await page.locator('[data-test="finding-description"]').fill('操作人员未佩戴口罩、帽子')
  await page.locator('[data-test="finding-submit"]').click()
  const snapshot = page.locator('[data-test="finding-snapshot"]')
  await expect(snapshot).toBeVisible({ timeout: 30_000 })
  await expect.poll(() => snapshot.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(100)
  await page.screenshot({ path: 'artifacts/screenshots/wall-finding.png' })

  // The violation it opened shows the snapshot as its evidence.
  await page.locator('[data-test="finding-violation"]').click()
  await expect(page).toHaveURL(/\/console\/violations\/\d+/)
  const violationId = Number(page.url().split('/').pop())
  const violation = await call(request, token, 'get', `/violations/${violationId}`)
  expect(violation.source).toBe('patrol')
  expect(violation.evidence.photos).toHaveLength(1)
  await expect.poll(() => page.locator('img').evaluateAll((imgs) =>
    imgs.filter((i) => (i as HTMLImageElement).naturalWidth > 100).length)).toBeGreaterThanOrEqual(1)

  // Back on the wall the round ends; its record lists what was watched and found.
  await page.goto('/console/wall')
  await page.locator('[data-test="patrol-list"] .el-table__row').first().click()
  await expect(page.locator('[data-test="record-finding"]')).toHaveCount(1)
  await page.keyboard.press('Escape')
  const record = await call(request, token, 'get', `/patrols/${patrol.id}`)
  expect(record.findings[0].violation_id).toBe(violationId)
  expect(record.views.length).toBeGreaterThanOrEqual(1)
  const ended = await call(request, token, 'post', `/patrols/${patrol.id}/end`, { summary: '巡查完毕' })
  expect(ended.views.every((v: any) => v.ended_at)).toBeTruthy()
})

test('the big screen shows the wall, the latest alarms and the day figures without the desk chrome',
  async ({ page, request }) => {
    test.setTimeout(240_000)
    await page.setViewportSize({ width: 1920, height: 1080 })
    const token = await bearer(request, 'demo-regulator')
    await expect.poll(async () => (await liveCameras(request, token)).length, { timeout: 150_000, intervals: [1000] })
      .toBe(6)
    await login(page, 'demo-regulator')
    await page.goto('/console/bigscreen')
    await expect(page.locator('[data-test="bigscreen"]')).toBeVisible()
    await expect(page.locator('.aside')).toHaveCount(0)  // no menu, no header
    await expect(page.locator('[data-test="tile"]')).toHaveCount(9)
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date())
    const region = await regionOf(request, token)
    const stats = await call(request, token, 'get', `/stats?region_id=${region}&from=${today}&to=${today}`)
    await expect(page.locator('[data-test="figure-found"]')).toHaveText(String(stats.found))
    const rows = await call(request, token, 'get', `/regions/${region}/violations?limit=200`)
    await expect(page.locator('[data-test="alarm"]')).toHaveCount(Math.min(12, rows.filter((r: any) => r.source === 'ai').length))
    // Newest first by when they happened, each with its school and area (the room watches many schools).
    const times = await page.locator('[data-test="alarm"] .time').allTextContents()
    expect(times).toEqual([...times].sort().reverse())
    await expect(page.locator('[data-test="alarm"] .title small').first()).toContainText(/(西湖实验小学|文三路中学) · /)
    await expect.poll(async () => page.locator('[data-test="tile"]').evaluateAll((tiles) =>
      tiles.filter((t) => (t as HTMLElement).dataset.firstFrameMs).length), { timeout: 60_000 }).toBe(6)
    await page.screenshot({ path: 'artifacts/screenshots/bigscreen.png' })
  })

test('a switched-off camera shows as offline on the wall', async ({ page, request }) => {
  const principal = await bearer(request, 'demo-principal-1')
  const token = await bearer(request, 'demo-regulator')
  const [cameraId] = await liveCameras(request, token)
  await call(request, principal, 'patch', `/cameras/${cameraId}`, { enabled: false })
  try {
    await login(page, 'demo-regulator')
    await page.goto('/console/wall')
    // The live cameras come first: the switched-off one is on the wall after them.
    await page.locator('[data-test="layout"] label', { hasText: '9 画面' }).click()
    await expect(page.locator(`[data-test="tile"][data-camera="${cameraId}"] [data-test="tile-offline"]`))
      .toHaveText('摄像头离线')
    await expect(page.locator('[data-test="camera-tree"]')).toContainText('（离线）')
  } finally {
    await call(request, principal, 'patch', `/cameras/${cameraId}`, { enabled: true })
  }
})
