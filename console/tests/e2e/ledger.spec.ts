// 台账 and 摄像头 in Chromium against the real API on the demo seed (tests/e2e/serve.sh): a record and its
// photo, the chain's verification, the Excel export opened and read, a certificate scan from the trace, the
// records past their keeping time (保存期限), and the cameras with the offline one first. Screenshots in artifacts/screenshots/.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { expect, test, type APIRequestContext, type Page } from '@playwright/test'

test.describe.configure({ mode: 'serial' })

const SHOTS = 'artifacts/screenshots'
const PYTHON = process.env.PYTHON ?? 'python3'

async function token(request: APIRequestContext, openid: string): Promise<string> {
  const response = await request.post('/api/v1/auth/dev-login', { data: { openid } })
  expect(response.ok()).toBeTruthy()
  return (await response.json()).token
}

async function api(request: APIRequestContext, bearer: string, path: string): Promise<any> {
  const response = await request.get(`/api/v1${path}`, { headers: { Authorization: `Bearer ${bearer}` } })
  expect(response.ok(), `${path}: ${await response.text()}`).toBeTruthy()
  return response.json()
}

async function login(page: Page, openid: string): Promise<void> {
  await page.goto('/console/login')
  await page.click(`[data-test="login-${openid}"]`)
  await expect(page).toHaveURL(/\/console\/overview/)
}

/** Yesterday in Asia/Shanghai: the demo seed's complete day (every meal served, one record corrected). */
function yesterday(): string {
  const shanghai = new Date(Date.now() + 8 * 3600_000 - 86400_000)
  return shanghai.toISOString().slice(0, 10)
}

