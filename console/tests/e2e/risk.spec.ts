// 风险警示 in Chromium against the real API on the demo seed: a regulator reads the cards and each school's
// camera uptime, changes the region's card durations and sees the change in the settings' history (and the API);
// 风险预警: a regulator reads and acknowledges an early warning, a principal reads the school's.
import { expect, test, type APIRequestContext, type Page } from '@playwright/test'

async function token(request: APIRequestContext, openid: string): Promise<string> {
  const response = await request.post('/api/v1/auth/dev-login', { data: { openid } })
  expect(response.ok()).toBeTruthy()
  return (await response.json()).token
}

async function login(page: Page, openid: string): Promise<void> {
  await page.goto('/console/login')
  await page.click(`[data-test="login-${openid}"]`)
  await expect(page).toHaveURL(/\/console\/overview/)
}

test('a regulator reads the cards and uptime and changes the region\'s card durations', async ({ page, request }) => {
  await login(page, 'demo-regulator')
  await page.click('[data-test="menu-risk"]')
  await expect(page).toHaveURL(/\/console\/risk/)
  await expect(page.locator('[data-test=cards]')).toContainText('没有警示牌')
  await expect(page.locator('[data-test=uptime] .el-table__row')).toHaveCount(2)  // the county's two schools

  await page.getByRole('tab', { name: '风险分级设置' }).click()
  await expect(page.locator('[data-test=risk-settings]')).toContainText('发现鼠患')
  const yellow = page.locator('[data-test=yellow-hours] input')
  await yellow.fill('6')
  await yellow.blur()
  await page.click('[data-test=save-settings]')
  await expect(page.getByText('已保存')).toBeVisible()
  await expect(page.locator('[data-test=settings-history] .el-table__row')).toHaveCount(1)
  await expect(page.locator('[data-test=settings-history]')).toContainText('警示牌时限：6 / 120 小时')

  const regulator = await token(request, 'demo-regulator')
  const me = await (await request.get('/api/v1/me', { headers: { Authorization: `Bearer ${regulator}` } })).json()
  const settings = await (await request.get(`/api/v1/regions/${me.regulator_scopes[0].region_id}/risk/settings`,
    { headers: { Authorization: `Bearer ${regulator}` } })).json()
  expect(settings.cards).toMatchObject({ yellow_after_hours: 6, red_after_hours: 120, source: 'own' })
})

test('a principal sees the school\'s cards and uptime but no settings', async ({ page }) => {
  await login(page, 'demo-principal-1')
  await page.click('[data-test="menu-risk"]')
  await expect(page.locator('[data-test=uptime] .el-table__row')).toHaveCount(1)
  await expect(page.getByRole('tab', { name: '风险分级设置' })).toHaveCount(0)
})

test('a regulator reads the early warnings with the data behind them and acknowledges one', async ({ page, request }) => {
  // `flask seed-demo` ran the warnings job once: school 1's supplier licence ends in 20 days.
  await login(page, 'demo-regulator')
  await page.click('[data-test="menu-warnings"]')
  await expect(page).toHaveURL(/\/console\/warnings/)
  await page.click('[data-test="warning-kind"]')
  await page.locator('.el-select-dropdown__item:visible', { hasText: '供应商证照到期' }).click()
  const rows = page.locator('[data-test=warnings] .el-table__row')
  await expect(rows).toHaveCount(1)
  await expect(rows.first()).toContainText('还剩 20 天')
  await expect(rows.first()).toContainText('食品经营许可证有效期至')
  await rows.first().locator('[data-test=acknowledge]').click()
  await page.fill('.el-message-box__input input', '已电话提醒学校更新许可证')
  await page.locator('.el-message-box__btns .el-button--primary').click()
  await expect(page.getByText('已确认')).toBeVisible()
  await expect(rows.first().locator('[data-test=ack-note]')).toContainText('已电话提醒学校更新许可证')

  const regulator = await token(request, 'demo-regulator')
  const me = await (await request.get('/api/v1/me', { headers: { Authorization: `Bearer ${regulator}` } })).json()
  const listed = await (await request.get(
    `/api/v1/regions/${me.regulator_scopes[0].region_id}/risk/warnings?kind=supplier_certificate`,
    { headers: { Authorization: `Bearer ${regulator}` } })).json()
  expect(listed).toHaveLength(1)
  expect(listed[0]).toMatchObject({ ack_note: '已电话提醒学校更新许可证', school_name: '西湖实验小学' })
})

test('a principal reads the school\'s early warnings but does not acknowledge them', async ({ page }) => {
  await login(page, 'demo-principal-1')
  await page.click('[data-test="menu-warnings"]')
  await expect(page.locator('[data-test=warnings]')).toContainText('供应商证照到期')
  await expect(page.locator('[data-test=acknowledge]')).toHaveCount(0)
})
