// 总览 in Chromium against the real API (tests/e2e/serve.sh): a province regulator drills down by name from the
// province to a school, every level's figures equal /stats, a figure opens the server-filtered list with the
// same total, a school's level shows the school's 操作日志, and the Excel export downloads and parses (openpyxl) to
// the same figures. Screenshots in
// artifacts/screenshots/.
import { execFileSync } from 'node:child_process'
import { expect, test, type APIRequestContext, type Page } from '@playwright/test'

test.describe.configure({ mode: 'serial' })

const SHOTS = 'artifacts/screenshots'
const PYTHON = process.env.PYTHON ?? '../.venv/bin/python'

async function token(request: APIRequestContext, openid: string): Promise<string> {
  const response = await request.post('/api/v1/auth/dev-login', { data: { openid } })
  expect(response.ok()).toBeTruthy()
  return (await response.json()).token
}

async function stats(request: APIRequestContext, bearer: string, query: string): Promise<any> {
  const response = await request.get(`/api/v1/stats?${query}`, { headers: { Authorization: `Bearer ${bearer}` } })
  expect(response.ok()).toBeTruthy()
  return response.json()
}

/** The page's four cards equal these figures of /stats. */
async function expectFigures(page: Page, body: any): Promise<void> {
  for (const name of ['found', 'rectified', 'in_progress', 'overdue']) {
    await expect(page.locator(`[data-test="stat-${name}"] [data-test=value]`)).toHaveText(String(body[name]))
  }
}

/** Open the console already logged in with a token (the province regulator is not among the demo log-ins). */
async function openAs(page: Page, bearer: string, path: string): Promise<void> {
  await page.addInitScript((value) => localStorage.setItem('console.token', value), bearer)
  await page.goto(path)
}

let bearer = ''

test.beforeAll(async ({ request }) => {
  // Problems in both demo schools, so every level has figures.
  for (const [openid, title] of [['demo-staff-1', '后厨垃圾桶未加盖'], ['demo-principal-2', '备餐间纱窗破损']]) {
    const staff = await token(request, openid)
    const headers = { Authorization: `Bearer ${staff}` }
    const me = await (await request.get('/api/v1/me', { headers })).json()
    const school = me.memberships.find((m: any) => m.status === 'active').school_id
    const [canteen] = await (await request.get(`/api/v1/schools/${school}/canteens`, { headers })).json()
    const response = await request.post(`/api/v1/schools/${school}/violations`,
      { headers, data: { canteen_id: canteen.id, title, description: `${title}，请尽快处理。` } })
    expect(response.ok()).toBeTruthy()
  }
  // An audited act of the principal (a class added), for the regulator to find in the school's 操作日志.
  const principal = { Authorization: `Bearer ${await token(request, 'demo-principal-1')}` }
  const added = await request.post('/api/v1/schools/1/classes', { headers: principal, data: { name: `总览审计班${Date.now() % 100000}` } })
  expect(added.ok(), await added.text()).toBeTruthy()
  bearer = await token(request, 'demo-province')
})