/** Wait until an <img> really decoded its picture (a broken URL leaves naturalWidth at 0). */
async function expectLoadedImage(page: Page, selector: string): Promise<void> {
  await expect.poll(() => page.locator(selector).evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
    .toBeGreaterThan(0)
}

test('a regulator reads a canteen day: a record and its photo, the chain, the trace, the Excel export',
  async ({ page, request }) => {
    const regulator = await token(request, 'demo-regulator')
    const [school] = await api(request, regulator, '/schools')
    const [canteen] = await api(request, regulator, `/schools/${school.id}/canteens`)
    const day = yesterday()
    await login(page, 'demo-regulator')
    const loads: string[] = []
    page.on('request', (r) => { if (/\/canteens\/\d+\/(ledger|records\/verify)/.test(r.url())) loads.push(new URL(r.url()).pathname) })
    await page.click('.el-menu-item:has-text("台账")')
    await expect(page).toHaveURL(/\/console\/ledger\?school=\d+&canteen=\d+&day=/)
    await expect(page.locator('[data-test=ledger-meta]')).toBeVisible()
    await page.waitForLoadState('networkidle')
    // Opened from the menu, the page picks a canteen and puts it in the URL: one day and one chain check, not two.
    expect(loads.filter((path) => path.endsWith('/ledger'))).toHaveLength(1)
    expect(loads.filter((path) => path.endsWith('/records/verify'))).toHaveLength(1)
    await page.goto(`/console/ledger?school=${school.id}&canteen=${canteen.id}&day=${day}`)
    await expect(page.locator('[data-test=ledger-meta]')).toContainText(`${school.name} · ${canteen.name} · ${day}`)

    // The chain's verification, as the API computes it.
    const verify = await api(request, regulator, `/canteens/${canteen.id}/records/verify`)
    expect(verify.ok).toBe(true)
    await expect(page.locator('[data-test=chain]')).toContainText(`记录链完整：已校验 ${verify.checked} 条记录`)

    // The day's morning check (晨检), as the day's first section: the demo's four people with a health certificate.
    const morning = page.locator('[data-test=section-morning_check] .el-table__row')
    await expect(morning).toHaveCount(1)
    await expect(morning).toContainText('检查人 周师傅 · 4 人，合格 4 人')
    await morning.click()  // person by person: temperature, hands, symptoms, the result and the health certificate
    const persons = page.locator('[data-test=morning-check-persons] .el-table__row')
    await expect(persons).toHaveCount(4)
    await expect(persons.filter({ hasText: '郑师傅' })).toContainText('30 天内到期')
    await expect(persons.filter({ hasText: '不得接触食品' })).toHaveCount(0)
    await page.keyboard.press('Escape')
    await expect(page.locator('[data-test=morning-check-persons]')).toBeHidden()

    // The corrected accompanied meal is shown as a correction, with its reason in the record.
    const accompanied = page.locator('[data-test=section-accompanied_meal] .el-table__row')
    await expect(accompanied).toHaveCount(1)
    await expect(accompanied.locator('[data-test=amended]')).toHaveText('更正')
    await accompanied.click()
    await expect(page.locator('[data-test=record-amendment]')).toContainText('评分和意见登记有误')
    // 更正记录: both versions, the newest first, and what the correction changed in the table's words.
    const history = page.locator('[data-test=record-history]')
    await expect(history.locator('[data-test=record-version]')).toHaveCount(2)
    await expect(history.locator('[data-test=record-version]').first()).toContainText('第 2 版 · 更正')
    await expect(history.locator('[data-test=record-change]')).toHaveText([
      '评分：5 → 4', '意见建议：菜品温度适宜，口味清淡，学生反映良好。 → 菜品温度适宜，青菜略咸，已提醒厨师减盐。',
      '照片：0 份 → 1 份'])
    // The photo the correction added, beside what the first version had (nothing), opens in the viewer.
    const replaced = history.locator('[data-test=replaced-files]')
    await expect(replaced).toHaveCount(1)
    await expect(replaced).toContainText('更正前的照片')
    await expect(replaced).toContainText('更正后的照片')
    await expect(replaced.locator('[data-test=file]')).toHaveText(['照片'])
    await page.screenshot({ path: `${SHOTS}/ledger-history.png` })
    await replaced.locator('[data-test=file]').click()
    await expect(page.locator('[data-test=viewer-image]')).toBeVisible()
    await expectLoadedImage(page, '[data-test=viewer-image]')
    await page.keyboard.press('Escape')
    await expect(page.locator('[data-test=viewer-image]')).toBeHidden()
    await page.keyboard.press('Escape')
    await expect(page.locator('[data-test=record-amendment]')).toBeHidden()

    // A receiving record, then its invoice photo in the viewer (the signed URL really serves a picture).
    const receiving = page.locator('[data-test=section-receiving] .el-table__row').first()
    await receiving.click()
    const drawer = page.locator('.el-drawer')
    await expect(drawer).toContainText('进货查验')
    await drawer.locator('[data-test=file]').first().click()
    await expect(page.locator('[data-test=viewer-image]')).toBeVisible()
    await expectLoadedImage(page, '[data-test=viewer-image]')
    await page.screenshot({ path: `${SHOTS}/ledger-photo.png` })
    await page.keyboard.press('Escape')
    await page.keyboard.press('Escape')

    // A retained sample prints as its label: a one-page PDF of 60 × 40 mm.
    await page.locator('[data-test=section-sample] .el-table__row').first().click()
    const [label] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=sample-label]')])
    expect(label.suggestedFilename()).toMatch(/^留样标签-\d+\.pdf$/)
    const pdf = readFileSync(await label.path() as string)
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-')
    await page.keyboard.press('Escape')

    // The trace: a dish's ingredient names its supplier's certificate, whose scan opens too.
    await expect(page.locator('[data-test=trace-dish]').first()).toContainText('批号')
    await page.locator('[data-test=certificate]').first().click()
    await expect(page.locator('.el-drawer')).toContainText('有效期至')
    await page.locator('.el-drawer [data-test=file]').first().click()
    await expectLoadedImage(page, '[data-test=viewer-image]')
    await page.keyboard.press('Escape')
    await page.keyboard.press('Escape')
    await page.waitForLoadState('networkidle')
    await page.screenshot({ path: `${SHOTS}/ledger.png`, fullPage: true })

    // The Excel export of the day: downloaded through the page, then opened as a workbook and read.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export]')])
    expect(download.suggestedFilename()).toBe(`${school.name}-${canteen.name}-食堂记录-${day.replaceAll('-', '')}-${day.replaceAll('-', '')}.xlsx`)
    const path = test.info().outputPath('export.xlsx')
    await download.saveAs(path)
    await expect(page.locator('[data-test=exported]')).toContainText('已导出')
    const read = execFileSync(PYTHON, ['-c', `
import json, sys
from openpyxl import load_workbook
book = load_workbook(sys.argv[1], read_only=True)
meals = [row for row in book["陪餐记录"].iter_rows(min_row=2, values_only=True)]
check = {row[0]: row[1] for row in book["校验信息"].iter_rows(min_row=2, values_only=True)}
print(json.dumps({"sheets": book.sheetnames, "meals": meals, "check": check}, ensure_ascii=False, default=str))
`, path]).toString()
    const workbook = JSON.parse(read)
    expect(workbook.sheets).toContain('进货查验')
    expect(workbook.meals).toHaveLength(1)
    expect(workbook.meals[0][1]).toBe(day)
    expect(workbook.meals[0][6]).toBe('菜品温度适宜，青菜略咸，已提醒厨师减盐。')  // the corrected version
    expect(workbook.meals[0][7]).toBe('评分和意见登记有误，按陪餐记录本更正，补上陪餐照片')
    expect(workbook.check['记录链校验']).toBe('完整，未发现改动')
    expect(workbook.check['食堂']).toBe(canteen.name)
  })

