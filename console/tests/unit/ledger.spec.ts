import { afterEach, describe, expect, it, vi } from 'vitest'
import { configureClient, download } from '../../src/api/client'
import {
  canteensOf, dayBar, loadCameraHealth, loadFalseAlarms, percentText, revertTuningChange, shareText, statusType,
  type CameraHealth,
} from '../../src/services/cameras'
import {
  areasToSeal, canSeal, chainSummary, changeText, describe as describeRecord, fileLinks, loadLedger, loadRecordHistory,
  loadRemovable, mayInSchool, releaseSeal, replacedFiles,
  seal, sealSummary, sealTargets,
  type LedgerRecord, type RecordVersion, type Seal,
} from '../../src/services/ledger'
import type { User } from '../../src/services/session'

function json(body: unknown): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } })
}

describe('ledger service', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('asks for one canteen day', async () => {
    const urls: string[] = []
    vi.stubGlobal('fetch', async (url: string) => { urls.push(url); return json({ canteen_id: 3, records: {} }) })
    configureClient({ token: () => 't', onUnauthorized: () => undefined })
    const ledger = await loadLedger(3, '2026-12-05')
    expect(urls).toEqual(['/api/v1/canteens/3/ledger?day=2026-12-05'])
    expect(ledger.canteen_id).toBe(3)
  })

  it('asks for the records past their keeping time on a day, a page at a time', async () => {
    const urls: string[] = []
    vi.stubGlobal('fetch', async (url: string) => { urls.push(url); return json({ items: [], rules: [], total: 0 }) })
    configureClient({ token: () => 't', onUnauthorized: () => undefined })
    await loadRemovable(3)
    await loadRemovable(3, '2029-01-01', 100, 50)
    expect(urls).toEqual(['/api/v1/canteens/3/records/removable?offset=0&limit=100',
      '/api/v1/canteens/3/records/removable?on=2029-01-01&offset=100&limit=50'])
  })

  it('asks for a record\'s history and words what each correction changed', async () => {
    const urls: string[] = []
    vi.stubGlobal('fetch', async (url: string) => { urls.push(url); return json({ id: 7, versions: [] }) })
    configureClient({ token: () => 't', onUnauthorized: () => undefined })
    expect((await loadRecordHistory(7)).versions).toEqual([])
    expect(urls).toEqual(['/api/v1/records/7'])
    expect(changeText({ field: '评分', before: '5', after: '4', line: null })).toBe('评分：5 → 4')
    expect(changeText({ field: '备注', before: '', after: '补录', line: null })).toBe('备注：（空） → 补录')
    expect(changeText({ field: '数量', before: '12.5', after: '15', line: '猪肉' })).toBe('猪肉 · 数量：12.5 → 15')
    expect(changeText({ field: '新增', before: '', after: '批号 JD-1', line: '鸡蛋' })).toBe('新增 鸡蛋：批号 JD-1')
    expect(changeText({ field: '删除', before: '批号 JD-1', after: '', line: '鸡蛋' })).toBe('删除 鸡蛋：批号 JD-1')
  })

  it('lays a replaced photo beside the one that replaced it, and nothing beside a change of words', () => {
    const photo = (id: number) => ({ upload_id: id, content_type: 'image/jpeg', size: 1, sha256: 'x', width: 1, height: 1,
      pages: null, url: `/files/${id}`, url_expires_at: '2026-03-11T10:00:00+08:00' })
    const at = '2026-03-11T10:00:00+08:00'
    const version = (id: number, amends: number | null, changes: RecordVersion['changes'],
      photos: number[]): RecordVersion => ({
      version_id: id, seq: id, created_at: at, created_by_id: 2, created_by_name: null, created_by_role_label: null,
      amends_version_id: amends, reason: null, hash: `h${id}`, current: false, changes,
      record: { id: 1, version_id: id, kind: 'disinfection', kind_label: '消毒记录', canteen_id: 1,
        record_date: '2026-03-11', created_at: at, created_by_id: 2, seq: id, hash: `h${id}`, amendment: null,
        files: { photo: photos.map(photo) } } })
    const first = version(1, null, [], [7])
    const minutes = version(2, 1, [{ field: '时长(分钟)', before: '15', after: '20', line: null }], [7])
    const retaken = version(3, 2, [{ field: '照片', before: '1 份', after: '2 份', line: null, role: 'photo' }], [12, 13])
    const versions = [first, minutes, retaken]
    expect(replacedFiles(first, versions)).toEqual([])
    expect(replacedFiles(minutes, versions)).toEqual([])
    expect(replacedFiles(retaken, versions)).toEqual([{ field: '照片',
      before: [{ label: '照片', url: '/files/7', pdf: false, upload_id: 7 }],
      after: [{ label: '照片 1', url: '/files/12', pdf: false, upload_id: 12 },
        { label: '照片 2', url: '/files/13', pdf: false, upload_id: 13 }] }])
  })

  it('says whether the chain is intact or where it breaks', () => {
    const head = { seq: 50, hash: 'ab' }
    expect(chainSummary({ canteen_id: 1, ok: true, checked: 50, head, first_broken: null }))
      .toBe('记录链完整：已校验 50 条记录，未发现改动')
    expect(chainSummary({ canteen_id: 1, ok: false, checked: 12, head, first_broken: {
      seq: 12, entry_id: 40, kind: 'sample', problem: 'hash_mismatch', message: '记录内容与其哈希不符，记录在写入后被改动' } }))
      .toBe('记录链在第 12 条记录处断开：记录内容与其哈希不符，记录在写入后被改动')
  })

  it('names files by role and marks PDFs', () => {
    const file = (id: number, type: string) => ({ upload_id: id, content_type: type, url: `/f/${id}`, size: 1,
      sha256: 'ab', width: null, height: null, pages: null, url_expires_at: '2026-12-06T12:00:00+08:00' })
    expect(fileLinks({ photo: [file(1, 'image/jpeg')], scan: [file(2, 'image/png'), file(3, 'application/pdf')] })).toEqual([
      { label: '照片', url: '/f/1', pdf: false, upload_id: 1 },
      { label: '扫描件 1', url: '/f/2', pdf: false, upload_id: 2 },
      { label: '扫描件 2', url: '/f/3', pdf: true, upload_id: 3 },
    ])
    expect(fileLinks(undefined)).toEqual([])
  })

  it('describes records of every kind, certificates by their own kind', () => {
    const base = { id: 1, version_id: 1, created_at: '', amendment: null, files: {} }
    expect(describeRecord({ ...base, kind: 'receiving', kind_label: '进货查验', supplier_name: '绿源',
      items: [{ ingredient: '青菜', batch: 'B1' }, { ingredient: '番茄', batch: 'B2' }] } as LedgerRecord))
      .toBe('绿源 · 青菜（B1）、番茄（B2）')
    expect(describeRecord({ ...base, kind: 'accompanied_meal', kind_label: '陪餐', meal_label: '午餐',
      companion_name: '张明', companion_role_label: '学校负责人', rating: 4, remarks: '略咸' } as LedgerRecord))
      .toBe('午餐 · 张明（学校负责人）· 4 分 · 略咸')
    expect(describeRecord({ ...base, kind: 'business_licence', kind_label: '营业执照', supplier_name: '绿源',
      number: 'N1', valid_until: '2028-01-01', status_label: '有效' } as LedgerRecord))
      .toBe('绿源 · 营业执照 N1 · 有效期至 2028-01-01（有效）')
    expect(describeRecord({ ...base, kind: 'waste_disposal', kind_label: '餐厨废弃物处置记录', waste_kind_label: '废弃油脂',
      quantity_kg: 6.5, collector_company: '城环收运', collector_name: '陈师傅', handover_name: '孙师傅' } as LedgerRecord))
      .toBe('废弃油脂 6.5 千克 · 收运 城环收运（陈师傅）· 交接 孙师傅')
    expect(describeRecord({ ...base, kind: 'additive_purchase', kind_label: '食品添加剂采购记录', additive_name: '食用碱',
      batch: 'SJ1', quantity: 500, unit_label: '克', remaining: 485, buyer_name: '周建华', keeper_name: '王建国',
      cabinet: '专柜', supplier_name: '配料站' } as LedgerRecord))
      .toBe('食用碱 批号 SJ1 · 500 克（结存 485）· 采购 周建华 · 保管 王建国 · 专柜')
    expect(describeRecord({ ...base, kind: 'additive_use', kind_label: '食品添加剂使用记录', meal_label: '午餐',
      dish_name: '碱水面', additive_name: '食用碱', batch: 'SJ1', quantity: 15, unit_label: '克', issuer_name: '王建国',
      user_name: '赵师傅' } as LedgerRecord)).toBe('午餐 · 碱水面 · 食用碱 批号 SJ1 15 克 · 发放 王建国 · 使用 赵师傅')
  })

  it('says of a morning check how many passed and who may not handle food today, and why', () => {
    const base = { id: 1, version_id: 1, created_at: '', amendment: null, files: {}, kind: 'morning_check', kind_label: '晨检记录' }
    const person = (name: string, findings: string[], passed: boolean) => ({ name, findings, food_handling: passed })
    expect(describeRecord({ ...base, checker_name: '周师傅', summary: { checked: 2, passed: 2, failed: 0 },
      persons: [person('吴阿姨', [], true), person('孙师傅', [], true)] } as unknown as LedgerRecord))
      .toBe('检查人 周师傅 · 2 人，合格 2 人')
    expect(describeRecord({ ...base, checker_name: '周师傅', summary: { checked: 3, passed: 1, failed: 2 },
      persons: [person('吴阿姨', [], true), person('郑师傅', ['体温 37.6°C', '发热'], false), person('林小燕', [], false)],
    } as unknown as LedgerRecord)).toBe('检查人 周师傅 · 3 人，合格 1 人 · 今日不得接触直接入口食品：郑师傅（体温 37.6°C、发热）、林小燕（检查人判定不合格）')
  })

  it('offers to seal the areas without a seal in force', () => {
    const areas = [{ id: 1, name: '热厨区' }, { id: 2, name: '洗消间' }, { id: 3, name: '冷库' }]
    const inForce = [
      { target: 'area', area_id: 2 }, { target: 'sample', sample_id: 3, area_id: null }, { target: 'item', item_id: 1, area_id: null },
    ] as unknown as Seal[]
    expect(areasToSeal(areas, inForce).map((a) => a.name)).toEqual(['热厨区', '冷库'])
    expect(areasToSeal(areas, [])).toEqual(areas)
  })

  it('downloads a file with the token and its UTF-8 name', async () => {
    let headers: Record<string, string> = {}
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
      headers = init.headers as Record<string, string>
      return new Response(new Uint8Array([80, 75, 3, 4]), { status: 200, headers: {
        'Content-Disposition': `attachment; filename=records.xlsx; filename*=UTF-8''${encodeURIComponent('学校-食堂.xlsx')}` } })
    })
    configureClient({ token: () => 'tok', onUnauthorized: () => undefined })
    const file = await download('/canteens/{canteen_id}/records/export',
      { params: { canteen_id: 1 }, query: { from: '2026-12-01', to: '2026-12-05' } })
    expect(headers.Authorization).toBe('Bearer tok')
    expect(file.filename).toBe('学校-食堂.xlsx')
    expect(new Uint8Array(await file.blob.arrayBuffer())).toEqual(new Uint8Array([80, 75, 3, 4]))
  })
})