test('a province regulator drills down by name to a school and every level equals /stats', async ({ page, request }) => {
  await openAs(page, bearer, '/console/overview')
  const provinceId = (await stats(request, bearer, '')).scope.region_ids[0]
  const province = await stats(request, bearer, `region_id=${provinceId}`)
  await expect(page.locator('[data-test=overview-title]')).toContainText('浙江省')
  await expectFigures(page, province)
  await expect(page.locator('[data-test=breadcrumbs]')).toContainText('浙江省')
  await expect(page.locator('[data-test="stat-cameras"] [data-test=value]')).toHaveText(
    province.cameras.online_rate == null ? '—' : `${(province.cameras.online_rate * 100).toFixed(1)}%`)
  // 今日台账完整率: the canteens of the scope whose today's required records are all there, as /stats counts them.
  await expect(page.locator('[data-test="stat-records"] [data-test=value]')).toHaveText(
    `${province.records_today.complete} / ${province.records_today.total}`)
  expect(province.records_today.total).toBeGreaterThan(0)
  // At the desk's own level: today's canteens not reported and the active cards, as their pages' APIs list them.
  const unreported = await (await request.get(`/api/v1/regions/${provinceId}/unreported`,
    { headers: { Authorization: `Bearer ${bearer}` } })).json()
  await expect(page.locator('[data-test="stat-unreported"] [data-test=value]')).toHaveText(`${unreported.canteens.length}`)
  const active = await (await request.get(`/api/v1/regions/${provinceId}/risk/cards?state=active`,
    { headers: { Authorization: `Bearer ${bearer}` } })).json()
  await expect(page.locator('[data-test="stat-cards"] [data-test=value]')).toHaveText(
    `${active.filter((c: any) => c.color === 'red').length} / ${active.filter((c: any) => c.color === 'yellow').length}`)
  await page.waitForLoadState('networkidle')
  await page.screenshot({ path: `${SHOTS}/overview-01-province.png`, fullPage: true })

  await page.click('[data-test="stat-unreported"]')
  await expect(page).toHaveURL(/\/console\/unreported/)
  // A day in the URL (where the inbox's daily 未报送 summary opens) is the day the page asks for and shows.
  await page.waitForLoadState('networkidle')  // today's list, asked by the page the card opened
  const asked: string[] = []
  page.on('request', (r) => { if (/\/api\/v1\/regions\/\d+\/unreported/.test(r.url())) asked.push(new URL(r.url()).searchParams.get('day') ?? '') })
  const yesterday = new Date(Date.now() + 8 * 3600_000 - 86400_000).toISOString().slice(0, 10)
  await page.goto(`/console/unreported?day=${yesterday}`)
  await expect(page.locator('[data-test=unreported-date] [data-test=value]')).toHaveText(yesterday)
  expect(asked, JSON.stringify(asked)).toEqual([yesterday])
  await page.goto('/console/overview')
  await expect(page.locator('[data-test=overview-title]')).toContainText('浙江省')

  for (const name of ['杭州市', '西湖区', '西湖实验小学']) {
    const row = province.by_region.find((r: any) => r.name === name)
    await page.click(`[data-test="child-${name}"]`)
    await expect(page.locator('[data-test=overview-title]')).toContainText(name)
    const query = new URL(page.url()).searchParams
    const body = await stats(request, bearer, query.has('school_id') ? `school_id=${query.get('school_id')}`
      : `region_id=${query.get('region_id')}`)
    if (row) expect(row.found).toBe(body.found)
    await expectFigures(page, body)
    await expect(page.locator('[data-test=breadcrumbs]')).toContainText(name)
    if (name === '西湖区') {
      // The county's children are its schools, each with the figures of its own /stats.
      await expect(page.locator('[data-test=children]')).toContainText('文三路中学')
      await page.screenshot({ path: `${SHOTS}/overview-02-county.png`, fullPage: true })
    }
  }
  await expect(page.locator('[data-test=breadcrumbs]')).toHaveText(/浙江省.*杭州市.*西湖区.*西湖实验小学/)
  // At a school's level the regulator reads its 操作日志: what the principal just did, in words and by whom.
  const audit = page.locator('[data-test=school-audit] [data-test=audit-rows] .el-table__body-wrapper')
  await expect(audit).toContainText('添加班级')
  await expect(audit).toContainText('西湖实验小学校长（校长）')
  await page.screenshot({ path: `${SHOTS}/overview-03-school.png`, fullPage: true })

  // Back up by the breadcrumbs, then a figure opens the list the server filtered, with the same total.
  await page.click('[data-test="crumb-西湖区"]')
  await expect(page.locator('[data-test=overview-title]')).toContainText('西湖区')
  const county = await stats(request, bearer, `region_id=${new URL(page.url()).searchParams.get('region_id')}`)
  const listCalls: string[] = []
  page.on('request', (r) => { if (/\/api\/v1\/regions\/\d+\/violations/.test(r.url())) listCalls.push(r.url()) })
  await page.click('[data-test="stat-in_progress"]')
  await expect(page).toHaveURL(/\/console\/violations\?.*region_id=.*state=in_progress/)
  await expect(page.locator('[data-test=total]')).toContainText(`共 ${county.in_progress} 条`)
  await expect(page.locator('[data-test=violations] .el-table__row')).toHaveCount(Math.min(county.in_progress, 50))
  await expect(page.locator('[data-test=filter-region]')).toHaveText('地区：西湖区')
  await page.waitForLoadState('networkidle')
  expect(listCalls).toHaveLength(1)  // the page is not mounted twice for the order of its URL's keys
  // A region's list names each row's school (both demo schools have problems), and marks the overdue ones.
  const table = page.locator('[data-test=violations]')
  await expect(table.locator('th')).toContainText(['学校'])
  await expect(table).toContainText('西湖实验小学')
  await expect(table).toContainText('文三路中学')
  await expect(table.locator('[data-test^=overdue-]')).toHaveCount(county.overdue)
  // The tag follows each row's flag (its rule is pinned by tests/violations/test_overview.py): with the first row
  // answered overdue and the others not, only that row is tagged, whatever the seed's deadlines.
  await page.route(/\/api\/v1\/regions\/\d+\/violations/, async (route) => {
    const response = await route.fetch()
    const rows = (await response.json()).map((row: any, index: number) => ({ ...row, overdue: index === 0 }))
    await route.fulfill({ response, json: rows })
  })
  await page.reload()
  const first = await page.locator('[data-test=violations] .el-table__row').first().locator('td').first().innerText()
  await expect(table.locator('[data-test^=overdue-]')).toHaveCount(1)
  await expect(table.locator(`[data-test=overdue-${first.trim()}]`)).toHaveText('已超期')
  await page.unroute(/\/api\/v1\/regions\/\d+\/violations/)
  await page.waitForLoadState('networkidle')
  await page.screenshot({ path: `${SHOTS}/overview-04-list.png`, fullPage: true })
})