test('a principal seals a batch from its record\'s drawer and releases it from the 台账 (封存)',
  async ({ page, request }) => {
    const principal = await token(request, 'demo-principal-1')
    const [canteen] = await api(request, principal, '/schools/1/canteens')
    const day = yesterday()
    await login(page, 'demo-principal-1')
    await page.goto(`/console/ledger?school=1&canteen=${canteen.id}&day=${day}`)
    await expect(page.locator('[data-test=ledger-meta]')).toContainText(day)
    await page.locator('[data-test=section-receiving] .el-table__row').first().click()
    const target = page.locator('.el-drawer [data-test=seal-target]').first()
    const label = (await target.innerText()).replace(/^封存\s*/, '')
    await target.click()
    await page.locator('.el-message-box input').fill('抽检发现疑似问题，暂停使用')
    await page.locator('.el-message-box .el-button--primary').click()
    const seal = page.locator('[data-test=seal]').filter({ hasText: label })
    await expect(seal).toContainText('封存中')
    await expect(seal).toContainText('抽检发现疑似问题，暂停使用')
    const listed = await api(request, principal, `/canteens/${canteen.id}/seals?status=in_force`)
    expect(listed.items.map((s: any) => s.target_name)).toContain(label)
    await page.screenshot({ path: `${SHOTS}/ledger-seal.png`, fullPage: true })

    await seal.locator('[data-test=seal-release]').click()
    await page.locator('.el-message-box input').fill('检验合格，解除封存')
    await page.locator('.el-message-box .el-button--primary').click()
    // Released: no longer in force (listed as released only on the day it was made or released).
    await expect(seal.filter({ hasText: '封存中' })).toHaveCount(0)
    expect((await api(request, principal, `/canteens/${canteen.id}/seals?status=in_force`)).items).toHaveLength(0)
  })

