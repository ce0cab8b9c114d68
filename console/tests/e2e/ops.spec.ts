// The platform desk in Chromium against the real API (tests/e2e/serve.sh). 通知投递: a violation's WeChat notice really
// fails on the WeChat fake (the staff member, logged in through dev-login, is no openid WeChat knows: 40003), and the
// platform admin, whose only desk is the platform's, finds it named, explained and retried. 用户与会话: the admin finds a
// parent's account and ends every session of it; the parent's phone must log in again.
import { execFileSync } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { expect, test, type APIRequestContext } from '@playwright/test'
import { wechatFake } from '../../playwright.config'

test.describe.configure({ mode: 'serial' })

const CONSOLE = resolve(dirname(new URL(import.meta.url).pathname), '../..')
const ROOT = dirname(CONSOLE)
const WORK = `${CONSOLE}/artifacts/api`
const SHOTS = 'artifacts/screenshots'

/** A violation raised and its notices dispatched in the API's database (as the scheduler's dispatcher would), the
 * staff member having accepted one subscription: their notice goes to the WeChat fake. Answers the run's report. */
function raiseAndDispatch(): Record<string, number> {
  const python = process.env.PYTHON ?? `${ROOT}/.venv/bin/python`
  const script = `
import json
from sqlalchemy import select
from backend.app import create_app
app = create_app()
with app.app_context():
    from backend.accounts.models import User
    from backend.extensions import db
    from backend.notices import quota
    from backend.notices.dispatcher import dispatch_due
    from backend.notices.templates import DEV_TEMPLATE_IDS
    from backend.timeutil import utcnow
    from backend.violations.services import raise_violation
    staff = db.session.scalar(select(User).where(User.openid == "demo-staff-1"))
    quota.record_choice(staff.id, DEV_TEMPLATE_IDS["violation"], "accept", "client")
    db.session.commit()
    raise_violation(canteen_id=1, kind="rodent", source="record_rule", idempotency_key=f"e2e-ops-{utcnow().timestamp()}",
                    occurred_at=utcnow())
    print(json.dumps(dispatch_due().as_dict()))
`
  return JSON.parse(execFileSync(python, ['-c', script], {
    cwd: ROOT,
    env: { ...process.env, APP_ENV: 'development', FLASK_APP: 'backend.app:create_app', PYTHONPATH: ROOT,
      INSTANCE_PATH: `${WORK}/instance`, DATABASE_URL: `sqlite:///${WORK}/console-e2e.db`, LOG_LEVEL: 'WARNING',
      WECHAT_API_BASE: `${wechatFake}/`, WECHAT_APPID: 'wx_console_e2e', WECHAT_SECRET: 'console-e2e-secret' },
  }).toString().trim().split('\n').pop()!)
}

async function adminGet(request: APIRequestContext, path: string): Promise<any> {
  const { token } = await (await request.post('/api/v1/auth/dev-login', { data: { openid: 'demo-admin' } })).json()
  const response = await request.get(`/api/v1${path}`, { headers: { Authorization: `Bearer ${token}` } })
  expect(response.ok(), await response.text()).toBeTruthy()
  return response.json()
}