test('the camera card opens 摄像头 and the records card opens 台账 of the school for today', async ({ page, request }) => {
  const principal = await token(request, 'demo-principal-1')
  const body = await stats(request, principal, '')
  await openAs(page, principal, '/console/overview')
  await expect(page.locator('[data-test="stat-records"] [data-test=value]')).toHaveText(
    `${body.records_today.complete} / ${body.records_today.total}`)
  await expect(page.locator('[data-test=records-count]')).toContainText(
    body.records_today.percent == null ? '—' : `${body.records_today.percent}%`)
  await page.click('[data-test="stat-cameras"]')
  await expect(page).toHaveURL(/\/console\/cameras/)
  await page.goBack()
  await page.click('[data-test="stat-records"]')
  await expect(page).toHaveURL(new RegExp(`/console/ledger\\?.*day=${body.records_today.date}`))
})

test('every figure fits its card, on a laptop screen and a wide one', async ({ page, request }) => {
  // The regulator's desk has all ten figures; "100.0%" and the longest labels must not spill out of their card.
  const regulator = await token(request, 'demo-regulator')
  for (const width of [1280, 1920]) {
    await page.setViewportSize({ width, height: 900 })
    await openAs(page, regulator, '/console/overview')
    await expect(page.locator('[data-test="stat-cards"]')).toBeVisible()
    const cards = page.locator('[data-test=figures] [data-test^="stat-"]')
    await expect(cards).toHaveCount(10)
    const spills = await cards.evaluateAll((nodes) => nodes.flatMap((card) => {
      const box = card.getBoundingClientRect()
      return [...card.querySelectorAll('.label, .value, .hint')].filter((text) => {
        const inner = text.getBoundingClientRect()
        return text.scrollWidth > text.clientWidth + 1 || inner.right > box.right - 8 || inner.left < box.left
      }).map((text) => `${card.getAttribute('data-test')}: ${text.textContent}`)
    }))
    expect(spills).toEqual([])
  }
})