test('a regulator seals a kitchen area from the 台账 and releases it (封存区域)', async ({ page, request }) => {
  const regulator = await token(request, 'demo-regulator')
  const [canteen] = await api(request, regulator, '/schools/1/canteens')
  const areas = await api(request, regulator, `/canteens/${canteen.id}/areas`)
  await login(page, 'demo-regulator')
  await page.goto(`/console/ledger?school=1&canteen=${canteen.id}&day=${yesterday()}`)
  await page.locator('[data-test=seal-area]').click()
  const options = page.locator('.el-select-dropdown:visible .el-select-dropdown__item')
  await expect(options).toHaveCount(areas.length)  // every area of the canteen, none sealed yet
  const name = areas[0].name
  await options.filter({ hasText: name }).click()
  await page.locator('[data-test=seal-area-submit]').click()
  await page.locator('.el-message-box input').fill('发现鼠迹，暂停使用并消杀')
  await page.locator('.el-message-box .el-button--primary').click()
  const seal = page.locator('[data-test=seal]').filter({ hasText: name })
  await expect(seal).toContainText('封存中')
  await expect(seal).toContainText('发现鼠迹，暂停使用并消杀')
  const listed = await api(request, regulator, `/canteens/${canteen.id}/seals?status=in_force&target=area`)
  expect(listed.items.map((s: any) => [s.area_id, s.target_name])).toEqual([[areas[0].id, name]])
  // A sealed area is not offered again until its seal is released.
  await page.locator('[data-test=seal-area]').click()
  await expect(options).toHaveCount(areas.length - 1)
  await expect(options.filter({ hasText: name })).toHaveCount(0)
  await page.keyboard.press('Escape')

  await seal.locator('[data-test=seal-release]').click()
  await page.locator('.el-message-box input').fill('消杀完毕，复查合格')
  await page.locator('.el-message-box .el-button--primary').click()
  await expect(seal.filter({ hasText: '封存中' })).toHaveCount(0)
  expect((await api(request, regulator, `/canteens/${canteen.id}/seals?status=in_force`)).items).toHaveLength(0)
  await page.locator('[data-test=seal-area]').click()
  await expect(options).toHaveCount(areas.length)
})

test('the cameras page lists the offline camera first with its 7-day uptime', async ({ page, request }) => {
  const regulator = await token(request, 'demo-regulator')
  const me = await api(request, regulator, '/me')
  const report = await api(request, regulator, `/regions/${me.regulator_scopes[0].region_id}/cameras/health`)
  expect(report.cameras[0].status).toBe('offline')
  await login(page, 'demo-regulator')
  await page.click('.el-menu-item:has-text("摄像头")')
  await expect(page).toHaveURL(/\/console\/cameras/)
  const rows = page.locator('[data-test=cameras] .el-table__row')
  await expect(rows).toHaveCount(report.cameras.length)
  await expect(rows.first().locator('[data-test=camera-status]')).toHaveText('离线')
  await expect(rows.first()).toContainText(report.cameras[0].name)
  await expect(rows.first().locator('[data-test=uptime]')).toHaveText(`${report.cameras[0].uptime_percent}%`)
  await expect(rows.first().locator('[data-test=uptime-bars] .bar')).toHaveCount(7)
  // No row after an offline one is offline... and every offline one comes before the rest.
  const statuses = await rows.locator('[data-test=camera-status]').allInnerTexts()
  const firstOther = statuses.findIndex((s) => s !== '离线')
  expect(statuses.slice(firstOther)).not.toContain('离线')
  await expect(page.locator('[data-test=online-rate] [data-test=value]'))
    .toHaveText(`${report.online_rate.percent}%`)
  await page.waitForLoadState('networkidle')
  await page.screenshot({ path: `${SHOTS}/cameras.png`, fullPage: true })

  // The school filter narrows the list to one school's cameras.
  const schools = await api(request, regulator, '/schools')
  const other = schools[1]
  await page.click('[data-test=cameras-school]')
  await page.locator('.el-select-dropdown__item:visible', { hasText: other.name }).click()
  const narrowed = await api(request, regulator,
    `/regions/${me.regulator_scopes[0].region_id}/cameras/health?school_id=${other.id}`)
  await expect(rows).toHaveCount(narrowed.cameras.length)
  expect(await page.locator('[data-test=cameras] .el-table__row').allInnerTexts())
    .toEqual(expect.arrayContaining([expect.stringContaining(other.name)]))
})

test('a principal sees their own school only, in both pages', async ({ page, request }) => {
  const principal = await token(request, 'demo-principal-1')
  const me = await api(request, principal, '/me')
  const schoolId = me.memberships.find((m: any) => m.role === 'principal').school_id
  await login(page, 'demo-principal-1')
  await page.goto('/console/ledger')
  await expect(page.locator('[data-test=ledger-school]')).toHaveCount(0)
  await expect(page.locator('[data-test=ledger-meta]')).toContainText(me.memberships[0].school_name)
  await expect(page.locator('[data-test=chain]')).toContainText('记录链完整')
  await page.goto('/console/cameras')
  const report = await api(request, principal, `/schools/${schoolId}/cameras/health`)
  await expect(page.locator('[data-test=cameras] .el-table__row')).toHaveCount(report.cameras.length)
  expect(new Set(report.cameras.map((c: any) => c.school_id))).toEqual(new Set([schoolId]))
})

