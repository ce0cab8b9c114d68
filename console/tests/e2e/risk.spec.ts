// 风险警示 in Chromium against the real API on the demo seed: a regulator reads the cards and each school's
// camera uptime, changes the region's card durations and sees the change in the settings' history (and the API).
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
