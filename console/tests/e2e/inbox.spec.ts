// 消息 in the header, in Chromium against the real API on the demo seed (tests/e2e/serve.sh): a regulator seals
// a kitchen area of the principal's school; the principal's badge counts the notice the API holds, the drawer
// shows it, a click opens the school's 台账 and marks it read, 全部已读 clears the badge.
import { expect, test, type APIRequestContext } from '@playwright/test'

test.describe.configure({ mode: 'serial' })

const SHOTS = 'artifacts/screenshots'

async function token(request: APIRequestContext, openid: string): Promise<string> {
  const response = await request.post('/api/v1/auth/dev-login', { data: { openid } })
  expect(response.ok()).toBeTruthy()
  return (await response.json()).token
}

async function call(request: APIRequestContext, bearer: string, method: 'get' | 'post', path: string,
  data?: unknown): Promise<any> {
  const response = await request[method](`/api/v1${path}`, {
    headers: { Authorization: `Bearer ${bearer}`, 'Idempotency-Key': `e2e-inbox-${Date.now()}-${Math.random()}` },
    data,
  })
  expect(response.ok(), `${path}: ${await response.text()}`).toBeTruthy()
  return response.json()
}

test('a notice reaches the desk: the badge, the drawer, the page it is about, read', async ({ page, request }) => {
  const regulator = await token(request, 'demo-regulator')
  const principal = await token(request, 'demo-principal-1')
  const [canteen] = await call(request, regulator, 'get', '/schools/1/canteens')
  // Two areas sealed: two notices, one opened from the drawer, the other left for 全部已读.
  const [area, other] = await call(request, regulator, 'get', `/canteens/${canteen.id}/areas`)
  const seal = await call(request, regulator, 'post', `/canteens/${canteen.id}/seals`,
    { target: 'area', target_id: area.id, reason: '发现鼠迹，暂停使用并消杀' })
  const second = await call(request, regulator, 'post', `/canteens/${canteen.id}/seals`,
    { target: 'area', target_id: other.id, reason: '排水沟堵塞，清理前暂停使用' })
  const inbox = await call(request, principal, 'get', '/inbox?limit=5')
  const notice = inbox.items.find((n: any) => n.subject_type === 'record' && n.subject_id === seal.id)
  expect(notice.title).toBe(`封存通知：${area.name}`)

  await page.addInitScript((value) => localStorage.setItem('console.token', value), principal)
  await page.goto('/console/overview')
  await expect(page.locator('[data-test=inbox-badge] sup')).toHaveText(String(Math.min(inbox.unread, 99)))
  await page.click('[data-test=inbox-open]')
  const item = page.locator(`[data-test=notice-${notice.id}]`)
  await expect(item).toContainText(`封存通知：${area.name}`)
  await expect(item).toContainText('西湖区市场监管部门封存了')
  await expect(item.locator('.dot')).toHaveCount(1)
  await page.screenshot({ path: `${SHOTS}/inbox.png` })
  await item.click()
  await expect(page).toHaveURL(/\/console\/ledger\?.*school=1/)
  const after = await call(request, principal, 'get', '/inbox?limit=5')
  expect(after.items.find((n: any) => n.id === notice.id).read).toBe(true)
  expect(after.unread).toBe(inbox.unread - 1)
  await expect(page.locator('[data-test=inbox-badge] sup')).toHaveText(String(Math.min(after.unread, 99)))

  await page.click('[data-test=inbox-open]')
  await page.click('[data-test=inbox-read-all]')
  await expect(page.locator('[data-test=inbox-unread]')).toHaveText('没有未读消息')
  await expect(page.locator('[data-test=inbox-badge] sup')).toBeHidden()
  expect((await call(request, principal, 'get', '/inbox?unread=true&limit=1')).unread).toBe(0)
  for (const s of [seal, second]) await call(request, regulator, 'post', `/records/${s.id}/release`, { reason: '复查合格' })
})