test('the Excel export downloads and holds the figures of /stats', async ({ page, request }) => {
  await openAs(page, bearer, '/console/overview')
  await expect(page.locator('[data-test=overview-title]')).toContainText('浙江省')
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-test=export]')])
  expect(download.suggestedFilename()).toMatch(/^浙江省-总览-\d{8}-\d{8}\.xlsx$/)
  const file = `artifacts/${download.suggestedFilename()}`
  await download.saveAs(file)
  const script = [
    'import json, sys', 'from openpyxl import load_workbook', 'book = load_workbook(sys.argv[1])',
    'summary = {r[0]: r[1] for r in book["概况"].iter_rows(min_row=2, values_only=True)}',
    'children = [list(r) for r in book["下级地区"].iter_rows(min_row=2, values_only=True)]',
    'print(json.dumps({"sheets": book.sheetnames, "summary": summary, "children": children}))',
  ].join('\n')
  const workbook = JSON.parse(execFileSync(PYTHON, ['-c', script, file], { encoding: 'utf8' }))
  const me = await stats(request, bearer, '')
  const body = await stats(request, bearer, `region_id=${me.scope.region_ids[0]}`)
  expect(workbook.sheets).toContain('学校排名')
  expect(workbook.summary['发现问题']).toBe(body.found)
  expect(workbook.summary['整改中']).toBe(body.in_progress)
  expect(workbook.summary['已超期']).toBe(body.overdue)
  // 今日台账完整率 as the card shows it (same records_today of /stats).
  const records = body.records_today
  expect(workbook.summary[`今日台账完整率（${records.date}）`]).toBe(records.percent == null ? null : `${records.percent}%`)
  expect(workbook.summary['台账齐全食堂 / 食堂']).toBe(`${records.complete} / ${records.total}`)
  expect(workbook.children.map((r: any[]) => [r[0], r[2]])).toEqual(body.by_region.map((r: any) => [r.name, r.found]))
})

test('a violation\'s detail shows 发生时间 beside 发现时间 only where the two read differently', async ({ page, request }) => {
  const principal = await token(request, 'demo-principal-1')
  const headers = { Authorization: `Bearer ${principal}` }
  const me = await (await request.get('/api/v1/me', { headers })).json()
  const school = me.memberships.find((m: any) => m.role === 'principal').school_id
  const list = await request.get(`/api/v1/schools/${school}/violations?per_page=1`, { headers })
  expect(list.ok()).toBeTruthy()
  const [row] = await list.json()
  const created = new Date(row.created_at)
  const detail = new RegExp(`/api/v1/violations/${row.id}$`)
  const answerWith = (occurred: Date) => page.route(detail, async (route) => {
    const response = await route.fetch()
    await route.fulfill({ response, json: { ...(await response.json()), occurred_at: occurred.toISOString() } })
  })
  // Happened and found at the same moment: one line.
  await answerWith(created)
  await openAs(page, principal, `/console/violations/${row.id}`)
  await expect(page.getByText('发现时间')).toBeVisible()
  await expect(page.locator('[data-test=occurred]')).toHaveCount(0)
  await page.unroute(detail)
  // A record rule's finding minutes after the deadline it missed: both lines.
  const occurred = new Date(created.getTime() - 5 * 60_000)
  await answerWith(occurred)
  await page.reload()
  const local = new Date(occurred.getTime() + 8 * 3600_000).toISOString()
  await expect(page.locator('[data-test=occurred]')).toHaveText(`${local.slice(0, 10)} ${local.slice(11, 16)}`)
  await expect(page.getByText('发生时间')).toBeVisible()
})
