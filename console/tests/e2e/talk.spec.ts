// 喊话 in Chromium against the real API: push-to-talk on a wall tile records Chromium's (fake) microphone with
// MediaRecorder while the button is held, and posts the recording; the API judges it by content (a real
// browser WebM must pass ffprobe), transcodes it and tries the camera's back-channel. The demo's cameras play a
// file, so the answer is the clear refusal a camera without a back-channel gives, and the attempt is audited
// with the recording's length. (Delivery to a back-channel camera is tested in tests/live/test_talk.py.)
import { expect, test } from '@playwright/test'

test.use({
  permissions: ['microphone'],
  launchOptions: {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
  },
})

test('holding the talk button records the microphone and the API answers for the camera', async ({ page, request }) => {
  test.setTimeout(120_000)
  const login = await request.post('/api/v1/auth/dev-login', { data: { openid: 'demo-regulator' } })
  const token = (await login.json()).token
  await page.goto('/console/login')
  await page.click('[data-test="login-demo-regulator"]')
  await expect(page).toHaveURL(/\/console\/overview/)
  await page.goto('/console/wall')
  const tile = page.locator('[data-test="tile"]').first()
  const button = tile.locator('[data-test="talk-button"]')
  await expect(button).toHaveText('按住喊话') // the tile has its camera
  const cameraId = Number(await tile.getAttribute('data-camera'))
  expect(cameraId).toBeGreaterThan(0)
  await button.hover()
  await page.mouse.down()
  await expect(button).toHaveAttribute('data-state', 'recording')
  await page.waitForTimeout(1500) // speak for a second and a half
  await page.mouse.up()
  await expect(tile.locator('[data-test="talk-status"]')).toHaveText('该摄像头不支持语音对讲（ONVIF 音频回传）',
    { timeout: 30_000 })
  await expect(button).toHaveAttribute('data-state', 'idle')
  // The attempt is in the school's audit log, with the recording's length as the API decoded it.
  const rows = []
  for (const school of [1, 2]) {
    const answer = await request.get(`/api/v1/schools/${school}/audit?limit=50`,
      { headers: { Authorization: `Bearer ${token}` } })
    expect(answer.ok()).toBeTruthy()
    rows.push(...(await answer.json()))
  }
  const talk = rows.find((row: any) => row.action === 'live.talk' && row.target_id === cameraId)
  expect(talk, 'an audit row live.talk of the camera').toBeTruthy()
  expect(talk.details.results).toEqual({ [String(cameraId)]: 'backchannel_unsupported' })
  expect(talk.details.seconds).toBeGreaterThan(0.8)
  expect(talk.details.seconds).toBeLessThan(5)
})

test('一键喊话 speaks a canned prompt on every camera of a canteen and says per camera what happened', async ({ page, request }) => {
  test.setTimeout(120_000)
  const login = await request.post('/api/v1/auth/dev-login', { data: { openid: 'demo-regulator' } })
  const token = (await login.json()).token
  await page.goto('/console/login')
  await page.click('[data-test="login-demo-regulator"]')
  await expect(page).toHaveURL(/\/console\/overview/)
  await page.goto('/console/wall')
  // Nothing chosen: the panel says what is missing instead of sending.
  await page.click('[data-test="broadcast-send"]')
  await expect(page.locator('[data-test="broadcast-outcome"]')).toHaveText('请选择食堂和喊话内容')
  await page.click('[data-test="broadcast-canteen"]')
  await page.locator('.el-select-dropdown__item:visible').first().click()
  await page.click('[data-test="broadcast-prompt"]')
  await page.locator('.el-select-dropdown__item:visible', { hasText: '口罩' }).first().click()
  await page.click('[data-test="broadcast-send"]')
  // The demo's cameras have no back-channel: each is named with the reason it was not reached.
  await expect(page.locator('[data-test="broadcast-outcome"]')).toContainText('未送达', { timeout: 60_000 })
  await expect(page.locator('[data-test="broadcast-outcome"]')).toContainText('不支持语音对讲')
  await page.screenshot({ path: 'artifacts/screenshots/broadcast.png', fullPage: true })
  const rows = []
  for (const school of [1, 2]) {
    const answer = await request.get(`/api/v1/schools/${school}/audit?limit=50`,
      { headers: { Authorization: `Bearer ${token}` } })
    rows.push(...(await answer.json()))
  }
  const broadcast = rows.find((row: any) => row.action === 'live.broadcast')
  expect(broadcast, 'an audit row live.broadcast').toBeTruthy()
  expect(Object.values(broadcast.details.results)).toContain('backchannel_unsupported')
})
