// 群机器人 and 我的通知方式 in Chromium against the real API on the demo seed: the principal adds the school's
// WeCom group robot (a wrong webhook refused next to its field), sees only the key's last four characters,
// switches it off and deletes it; a regulator adds the county's robot on 风险警示; a console user turns SMS on,
// meets the phone refusal next to the phone field and saves quiet hours through midnight.
import { expect, test, type APIRequestContext, type Page } from '@playwright/test'

test.describe.configure({ mode: 'serial' })

const KEY = '693a91f6-7a0c-4bc4-97a0-0ec2f1fa5aaa'
const WEBHOOK = `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${KEY}`

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

test('the principal adds, switches off and deletes the school\'s group robot; the key is never shown', async ({ page, request }) => {
  await login(page, 'demo-principal-1')
  await page.goto('/console/school?tab=robots')
  await expect(page.locator('[data-test=robots]')).toContainText('暂无群机器人')
  await page.fill('[data-test=robot-name]', '食堂工作群')
  await page.fill('[data-test=robot-key]', 'https://evil.example/hook')
  await page.click('[data-test=robot-add]')
  await expect(fieldOf(page, 'robot-key').locator('.el-form-item__error'))
    .toHaveText('请填写企业微信群机器人的 Webhook 地址或其中的 key')

  await page.fill('[data-test=robot-key]', WEBHOOK)
  await page.locator('[data-test=robot-classes]').getByText('三级风险').click()
  await page.click('[data-test=robot-add]')
  await expect(page.locator('.el-message--success')).toContainText('群机器人已添加')
  const row = page.locator('[data-test=robots] .el-table__row', { hasText: '食堂工作群' })
  await expect(row).toContainText('****5aaa')
  await expect(row).toContainText('一级、二级、三级')
  await expect(page.locator('[data-test=notice-robots]')).not.toContainText(KEY)
  const [robot] = await apiGet(request, 'demo-principal-1', '/schools/1/notice-robots')
  expect(robot).toMatchObject({ name: '食堂工作群', key_hint: '****5aaa', classes: [1, 2, 3], enabled: true })

  await row.locator(`[data-test=robot-enabled-${robot.id}]`).click()
  await expect(page.locator('.el-message--success', { hasText: '已停用' })).toBeVisible()
  expect((await apiGet(request, 'demo-principal-1', '/schools/1/notice-robots'))[0].enabled).toBe(false)

  await row.locator(`[data-test=robot-delete-${robot.id}]`).click()
  await page.getByRole('button', { name: 'OK' }).or(page.getByRole('button', { name: '确定' })).click()
  await expect(page.locator('[data-test=robots]')).toContainText('暂无群机器人')
  expect(await apiGet(request, 'demo-principal-1', '/schools/1/notice-robots')).toEqual([])
})

test('a regulator adds the county\'s group robot on 风险警示', async ({ page, request }) => {
  await login(page, 'demo-regulator')
  await page.click('[data-test="menu-risk"]')
  await page.getByRole('tab', { name: '群机器人' }).click()
  await page.fill('[data-test=robot-name]', '西湖区监管群')
  await page.fill('[data-test=robot-key]', KEY)
  await page.click('[data-test=robot-add]')
  await expect(page.locator('[data-test=robots] .el-table__row', { hasText: '西湖区监管群' })).toContainText('一级、二级')
  const me = await apiGet(request, 'demo-regulator', '/me')
  const robots = await apiGet(request, 'demo-regulator', `/regions/${me.regulator_scopes[0].region_id}/notice-robots`)
  expect(robots.map((r: any) => [r.name, r.scope, r.key_hint])).toEqual([['西湖区监管群', 'region', '****5aaa']])
})

test('a console user sets SMS to their own number and quiet hours through midnight', async ({ page, request }) => {
  await login(page, 'demo-principal-1')
  await page.click('[data-test=my-channels]')
  const form = page.locator('[data-test=channels-form]')
  await expect(form).toContainText('尚未设置')
  await expect(page.locator('[data-test=channels-urgent]')).toHaveText('一级风险问题不受免打扰限制，随时提醒。')
  await page.click('[data-test=channels-sms]')
  await page.locator('[data-test=channels-phone-mode]').getByText('其他号码').click()
  await page.fill('[data-test=channels-phone]', '12800138000')
  await page.click('[data-test=channels-save]')
  await expect(fieldOf(page, 'channels-phone').locator('.el-form-item__error')).toHaveText('请填写正确的11位手机号码')

  await page.fill('[data-test=channels-phone]', '139 0013 9000')
  await page.click('[data-test=channels-quiet]')
  await expect(form).toContainText('每天 22:00 至次日 07:00')
  await page.click('[data-test=channels-save]')
  await expect(page.locator('.el-message--success')).toContainText('通知方式已保存')
  const saved = await apiGet(request, 'demo-principal-1', '/me/notice-channels')
  expect(saved).toMatchObject({ wechat: true, sms: true, phone: '13900139000', sms_phone: '139****9000',
    sms_classes: [1, 2], quiet_start: '22:00', quiet_end: '07:00' })
})
