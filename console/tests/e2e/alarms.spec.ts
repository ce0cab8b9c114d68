// 告警审核 in Chromium against the real API on the demo seed (tests/e2e/serve.sh seeds pending AI alarms with
// evidence pictures): the regulator reviews alarms and sees them leave the queue, a false positive needs its
// reason (the server's field error shows next to the field), and an alarm raised on the server afterwards
// (`flask demo-alarm`, as the detection worker would) appears without a reload.
import { execFileSync } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { expect, test, type Page } from '@playwright/test'

test.describe.configure({ mode: 'serial' })

const CONSOLE = resolve(dirname(new URL(import.meta.url).pathname), '../..')
const ROOT = dirname(CONSOLE)
const WORK = `${CONSOLE}/artifacts/api`

/** Raise an AI alarm in the API's database the way serve.sh configured it; its violation id. */
function raiseAlarm(schoolId: number): number {
  const python = process.env.PYTHON ?? `${ROOT}/.venv/bin/python`
  const output = execFileSync(python, ['-m', 'flask', 'demo-alarm', '--school-id', String(schoolId)], {
    cwd: ROOT,
    env: { ...process.env, APP_ENV: 'development', FLASK_APP: 'backend.app:create_app', PYTHONPATH: ROOT,
      INSTANCE_PATH: `${WORK}/instance`, DATABASE_URL: `sqlite:///${WORK}/console-e2e.db`, LOG_LEVEL: 'WARNING' },
  }).toString()
  return Number(/alarm (\d+)/.exec(output)?.[1])
}

async function login(page: Page, openid: string): Promise<void> {
  await page.goto('/console/login')
  await page.click(`[data-test="login-${openid}"]`)
  await expect(page).toHaveURL(/\/console\/overview/)
}

test('the regulator reviews alarms, and a new one appears without a reload', async ({ page }) => {
  await login(page, 'demo-regulator')
  await page.click('[data-test="menu-alarms"]')
  await expect(page).toHaveURL(/\/console\/alarms/)
  await expect(page.locator('[data-test="shortcuts"]')).toContainText('j / k')
  const alarms = page.locator('[data-alarm]')
  await expect(alarms.first()).toBeVisible()
  const before = await alarms.count()
  expect(before).toBeGreaterThanOrEqual(4)
  // The seed's no_mask alarms of one camera within 10 minutes (two of seed-demo's, and the one seed-recordings
  // marks on the same camera when it runs) are one event.
  await expect(page.locator('[data-test="group-count"]').first()).toContainText(/同一事件 [23] 条/)
  await expect(page.locator('[data-alarm] img').first()).toBeVisible()
  await page.screenshot({ path: 'artifacts/screenshots/alarms.png', fullPage: true })

  // Confirm the first alarm with the button: it leaves the pending queue.
  const first = await alarms.first().getAttribute('data-alarm')
  await alarms.first().locator('[data-test="confirm"]').click()
  await expect(page.locator(`[data-alarm="${first}"]`)).toHaveCount(0)
  await expect(page.locator('[data-test="alarm-notice"]')).toContainText('确认属实')

  // A fast pass with the keyboard: j moves down, f opens the reason dialog; no reason → the field error.
  await page.locator('body').click({ position: { x: 5, y: 5 } })
  await page.keyboard.press('j')
  const second = await page.locator('[data-alarm].selected').getAttribute('data-alarm')
  await page.keyboard.press('f')
  await page.click('[data-test="submit-false"]')
  await expect(page.locator('[data-test="false-dialog"] .el-form-item__error')).toContainText('必须填写原因')
  await page.fill('[data-test="false-dialog"] textarea', '画面中人员已佩戴口罩，识别有误')
  await page.click('[data-test="submit-false"]')
  await expect(page.locator(`[data-alarm="${second}"]`)).toHaveCount(0)
  await expect(alarms).toHaveCount(before - 2)

  // The verdict counts follow (per camera: its false-alarm rate).
  await expect(page.locator('[data-test="alarm-stats"]')).toContainText('确认 1，误报 1', { timeout: 5000 })

  // Reviewed alarms are listed under 已审核 with who decided.
  await page.locator('[data-test="filter-state"]').getByText('已审核').click()
  await expect(page.locator(`[data-alarm="${second}"] [data-test="review"]`)).toContainText('误报')
  await page.locator('[data-test="filter-state"]').getByText('待审核').click()
  await expect(alarms).toHaveCount(before - 2)

  // The detection worker raises a new alarm: it shows up, with the badge, without a reload.
  const fresh = raiseAlarm(1)
  await expect(page.locator(`[data-alarm="${fresh}"]`)).toBeVisible({ timeout: 5000 })
  await expect(page.locator('[data-test="fresh-badge"]')).toBeVisible()
  await page.screenshot({ path: 'artifacts/screenshots/alarms-new.png', fullPage: true })
})

test('a principal reviews only the own school, and a canteen manager has no review queue', async ({ page }) => {
  await login(page, 'demo-principal-2')
  await page.click('[data-test="menu-alarms"]')
  await expect(page.locator('[data-alarm]').first()).toBeVisible()
  const names = await page.locator('.group-title + .muted').allInnerTexts()
  expect(new Set(names)).toEqual(new Set(['文三路中学']))
  await page.click('[data-test="logout"]')
  await login(page, 'demo-manager-1')
  await expect(page.locator('[data-test="menu-alarms"]')).toHaveCount(0)
})