test('保存期限: nothing is past its keeping time today; judged three years on, the demo days are, by their rules',
  async ({ page, request }) => {
    await login(page, 'demo-principal-1')
    await page.goto('/console/ledger')
    await expect(page.locator('[data-test=ledger-meta]')).toBeVisible()
    await page.click('[data-test=retention-open]')
    const drawer = page.locator('[data-test=retention]')
    await expect(drawer.locator('[data-test=retention-total]')).toContainText('0 条记录已超过规定的保存期限')
    await expect(drawer.locator('[data-test=retention-rules]')).toContainText('留样')
    await expect(drawer.locator('[data-test=retention-rules]')).toContainText('进货查验')
    const later = `${Number(new Date().toISOString().slice(0, 4)) + 3}-06-30`
    const canteen = new URL(page.url()).searchParams.get('canteen')
    const expected = await api(request, await token(request, 'demo-principal-1'),
      `/canteens/${canteen}/records/removable?on=${later}&limit=100`)
    expect(expected.total).toBeGreaterThan(0)
    await drawer.locator('.el-date-editor input').fill(later)
    await drawer.locator('.el-date-editor input').press('Enter')
    await expect(drawer.locator('[data-test=retention-total]')).toContainText(`截至 ${later}：${expected.total} 条记录`)
    await expect(drawer.locator('[data-test=retention-rows] .el-table__row')).toHaveCount(Math.min(expected.total, 100))
    await expect(drawer.locator('[data-test=retention-rows]')).toContainText(expected.items[0].kind_label)
    await page.screenshot({ path: `${SHOTS}/ledger-retention.png`, fullPage: true })

    // Only those /me allows: the food-safety officer has no such button.
    await page.keyboard.press('Escape')
    await expect(drawer).toBeHidden()
    await page.click('[data-test=logout]')
    await login(page, 'demo-staff-1')
    await page.goto('/console/ledger')
    await expect(page.locator('[data-test=ledger-meta]')).toBeVisible()
    await expect(page.locator('[data-test=retention-open]')).toHaveCount(0)
  })

test('人员与供应商: a regulator sees whose health certificate lapses and which supplier has no licence', async ({ page, request }) => {
  await login(page, 'demo-regulator')
  await page.click('.el-menu-item:has-text("台账")')
  await expect(page.locator('[data-test=ledger-meta]')).toBeVisible()
  const canteen = new URL(page.url()).searchParams.get('canteen')
  const staff = await api(request, await token(request, 'demo-regulator'), `/canteens/${canteen}/staff?active=true&limit=100`)
  await page.click('[data-test=registers-open]')
  const drawer = page.locator('[data-test=registers]')
  // The demo's five (backend/records/demo.py STAFF): 郑师傅's certificate ends within 30 days, 林小燕 has none yet.
  await expect(drawer.locator('[data-test=staff-rows] .el-table__row')).toHaveCount(staff.items.length)
  await expect(drawer.locator('[data-test=staff-summary]')).toContainText('健康证已过期或未登记 1 人，30 天内到期 1 人')
  await expect(drawer.locator('[data-test=staff-rows] .el-table__row', { hasText: '郑师傅' })).toContainText('30 天内到期')
  await expect(drawer.locator('[data-test=staff-rows] .el-table__row', { hasText: '林小燕' })).toContainText('未登记')
  await page.screenshot({ path: `${SHOTS}/ledger-registers.png`, fullPage: true })
  await drawer.locator('[data-test=register-tabs] .el-tabs__item', { hasText: '供应商' }).click()
  await expect(drawer.locator('[data-test=supplier-rows]')).toContainText('杭州绿源蔬菜配送有限公司')
  await expect(drawer.locator('[data-test=supplier-rows]')).toContainText('食品经营许可证')
})
