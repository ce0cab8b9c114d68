// The console in Chromium against the real API on the demo seed (tests/e2e/serve.sh): log-ins, the overview
// against /stats, a violation's actions, a supervision order answered by the principal, a spot check, a lost
// session that keeps the typed text. Every page is kept as a screenshot in artifacts/screenshots/.
import { readFileSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { expect, test, type APIRequestContext, type Page } from '@playwright/test'
import { wechatFake } from '../../playwright.config'

test.describe.configure({ mode: 'serial' })

const SHOTS = 'artifacts/screenshots'

async function shot(page: Page, name: string): Promise<void> {
  await page.waitForLoadState('networkidle')
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true })
}

async function token(request: APIRequestContext, openid: string): Promise<string> {
  const response = await request.post('/api/v1/auth/dev-login', { data: { openid } })
  expect(response.ok()).toBeTruthy()
  return (await response.json()).token
}

async function api(request: APIRequestContext, bearer: string, path: string, data?: unknown): Promise<any> {
  const headers = { Authorization: `Bearer ${bearer}` }
  const response = data === undefined
    ? await request.get(`/api/v1${path}`, { headers })
    : await request.post(`/api/v1${path}`, { headers, data })
  expect(response.ok(), `${path}: ${await response.text()}`).toBeTruthy()
  return response.status() === 204 ? null : response.json()
}

async function login(page: Page, openid: string): Promise<void> {
  await page.goto('/console/login')
  await page.click(`[data-test="login-${openid}"]`)
  await expect(page).toHaveURL(/\/console\/overview/)
}

/** A real image made in the browser (a canvas drawn and encoded as PNG or JPEG), as the file picker would
 * give it: the server decodes and re-encodes what it takes. */
async function canvasImage(page: Page, type: 'image/png' | 'image/jpeg', width: number, height: number): Promise<Buffer> {
  const base64 = await page.evaluate(({ type, width, height }) => {
    const canvas = document.createElement('canvas')
    canvas.width = width
    canvas.height = height
    const context = canvas.getContext('2d')!
    context.fillStyle = '#2e7d32'
    context.fillRect(0, 0, width, height)
    context.fillStyle = '#ffffff'
    context.fillRect(width / 4, height / 4, width / 2, height / 2)
    return canvas.toDataURL(type, 0.9).split(',')[1]
  }, { type, width, height })
  return Buffer.from(base64, 'base64')
}

/** The rectification's photos open full size: the viewer shows the stored image at its own width. */
async function opensFullSize(page: Page, widths: number[]): Promise<void> {
  const photos = page.locator('[data-test=rectification-photos] img')
  await expect(photos).toHaveCount(widths.length)
  await photos.first().click()
  const viewer = page.locator('.el-image-viewer__wrapper img.el-image-viewer__img').first()
  await expect(viewer).toBeVisible()
  await expect.poll(() => viewer.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(widths[0])
  await page.keyboard.press('Escape')
  await expect(page.locator('.el-image-viewer__wrapper')).toHaveCount(0)
}

async function figures(page: Page): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of ['found', 'rectified', 'in_progress', 'overdue']) {
    out[name] = (await page.locator(`[data-test="stat-${name}"] [data-test=value]`).innerText()).trim()
  }
  return out
}

let schoolId = 0
const titles = ['后厨地面有积水未清理', '留样柜温度记录缺失']

test.beforeAll(async ({ request }) => {
  // Two problems reported by the school's food-safety officer, as from the mini-program.
  const staff = await token(request, 'demo-staff-1')
  const me = await api(request, staff, '/me')
  schoolId = me.memberships.find((m: any) => m.role === 'staff').school_id
  const [canteen] = await api(request, staff, `/schools/${schoolId}/canteens`)
  for (const title of titles) {
    await api(request, staff, `/schools/${schoolId}/violations`,
      { canteen_id: canteen.id, title, description: `${title}，请尽快处理。` })
  }
})

