// 学校管理 in Chromium against the real API on the demo seed (tests/e2e/serve.sh): the principal approves the
// seed's waiting parent, creates an invite and sees (and downloads) its mini-program code made by the WeChat
// fake, edits a canteen's live window and sees it saved, and meets field errors next to their fields; a camera's
// 推流地址 is shown once, and a stream ffmpeg pushes to it is live on the school's live page.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { expect, test, type APIRequestContext, type Page } from '@playwright/test'
import { wechatFake } from '../../playwright.config'

test.describe.configure({ mode: 'serial' })

const SHOTS = 'artifacts/screenshots'

async function shot(page: Page, name: string): Promise<void> {
  await page.waitForLoadState('networkidle')
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true })
}

async function login(page: Page, openid: string): Promise<void> {
  await page.goto('/console/login')
  await page.click(`[data-test="login-${openid}"]`)
  await expect(page).toHaveURL(/\/console\/overview/)
}

async function apiGet(request: APIRequestContext, openid: string, path: string): Promise<any> {
  const login = await request.post('/api/v1/auth/dev-login', { data: { openid } })
  const { token } = await login.json()
  const response = await request.get(`/api/v1${path}`, { headers: { Authorization: `Bearer ${token}` } })
  expect(response.ok(), await response.text()).toBeTruthy()
  return response.json()
}

function fieldOf(page: Page, testId: string) {
  return page.locator('.el-form-item', { has: page.locator(`[data-test="${testId}"]`) }).last()
}

test('the principal approves the parent waiting in the demo seed', async ({ page }) => {
  await login(page, 'demo-principal-1')
  await page.click('[data-test=menu-school]')
  await expect(page).toHaveURL(/\/console\/school/)
  const pending = page.locator('[data-test=pending]')
  await expect(pending).toContainText('王小明妈妈')
  await expect(pending).toContainText('母亲 · 一年级一班')
  await expect(pending).toContainText('王小明家长')  // the WeChat nickname, a name and not a number
  await shot(page, 'school-01-members')
  await pending.locator('.el-table__row [data-test^=approve-]').click()
  await expect(page.locator('.el-message--success')).toContainText('已通过')
  await expect(pending).toContainText('暂无待审核的绑定申请')
  const row = page.locator('[data-test=members] .el-table__row', { hasText: '王小明妈妈' })
  await expect(row).toContainText('已通过')
  await expect(row.locator('[data-test^=revoke-member-]')).toHaveCount(1)
  // The school's only principal cannot be unbound (the API refuses it too): no 解除绑定 on that row.
  const own = page.locator('[data-test=members] .el-table__row', { hasText: '西湖实验小学校长' })
  await expect(own.locator('[data-test^=only-principal-]')).toHaveText('唯一校长')
  await expect(own.locator('[data-test^=revoke-member-]')).toHaveCount(0)
  await shot(page, 'school-02-members-approved')
})

test('the principal creates an invite and sees and downloads its mini-program code', async ({ page, request }) => {
  await login(page, 'demo-principal-1')
  await page.goto('/console/school?tab=invites')
  // A field error from the server, next to its field.
  await page.fill('[data-test=invite-uses]', '0')
  await page.click('[data-test=invite-create]')
  await expect(fieldOf(page, 'invite-uses').locator('.el-form-item__error')).toBeVisible()
  await shot(page, 'school-03-invite-field-error')

  await page.fill('[data-test=invite-uses]', '5')
  await page.click('[data-test=invite-class]')
  await page.locator('.el-select-dropdown__item:visible', { hasText: '一年级二班' }).click()
  await page.click('[data-test=invite-create]')
  await expect(page.locator('.el-message--success')).toContainText('邀请已创建')
  const invites = await apiGet(request, 'demo-principal-1', '/schools/1/invites')
  const invite = invites[0]
  expect([invite.role, invite.max_uses, invite.child_class]).toEqual(['parent', 5, '一年级二班'])
  const cell = page.locator(`[data-test="invite-code-${invite.id}"]`)
  const image = cell.locator('[data-test=invite-code-image]')
  await expect(image).toBeVisible()
  expect(await image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true)
  // WeChat (the fake) was asked for a code of this invite's scene that opens the binding page.
  const calls = (await (await request.get(`${wechatFake}/__fake__/calls?endpoint=getwxacodeunlimit`)).json()).result
  expect(calls.map((c: any) => c.json.scene)).toContain(invite.scene)
  const [download] = await Promise.all([page.waitForEvent('download'), cell.locator('[data-test=invite-code-download]').click()])
  expect(download.suggestedFilename()).toBe(`邀请-${invite.short_code}.png`)
  const bytes = readFileSync(await download.path() as string)
  expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG')
  await shot(page, 'school-04-invites')
})