describe('cameras service', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('asks the region or the school route with the filters', async () => {
    const urls: string[] = []
    vi.stubGlobal('fetch', async (url: string) => { urls.push(url); return json({ cameras: [] }) })
    configureClient({ token: () => 't', onUnauthorized: () => undefined })
    await loadCameraHealth({ kind: 'region', id: 3, name: '西湖区', role: 'regulator' }, { school_id: 2 })
    await loadCameraHealth({ kind: 'school', id: 1, name: '甲校', role: 'principal' }, { school_id: 9, canteen_id: 4 })
    expect(urls).toEqual(['/api/v1/regions/3/cameras/health?school_id=2', '/api/v1/schools/1/cameras/health?canteen_id=4'])
  })

  it('reads the false-alarm shares and reverts a raise', async () => {
    const calls: string[] = []
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push(`${init.method ?? 'GET'} ${url}`)
      return json(url.endsWith('/revert') ? { change: { id: 7, old_value: 0.5 } } : { policy: {}, items: [] })
    })
    configureClient({ token: () => 't', onUnauthorized: () => undefined })
    await loadFalseAlarms(1)
    expect((await revertTuningChange(3, 7)).old_value).toBe(0.5)
    expect(calls).toEqual(['GET /api/v1/schools/1/cameras/false-alarms', 'POST /api/v1/cameras/3/tuning-changes/7/revert'])
    expect([shareText(0.5), shareText(0.2857), shareText(null)]).toEqual(['50%', '29%', '—'])
  })

  it('shows figures, colours and bars', () => {
    expect(percentText(97.4)).toBe('97.4%')
    expect(percentText(null)).toBe('—')
    expect([statusType('ok'), statusType('offline'), statusType('blurred'), statusType('unknown')])
      .toEqual(['success', 'danger', 'warning', 'info'])
    expect(dayBar(100)).toEqual({ height: 100, color: '#67c23a' })
    expect(dayBar(91.7).color).toBe('#e6a23c')
    expect(dayBar(50).color).toBe('#f56c6c')
    expect(dayBar(null)).toEqual({ height: 4, color: '#dcdfe6' })
  })

  it('lists the canteens of a report once, optionally of one school', () => {
    const cams = [
      { school_id: 1, school_name: '甲校', canteen_id: 1, canteen_name: '食堂' },
      { school_id: 1, school_name: '甲校', canteen_id: 1, canteen_name: '食堂' },
      { school_id: 2, school_name: '乙校', canteen_id: 5, canteen_name: '二食堂' },
    ] as CameraHealth[]
    expect(canteensOf(cams)).toEqual([{ id: 1, name: '甲校 食堂' }, { id: 5, name: '乙校 二食堂' }])
    expect(canteensOf(cams, 2)).toEqual([{ id: 5, name: '乙校 二食堂' }])
  })

  it('offers sealing to those /me allows: the region\'s regulators and the school\'s principal', () => {
    const user = (capabilities: unknown) => ({ id: 1, capabilities }) as unknown as User
    expect(canSeal(user({ admin: false, regulator: ['ledger.read', 'records.seal'], schools: {} }), 3)).toBe(true)
    expect(canSeal(user({ admin: false, regulator: [], schools: { 3: ['records.seal'] } }), 3)).toBe(true)
    expect(canSeal(user({ admin: false, regulator: [], schools: { 3: ['ledger.read', 'seals.read'] } }), 3)).toBe(false)
    expect(canSeal(user({ admin: false, regulator: [], schools: { 4: ['records.seal'] } }), 3)).toBe(false)
    expect(canSeal(null, 3)).toBe(false)
    // 保存期限 the same way: the principal's, a regulator's.
    expect(mayInSchool(user({ admin: false, regulator: [], schools: { 3: ['records.retention'] } }), 3, 'records.retention')).toBe(true)
    expect(mayInSchool(user({ admin: false, regulator: [], schools: { 3: ['records.seal'] } }), 3, 'records.retention')).toBe(false)
    expect(mayInSchool(user({ admin: true, regulator: [], schools: {} }), 3, 'records.retention')).toBe(true)
    expect(mayInSchool(user({ admin: false, regulator: ['records.retention'], schools: {} }), undefined, 'records.retention')).toBe(false)
  })

  it('offers each batch of a delivery and a retained sample to seal', () => {
    const base = { id: 7, version_id: 7, created_at: '', amendment: null, files: {} }
    expect(sealTargets({ ...base, kind: 'receiving', kind_label: '进货查验', items: [
      { item_id: 11, ingredient: '猪肉', batch: 'ZR-1' }, { item_id: 12, ingredient: '大米', batch: 'DM-2' }] } as LedgerRecord))
      .toEqual([{ target: 'item', id: 11, label: '猪肉（批号 ZR-1）' }, { target: 'item', id: 12, label: '大米（批号 DM-2）' }])
    expect(sealTargets({ ...base, kind: 'sample', kind_label: '留样', dish_name: '米饭' } as LedgerRecord))
      .toEqual([{ target: 'sample', id: 7, label: '米饭 留样' }])
    expect(sealTargets({ ...base, kind: 'menu', kind_label: '菜单' } as LedgerRecord)).toEqual([])
  })

  it('seals and releases with a reason and a fresh Idempotency-Key each time', async () => {
    const calls: { url: string, body: unknown, key: string }[] = []
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push({ url, body: JSON.parse(init.body as string),
        key: (init.headers as Record<string, string>)['Idempotency-Key'] })
      return new Response(JSON.stringify({ id: 9 }), { status: 201, headers: { 'Content-Type': 'application/json' } })
    })
    configureClient({ token: () => 't', onUnauthorized: () => undefined })
    await seal(3, 'item', 11, '待检')
    await releaseSeal(9, '检验合格')
    expect(calls.map((c) => [c.url, c.body])).toEqual([
      ['/api/v1/canteens/3/seals', { target: 'item', target_id: 11, reason: '待检' }],
      ['/api/v1/records/9/release', { reason: '检验合格' }]])
    expect(calls[0].key).toMatch(/^console-[a-z0-9-]{8,}$/)
    expect(calls[0].key).not.toBe(calls[1].key)
  })

  it('says what a seal holds and whether it is released', () => {
    const s = { target_label: '食品批次', target_name: '猪肉（批号 ZR-1）', reason: '待检', authority_label: '校长',
      in_force: true, release: null } as unknown as Seal
    expect(sealSummary(s)).toBe('食品批次 · 猪肉（批号 ZR-1） · 待检 · 校长 · 封存中')
    expect(sealSummary({ ...s, in_force: false, release: { reason: '检验合格' } } as unknown as Seal))
      .toBe('食品批次 · 猪肉（批号 ZR-1） · 待检 · 校长 · 已解除（检验合格）')
  })
})