test('a regulator logs in and the overview shows the region figures of /stats', async ({ page, request }) => {
  await login(page, 'demo-regulator')
  const regulator = await token(request, 'demo-regulator')
  const me = await api(request, regulator, '/me')
  const stats = await api(request, regulator, `/stats?region_id=${me.regulator_scopes[0].region_id}`)
  await expect(page.locator('[data-test="stat-found"] [data-test=value]')).toHaveText(String(stats.found))
  expect(await figures(page)).toEqual({ found: String(stats.found), rectified: String(stats.rectified),
    in_progress: String(stats.in_progress), overdue: String(stats.overdue) })
  expect(stats.found).toBeGreaterThanOrEqual(2)
  await expect(page.locator('[data-test=desk]')).toContainText('西湖区')
  await shot(page, '01-overview-regulator')

  await page.click('[data-test="stat-in_progress"]')  // a figure opens the list behind it
  await expect(page).toHaveURL(/\/console\/violations\?.*state=in_progress/)
  await expect(page.locator('[data-test=violations] .el-table__row')).toHaveCount(stats.in_progress)
  await shot(page, '02-violations-regulator')
  await page.locator('[data-test=violations] .el-table__row', { hasText: titles[0] }).click()
  await expect(page.locator('[data-test=status]')).toHaveText('待通知')
  await expect(page.locator('[data-test=timeline]')).toContainText('发现问题')
  await shot(page, '03-violation-detail-regulator')
})

test('the food-safety officer takes a violation on, attaches photos and the form shows the server field errors', async ({ page }) => {
  await login(page, 'demo-staff-1')
  await page.goto('/console/violations')
  await page.locator('[data-test=violations] .el-table__row', { hasText: titles[0] }).click()
  await page.click('[data-test=action-start]')
  await expect(page.locator('[data-test=status]')).toHaveText('整改中')
  // Photos: a file that only claims to be a PNG is refused by the server, its message next to the field; a
  // PNG and a JPEG made here are taken and shown as thumbnails.
  const input = page.locator('[data-test=rectification-photo-input]')
  const photoField = page.locator('.el-form-item', { has: page.locator('[data-test=rectification-photo]') })
  await input.setInputFiles({ name: 'floor.png', mimeType: 'image/png', buffer: Buffer.from('not an image at all') })
  await expect(photoField.locator('.el-form-item__error')).toHaveText('仅支持 JPEG、PNG、WebP 格式的图片')
  await input.setInputFiles([
    { name: 'floor.png', mimeType: 'image/png', buffer: await canvasImage(page, 'image/png', 64, 48) },
    { name: 'drain.jpg', mimeType: 'image/jpeg', buffer: await canvasImage(page, 'image/jpeg', 80, 60) },
  ])
  const thumbs = page.locator('[data-test=rectification-photo-thumb] img')
  await expect(thumbs).toHaveCount(2)
  await expect.poll(() => thumbs.evaluateAll((imgs: HTMLImageElement[]) => imgs.map((i) => i.naturalWidth))).toEqual([64, 80])
  await expect(photoField.locator('.el-form-item__error')).toHaveCount(0)
  await page.fill('[data-test=measures]', '已改')
  await page.click('[data-test=action-submit]')
  const field = page.locator('.el-form-item', { has: page.locator('[data-test=measures]') })
  await expect(field.locator('.el-form-item__error')).toBeVisible()
  await expect(thumbs).toHaveCount(2)  // a refused submission keeps the uploaded photos
  await shot(page, '04-violation-field-error')
  await page.fill('[data-test=measures]', '已清理积水并安排专人每餐后巡查')
  await page.click('[data-test=action-submit]')
  await expect(page.locator('[data-test=status]')).toHaveText('待复核')
  await opensFullSize(page, [64, 80])
  await shot(page, '05-violation-submitted')
})

test('a principal logs in, sees the school figures of /stats and approves the rectification', async ({ page, request }) => {
  await login(page, 'demo-principal-1')
  const stats = await api(request, await token(request, 'demo-principal-1'), `/stats?school_id=${schoolId}`)
  await expect(page.locator('[data-test="stat-found"] [data-test=value]')).toHaveText(String(stats.found))
  expect(await figures(page)).toEqual({ found: String(stats.found), rectified: String(stats.rectified),
    in_progress: String(stats.in_progress), overdue: String(stats.overdue) })
  await shot(page, '06-overview-principal')
  await page.goto('/console/violations?status=submitted')
  await page.locator('[data-test=violations] .el-table__row', { hasText: titles[0] }).click()
  await opensFullSize(page, [64, 80])  // the reviewer sees the rectification's photos before deciding
  await page.click('[data-test=action-approve]')
  await expect(page.locator('[data-test=status]')).toHaveText('已办结')
  await expect(page.locator('[data-test=rectification-verdict]')).toContainText('复核：通过')
  await shot(page, '07-violation-closed')
})