test('the platform admin finds a notice WeChat refused, named and explained, and sends it again', async ({ page, request }) => {
  const report = raiseAndDispatch()
  expect(report.failed).toBeGreaterThanOrEqual(1)
  const [failed] = await adminGet(request, '/admin/notices?status=failed&limit=1')
  expect(failed.last_error).toMatch(/^40003/)

  // An admin without region or school: the platform's desk, 通知投递 only (总览 after log-in leads there).
  await page.goto('/console/login')
  await page.click('[data-test="login-demo-admin"]')
  await expect(page).toHaveURL(/\/console\/ops/)
  await expect(page.locator('[data-test=desk]')).toHaveText('平台运维 · 平台管理员')
  await expect(page.locator('.menu .el-menu-item')).toHaveText(['通知投递', '用户与会话'])
  const rows = page.locator('[data-test=notice-rows] .el-table__body-wrapper')
  const row = rows.locator('.el-table__row').first()
  await expect(row).toContainText('西湖实验小学学校食品安全管理员（学校食品安全管理员）')
  await expect(row).toContainText('西湖实验小学')
  await expect(row).toContainText('发送失败')
  await expect(page.locator(`[data-test=hint-${failed.id}]`)).toContainText('openid 无效')
  await page.screenshot({ path: `${SHOTS}/ops-01-failed.png`, fullPage: true })

  await page.click(`[data-test=attempts-${failed.id}]`)
  const attempts = page.locator('[data-test=attempts]')
  await expect(attempts).toContainText('失败')
  await expect(attempts).toContainText('40003')
  await page.keyboard.press('Escape')

  // The other channels' tab lists by state too (nothing was sent by SMS here).
  await page.locator('[data-test=delivery-tabs] .el-tabs__item', { hasText: '短信与群机器人' }).click()
  await expect(page.locator('[data-test=channel-rows]')).toBeVisible()
  await page.locator('[data-test=delivery-tabs] .el-tabs__item', { hasText: '微信订阅消息' }).click()

  // 重试, once the cause is fixed: a fresh budget, due now; the row leaves 发送失败.
  await page.click(`[data-test=retry-${failed.id}]`)
  await expect(page.locator('.el-message-box')).toContainText('请先确认失败原因已处理')
  await page.locator('.el-message-box .el-button--primary').click()
  await expect(page.locator('.el-message--success')).toContainText('已重新排队发送')
  await expect(page.locator(`[data-test=retry-${failed.id}]`)).toHaveCount(0)
  const pending = await adminGet(request, '/admin/notices?status=pending&limit=200')
  expect(pending.map((n: any) => n.id)).toContain(failed.id)
  await page.click('[data-test=delivery-status]')
  await page.locator('.el-select-dropdown__item', { hasText: '待发送' }).click()
  await expect(page.locator(`[data-test=attempts-${failed.id}]`)).toBeVisible()
})

test('the platform admin finds a parent\'s account and signs it out everywhere (用户与会话)', async ({ page, request }) => {
  const { token } = await (await request.post('/api/v1/auth/dev-login', { data: { openid: 'demo-parent-1' } })).json()
  const phone = { Authorization: `Bearer ${token}` }
  const me = await (await request.get('/api/v1/me', { headers: phone })).json()

  await page.goto('/console/login')
  await page.click('[data-test="login-demo-admin"]')
  await page.locator('.menu .el-menu-item', { hasText: '用户与会话' }).click()
  await expect(page).toHaveURL(/\/console\/users/)
  await page.fill('[data-test=user-search]', '西湖实验小学家长')
  await page.click('[data-test=user-search-submit]')
  const row = page.locator('[data-test=user-rows] .el-table__row', { hasText: String(me.id) }).first()
  await expect(row).toContainText('西湖实验小学 · 家长')
  await expect(row).toContainText('三年级二班')
  await expect(row).toContainText('已通过')
  const sessions = page.locator(`[data-test=sessions-${me.id}]`)
  await expect.poll(async () => Number(await sessions.textContent())).toBeGreaterThanOrEqual(1)
  await page.screenshot({ path: `${SHOTS}/ops-02-users.png`, fullPage: true })

  await page.click(`[data-test=revoke-${me.id}]`)
  await expect(page.locator('.el-message-box')).toContainText('在所有设备上的登录都将失效')
  await page.locator('.el-message-box .el-button--primary').click()
  await expect(page.locator('.el-message--success')).toContainText('已结束')
  await expect(sessions).toHaveText('0')
  await expect(page.locator(`[data-test=revoke-${me.id}]`)).toBeDisabled()
  expect((await request.get('/api/v1/me', { headers: phone })).status()).toBe(401)

  // Nothing that names no account: said, not an empty table without a word.
  await page.fill('[data-test=user-search]', '没有这个人')
  await page.click('[data-test=user-search-submit]')
  await expect(page.locator('[data-test=user-rows]')).toContainText('没有与「没有这个人」相符的用户')
})