test('the principal edits a canteen live window and it is saved; a wrong window is refused next to its field', async ({ page, request }) => {
  await login(page, 'demo-principal-1')
  await page.goto('/console/school?tab=canteens')
  await expect(page.locator('[data-test=live-row]').first()).toBeVisible()
  await page.fill('[data-test=live-start-0]', '13:00')
  await page.fill('[data-test=live-end-0]', '12:00')
  await page.click('[data-test=canteen-save]')
  const liveField = fieldOf(page, 'live')
  await expect(liveField.locator('.el-form-item__error')).toContainText('第 1 条：结束时间必须晚于开始时间')
  await shot(page, 'school-05-live-window-error')

  await page.fill('[data-test=live-start-0]', '10:30')
  await page.fill('[data-test=live-end-0]', '13:15')
  await page.click('[data-test=canteen-save]')
  await expect(page.locator('.el-message--success')).toContainText('食堂设置已保存')
  const [canteen] = await apiGet(request, 'demo-principal-1', '/schools/1/canteens')
  const first = [...canteen.live_windows].sort((a: any, b: any) => a.weekday - b.weekday || a.start.localeCompare(b.start))[0]
  expect([first.start, first.end]).toEqual(['10:30', '13:15'])
  await page.reload()
  await expect(page.locator('[data-test=live-start-0]')).toHaveValue('10:30')
  await expect(page.locator('[data-test=live-summary]')).toContainText('10:30–13:15')
  await shot(page, 'school-06-canteens')

  // Cameras: the secrets are only said to be set.
  await page.locator('[data-test=cameras] .el-table__row [data-test^=camera-edit-]').first().click()
  await expect(page.locator('[data-test=camera-source]')).toHaveAttribute('placeholder', /已设置/)
  await page.fill('[data-test=camera-interval]', '0')
  await page.click('[data-test=camera-save]')
  await expect(fieldOf(page, 'camera-interval').locator('.el-form-item__error')).toBeVisible()
  await shot(page, 'school-07-camera-dialog')
  await page.fill('[data-test=camera-interval]', '5')
  await page.click('[data-test=camera-save]')
  await expect(page.locator('.el-message--success').last()).toContainText('摄像头设置已保存')

  // A new camera with its source and password: listed with both only said to be set.
  await page.click('[data-test=camera-add]')
  await page.fill('[data-test=camera-name]', '洗消间摄像头')
  await page.fill('[data-test=camera-source]', 'rtsp://10.0.0.9/Streaming/Channels/101')
  await page.fill('[data-test=camera-password]', 'p@ss word')
  await page.click('[data-test=camera-save]')
  const added = page.locator('[data-test=cameras] .el-table__row', { hasText: '洗消间摄像头' })
  await expect(added).toContainText('已设置')
  await expect(page.locator('[data-test=cameras]')).not.toContainText('rtsp://')
  await shot(page, 'school-07b-camera-added')

  // 推流地址: after the warning, the new address shown once, whole and as server + stream key.
  const cameraId = Number((await added.locator('[data-test^=camera-edit-]').getAttribute('data-test'))!.split('-').pop())
  await added.locator(`[data-test=camera-publish-${cameraId}]`).click()
  await expect(page.locator('.el-message-box')).toContainText('原地址立即失效')
  await page.locator('.el-message-box .el-button--primary').click()
  const url = await page.locator('[data-test=publish-url]').inputValue()
  expect(url).toMatch(new RegExp(`^rtmp://127\\.0\\.0\\.1:\\d+/live/cam-${cameraId}\\?key=[\\w-]+$`))
  await expect(page.locator('[data-test=publish-server]')).toHaveValue(url.slice(0, url.lastIndexOf('/')))
  await expect(page.locator('[data-test=publish-stream-key]')).toHaveValue(`cam-${cameraId}?key=${url.split('?key=')[1]}`)
  await shot(page, 'school-07c-publish-key')
  await page.click('[data-test=publish-key-close]')
  // The camera pushes to it (ffmpeg standing in for the camera): the media server takes the key, the camera is live.
  const liveNow = async (): Promise<boolean | undefined> => (await apiGet(request, 'demo-principal-1', '/live/canteens/1/cameras'))
    .cameras.find((camera: any) => camera.id === cameraId)?.live
  expect(await liveNow()).toBe(false)
  const camera = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10',
    '-t', '60', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-pix_fmt', 'yuv420p', '-f', 'flv', url], { stdio: 'ignore' })
  try {
    await expect.poll(liveNow, { timeout: 30_000 }).toBe(true)
    // It only pushes: set as 推流, it needs no source of its own, and the platform reads what it pushes (a snapshot
    // here, the detection worker's samples alike) from the media server.
    await added.locator(`[data-test=camera-edit-${cameraId}]`).click()
    await page.locator('[data-test=camera-dialog] .el-form-item', { hasText: '视频源类型' }).locator('.el-select').click()
    await page.locator('.el-select-dropdown__item:visible', { hasText: '摄像头推流到平台' }).click()
    await expect(page.locator('[data-test=camera-push-hint]')).toContainText('推流地址')
    await expect(page.locator('[data-test=camera-source]')).toHaveCount(0)
    await page.click('[data-test=camera-save]')
    await expect(added).toContainText('推流')
    const login = await request.post('/api/v1/auth/dev-login', { data: { openid: 'demo-staff-1' } })
    const snapshot = await request.post(`/api/v1/live/cameras/${cameraId}/snapshots`,
      { headers: { Authorization: `Bearer ${(await login.json()).token}` } })
    expect(snapshot.status(), await snapshot.text()).toBe(201)
    expect(await snapshot.json()).toMatchObject({ camera_id: cameraId, width: 320, height: 240 })
  } finally {
    camera.kill('SIGKILL')
  }
})