test('the principal hands a problem to the regulators, the reason checked next to its field', async ({ page }) => {
  await login(page, 'demo-principal-1')
  await page.goto('/console/violations')
  await page.locator('[data-test=violations] .el-table__row', { hasText: titles[1] }).click()
  await page.fill('[data-test=escalate-reason]', '无')
  await page.click('[data-test=action-escalate]')
  const field = page.locator('.el-form-item', { has: page.locator('[data-test=escalate-reason]') })
  await expect(field.locator('.el-form-item__error')).toBeVisible()
  await page.fill('[data-test=escalate-reason]', '留样柜故障学校无法自行解决，请监管部门督办')
  await page.click('[data-test=action-escalate]')
  await expect(page.locator('[data-test=timeline]')).toContainText('上报监管部门')
  await expect(page.locator('[data-test=action-escalate]')).toHaveCount(0)  // now the regulators' to review
  await expect(page.locator('[data-test=action-dismiss]')).toHaveCount(0)
  await shot(page, '07c-violation-escalated')
})

test('the regulator sees the rectification with its photos full size', async ({ page }) => {
  await login(page, 'demo-regulator')
  await page.goto('/console/violations')
  await page.locator('[data-test=violations] .el-table__row', { hasText: titles[0] }).click()
  await expect(page.locator('[data-test=rectification]')).toContainText('已清理积水并安排专人每餐后巡查')
  await opensFullSize(page, [64, 80])
  await shot(page, '07b-violation-rectification-regulator')
})

test('a regulator issues a supervision order and the principal answers it', async ({ page, request }) => {
  await login(page, 'demo-regulator')
  await page.goto('/console/supervision')
  await page.fill('[data-test=order-title]', '整')
  await page.click('[data-test=order-issue]')
  const form = page.locator('[data-test=order-form]')
  await expect(form.locator('.el-form-item__error')).toHaveCount(3)  // title, content, due_at: next to each field
  await shot(page, '08-order-field-errors')
  await page.fill('[data-test=order-title]', '关于后厨卫生的督办')
  await page.fill('[data-test=order-content]', '请于期限内完成后厨卫生整改并书面答复。')
  await form.getByPlaceholder('北京时间').fill('2030-01-15 18:00:00')
  await page.keyboard.press('Enter')
  // The order names one of the school's problems not yet put right; its page links to it.
  await page.click('[data-test=order-violations]')
  const problem = page.locator('.el-select-dropdown__item:visible').first()
  const problemTitle = ((await problem.textContent()) ?? '').split('（')[0]
  expect(problemTitle).not.toBe('')
  await problem.click()
  await page.keyboard.press('Escape')
  await page.click('[data-test=order-issue]')
  await expect(page).toHaveURL(/\/console\/supervision\/orders\/\d+/)
  await expect(page.locator('[data-test=order-status]')).toHaveText('待答复')
  await expect(page.locator('[data-test=order-violation]')).toHaveText(new RegExp(`^${problemTitle}（`))
  const orderUrl = page.url()
  await shot(page, '09-order-issued')

  await page.click('[data-test=logout]')
  await expect(page).toHaveURL(/\/console\/login/)
  await login(page, 'demo-principal-1')
  await page.goto(orderUrl)
  await page.fill('[data-test=order-answer]', '已完成后厨卫生整改，附整改记录。')
  // The session is revoked elsewhere (log-out on another device): the next call answers 401.
  const principalToken = await page.evaluate(() => localStorage.getItem('console.token'))
  await request.post('/api/v1/auth/logout', { headers: { Authorization: `Bearer ${principalToken}` } })
  await page.click('[data-test=order-respond]')
  await expect(page).toHaveURL(/\/console\/login\?.*expired=1/)
  await expect(page.locator('[data-test=expired]')).toBeVisible()
  await shot(page, '10-login-expired')
  await page.click('[data-test="login-demo-principal-1"]')
  await expect(page).toHaveURL(orderUrl)
  await expect(page.locator('[data-test=order-answer]')).toHaveValue('已完成后厨卫生整改，附整改记录。')
  await page.click('[data-test=order-respond]')
  await expect(page.locator('[data-test=order-status]')).toHaveText('已答复')
  await expect(page.locator('[data-test=order-response]')).toHaveText('已完成后厨卫生整改，附整改记录。')
  await shot(page, '11-order-answered')

  await page.click('[data-test=logout]')
  await login(page, 'demo-regulator')
  await page.goto(orderUrl)
  await page.fill('[data-test=order-close-reason]', '已核实整改到位')
  await page.click('[data-test=order-close]')
  await expect(page.locator('[data-test=order-status]')).toHaveText('已办结')
  await shot(page, '11b-order-closed')
})