test('the classes and notice settings tabs', async ({ page }) => {
  await login(page, 'demo-principal-1')
  await page.goto('/console/school?tab=classes')
  await page.fill('[data-test=class-name]', '一年级一班')
  await page.click('[data-test=class-add]')
  await expect(fieldOf(page, 'class-name').locator('.el-form-item__error')).toContainText('已存在')
  await page.fill('[data-test=class-name]', '七年级一班')
  await page.click('[data-test=class-add]')
  await expect(page.locator('[data-test=classes]')).toContainText('七年级一班')
  await shot(page, 'school-08-classes')
  await page.goto('/console/school?tab=notices')
  await expect(page.locator('[data-test=notice-settings]')).toContainText('告知家委会的问题')
  await page.click('[data-test=notice-save]')
  await expect(page.locator('.el-message--success')).toContainText('已保存')
  await shot(page, 'school-09-notice-settings')
})

test('操作日志: what this spec did, in words, by whom; a category keeps its rows only', async ({ page }) => {
  await login(page, 'demo-principal-1')
  await page.click('[data-test=menu-school]')
  await page.locator('[data-test=school-tabs] .el-tabs__item', { hasText: '操作日志' }).click()
  const rows = page.locator('[data-test=audit-rows] .el-table__body-wrapper')
  // The tests above: the parent approved, an invite made, a camera added and its publish key issued, a class added,
  // the notice settings saved.
  await expect(rows).toContainText('通过绑定申请')
  await expect(rows).toContainText('创建邀请')
  await expect(rows).toContainText('添加摄像头')
  await expect(rows).toContainText('更换推流密钥')
  await expect(rows).toContainText('（校长）')
  await expect(rows).toContainText('邀请 #')
  await shot(page, 'school-10-audit')
  await page.click('[data-test=audit-category]')
  await page.locator('.el-select-dropdown__item', { hasText: '成员与账号' }).click()
  await expect(rows).toContainText('通过绑定申请')
  await expect(rows).not.toContainText('添加摄像头')
  await expect(rows).not.toContainText('添加班级')
})