test('a regulator runs a spot check', async ({ page }) => {
  await login(page, 'demo-regulator')
  await page.goto('/console/supervision?tab=spot-checks')
  await page.click('[data-test=spot-draw]')
  await expect(page.locator('[data-test=spot-checks] .el-table__row')).toHaveCount(1)
  await shot(page, '12-spot-checks')
  await page.getByRole('tab', { name: '联合检查' }).click()
  await shot(page, '13-inspections')
})

/** A small real PNG (16×12, red): the server decodes and re-encodes every uploaded image. */
const FRIDGE_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAABAAAAAMCAIAAADkharWAAAAF0lEQVR4nGM8oaHBQApgIkn1qIYRpAEAn4oBMOU3wBAAAAAASUVORK5CYII=', 'base64')

test('a regulator plans a joint inspection from the spot check, visits a canteen and records a finding', async ({ page }) => {
  await login(page, 'demo-regulator')
  await page.goto('/console/supervision?tab=inspections')
  const form = page.locator('[data-test=round-form]')
  await page.fill('[data-test=round-title]', '秋季学校食堂联合检查')
  await form.getByPlaceholder('北京时间').fill('2030-03-01 09:00:00')
  await page.keyboard.press('Enter')
  // The other inspectors by name, from the region's list (oneself is not offered: the creator leads).
  await page.locator('[data-test=round-inspectors]').click()
  await expect(page.getByRole('option', { name: '西湖区市场监管局', exact: true })).toHaveCount(0)
  await page.getByRole('option', { name: '西湖区市场监管局执法二组' }).click()
  await page.keyboard.press('Escape')
  await form.locator('[data-test=round-spot-check]').click()
  await page.getByRole('option', { name: /抽查 #1/ }).click()
  await page.click('[data-test=round-create]')
  await expect(page).toHaveURL(/\/console\/supervision\/inspections\/\d+/)
  await expect(page.locator('[data-test=round-inspectors]')).toHaveText('检查人员 西湖区市场监管局（带队）、西湖区市场监管局执法二组')
  await expect(page.locator('[data-test=targets] .el-table__row')).toHaveCount(2)
  await expect(page.locator('[data-test=targets] .el-table__row').first()).toContainText(' · ')  // school · canteen
  await page.locator('[data-test=visit-issues]').first().click()
  await expect(page.locator('[data-test=targets] .el-table__row').first()).toContainText('有问题')
  await page.locator('[data-test=finding-canteen]').click()
  await page.getByRole('option', { name: /食堂/ }).first().click()
  await page.fill('[data-test=finding-description]', '冷藏柜温度超过 8 °C，未见温度记录')
  await page.locator('[data-test=finding-photo-input]').setInputFiles({ name: 'fridge.png', mimeType: 'image/png', buffer: FRIDGE_PNG })
  await expect(page.locator('[data-test=finding-photo] img')).toHaveCount(1)
  await page.click('[data-test=finding-create]')
  await expect(page.locator('[data-test=findings] .el-table__row')).toHaveCount(1)
  // The finding shows its photo, loaded from its signed URL.
  const photo = page.locator('[data-test=finding-photos] img')
  await expect(photo).toHaveCount(1)
  await expect.poll(() => photo.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0)
  await expect(page.locator('[data-test=findings] a')).toHaveText(/#\d+/)  // the finding opened a violation
  await page.fill('[data-test=round-summary-text]', '抽查两家食堂，一家存在冷链记录问题，已责令整改。')
  await page.click('[data-test=round-complete]')
  await expect(page.locator('[data-test=round-summary]')).toContainText('已责令整改')
  await shot(page, '15-inspection')
})

test('a principal logs in by scanning the mini-program code', async ({ page, request }) => {
  // Before the first route resolves the desk's frame must not mount: its 消息 bell would ask the inbox without a
  // session (a 401 in the browser's console on every visit to the log-in page).
  const apiCalls: string[] = []
  page.on('request', (r) => { if (r.url().includes('/api/v1/')) apiCalls.push(new URL(r.url()).pathname) })
  await page.goto('/console/login?next=/violations')
  await expect(page.locator('[data-test=wxacode]')).toBeVisible()
  expect(apiCalls.filter((path) => !path.startsWith('/api/v1/auth/console-tickets'))).toEqual([])
  await expect(page.locator('[data-test=inbox-badge]')).toHaveCount(0)
  await expect(page.locator('[data-test=wxacode]')).toBeVisible()
  // The phone: the mini-program's confirm page opened with the code's scene, confirming as the principal.
  const calls = (await (await request.get(`${wechatFake}/__fake__/calls?endpoint=getwxacodeunlimit`)).json()).result
  const code = calls[calls.length - 1].json
  expect(code.page).toBe('pages/accounts/console-login/index')
  const scene = code.scene
  await api(request, await token(request, 'demo-principal-1'), '/auth/console-tickets/confirm', { scene })
  await expect(page).toHaveURL(/\/console\/violations/)  // the console, polling, received its own session
  await expect(page.locator('[data-test=desk]')).toContainText('西湖实验小学 · 校长')
})

test('退出所有设备 ends the account\'s sessions on every computer and phone', async ({ page, browser, request, baseURL }) => {
  const phone = await token(request, 'demo-staff-1')  // the same account in the mini-program
  await login(page, 'demo-staff-1')
  const otherComputer = await browser.newContext({ baseURL })
  const other = await otherComputer.newPage()
  try {
    await login(other, 'demo-staff-1')
    await page.click('[data-test=logout-all]')
    await expect(page.locator('.el-message-box')).toContainText('所有电脑和手机')
    await shot(page, '15-logout-all-confirm')
    await page.locator('.el-message-box .el-button--primary').click()
    await expect(page).toHaveURL(/\/console\/login/)
    await expect(page.locator('.el-message--success')).toContainText('已退出所有设备上的登录')
    const me = await request.get('/api/v1/me', { headers: { Authorization: `Bearer ${phone}` } })
    expect(me.status()).toBe(401)
    // The other computer finds out at its next call: back to log-in, told the session ended.
    await other.click('[data-test=menu-violations]')
    await expect(other).toHaveURL(/\/console\/login\?.*expired=1/)
  } finally {
    await otherComputer.close()
  }
})

test('an account without school or region gets a clear page', async ({ page }) => {
  await page.goto('/console/login')
  await shot(page, '00-login')
  await page.click('[data-test="login-demo-parent-1"]')
  await expect(page.locator('[data-test=no-desk]')).toContainText('没有可用的工作台')
  await shot(page, '14-no-desk')
})

test('the first page load, log-in then overview, stays under 500 KB of gzipped JavaScript', async ({ page }) => {
  const scripts = new Set<string>()
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname
    if (path.startsWith('/console/assets/') && path.endsWith('.js')) scripts.add(path)
  })
  await login(page, 'demo-regulator')
  await page.waitForLoadState('networkidle')
  const sizes = [...scripts].map((path) => ({
    path, gzip: gzipSync(readFileSync(`dist/${path.slice('/console/'.length)}`), { level: 9 }).length,
  }))
  const total = sizes.reduce((sum, s) => sum + s.gzip, 0)
  writeFileSync('artifacts/first-load-js.txt', sizes.map((s) => `${s.gzip}\t${s.path}`).join('\n')
    + `\n${total}\ttotal gzipped JavaScript (${(total / 1024).toFixed(1)} KiB)\n`)
  expect(sizes.some((s) => s.path.includes('charts'))).toBe(true)  // the overview's charts are part of it
  expect(total).toBeLessThan(500 * 1024)
})
