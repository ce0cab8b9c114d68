// 台账: one canteen's day (GET /canteens/{id}/ledger), the chain's verification and the Excel export
// (routes of backend/records/routes.py; the ledger's shape is backend/records/ledger.py).
import { download, get, post, saveFile, type Schemas } from '../api/client'
import type { User } from './session'

// The ledger's types come from the API's output schema (backend/records/ledger_schemas.py, LedgerOut).
/** A stored photo or PDF of a record, with its short-lived signed URL. */
export type RecordFile = Schemas['FileOut']
/** A record as the API presents it: the envelope, then the fields of its kind. */
export type LedgerRecord = Schemas['LedgerRecordOut']
export type TraceIngredient = Schemas['TraceIngredientOut']
export type TraceMeal = Schemas['TraceMealOut']
export type Ledger = Schemas['LedgerOut']
/** A seal (封存) of a batch, a sample or an area, in force or released (backend/records/sealing.py). */
export type Seal = Schemas['SealOut']

/** GET /canteens/{id}/records/verify (backend/records/chain.py VerifyResult.as_dict). */
export type ChainResult = Schemas['ChainVerifyOut']

/** The sections of the page, in order, with the kind each lists. */
export const SECTIONS: { kind: string, title: string }[] = [
  { kind: 'morning_check', title: '晨检' }, { kind: 'receiving', title: '进货查验' }, { kind: 'menu', title: '菜单' }, { kind: 'sample', title: '留样' },
  { kind: 'sample_disposal', title: '留样处置' }, { kind: 'disinfection', title: '消毒' },
  { kind: 'accompanied_meal', title: '陪餐' }, { kind: 'waste_disposal', title: '餐厨废弃物' },
  { kind: 'additive_purchase', title: '食品添加剂采购' }, { kind: 'additive_use', title: '食品添加剂使用' },
]

const FILE_ROLES: Record<string, string> = {
  photo: '照片', scan: '扫描件', invoice: '票据', inspection_report: '检验报告',
}

/** Everything a canteen recorded on a day (YYYY-MM-DD). */
export async function loadLedger(canteenId: number, day: string): Promise<Ledger> {
  return await get('/canteens/{canteen_id}/ledger', { params: { canteen_id: canteenId }, query: { day } })
}

/** Recompute the canteen's record chain on the server. */
export function verifyChain(canteenId: number): Promise<ChainResult> {
  return get('/canteens/{canteen_id}/records/verify', { params: { canteen_id: canteenId } })
}

/** The verification result in words: intact, or the row where the chain breaks and why. */
export function chainSummary(result: ChainResult): string {
  if (result.ok) return `记录链完整：已校验 ${result.checked} 条记录，未发现改动`
  const broken = result.first_broken
  return `记录链在第 ${broken?.seq ?? '?'} 条记录处断开：${broken?.message ?? ''}`
}

/** Download the canteen's records of a date range as an Excel workbook (the export is audited). */
export async function exportLedger(canteenId: number, from: string, to: string): Promise<string> {
  const file = await download('/canteens/{canteen_id}/records/export',
    { params: { canteen_id: canteenId }, query: { from, to } })
  saveFile(file)
  return file.filename
}

/** Download a retained sample's printable label (a 60 × 40 mm PDF with a QR code to the day's 台账). */
export async function printSampleLabel(recordId: number): Promise<string> {
  const file = await download('/records/{record_id}/label.pdf', { params: { record_id: recordId } })
  saveFile(file)
  return file.filename
}

export interface FileLink { label: string, url: string, pdf: boolean, upload_id: number }

/** A record's files as links for the viewer: 照片 1, 扫描件 2, ... */
export function fileLinks(files: Record<string, RecordFile[]> | undefined): FileLink[] {
  const links: FileLink[] = []
  for (const [role, list] of Object.entries(files ?? {})) {
    list.forEach((file, index) => links.push({
      label: `${FILE_ROLES[role] ?? role}${list.length > 1 ? ` ${index + 1}` : ''}`,
      url: file.url, pdf: file.content_type === 'application/pdf', upload_id: file.upload_id,
    }))
  }
  return links
}

/** A line that names a record on the page (what it is, by kind). */
export function describe(r: LedgerRecord): string {
  // A certificate's own kind (营业执照, ...) replaces the record kind in the API's shape.
  if (r.valid_until) return `${r.supplier_name ?? ''} · ${r.kind_label} ${r.number} · 有效期至 ${r.valid_until}（${r.status_label}）`
  switch (r.kind) {
    case 'morning_check':
      return morningCheckLine(r)
    case 'receiving':
      return `${r.supplier_name ?? ''} · ${(r.items ?? []).map((i) => `${i.ingredient}（${i.batch}）`).join('、')}`
    case 'menu':
      return `${r.meal_label} · ${(r.dishes ?? []).map((d) => d.name).join('、')}`
    case 'sample':
      return `${r.meal_label} · ${r.dish_name} ${r.weight_g} 克 · ${r.sampler_name}`
    case 'sample_disposal':
      return `留样 #${r.sample_id} · ${r.disposer_name}`
    case 'disinfection':
      return `${r.meal_label} · ${r.target_name} · ${r.method_label} · ${r.operator_name}`
    case 'accompanied_meal':
      return `${r.meal_label} · ${r.companion_name}（${r.companion_role_label}）· ${r.rating} 分 · ${r.remarks ?? ''}`
    case 'waste_disposal':
      return `${r.waste_kind_label} ${r.quantity_kg} 千克 · 收运 ${r.collector_company}（${r.collector_name}）· 交接 ${r.handover_name}`
    case 'additive_purchase':
      return `${r.additive_name} 批号 ${r.batch} · ${r.quantity} ${r.unit_label}（结存 ${r.remaining}）· 采购 ${r.buyer_name} · 保管 ${r.keeper_name} · ${r.cabinet}`
    case 'additive_use':
      return `${r.meal_label} · ${r.dish_name} · ${r.additive_name} 批号 ${r.batch} ${r.quantity} ${r.unit_label} · 发放 ${r.issuer_name} · 使用 ${r.user_name}`
    default:
      return r.kind_label
  }
}

/** A morning check in a line: how many were checked by whom, and who may not handle food that day and why. */
function morningCheckLine(r: LedgerRecord): string {
  const counts = r.summary ?? {}
  const line = `检查人 ${r.checker_name} · ${counts.checked ?? 0} 人，合格 ${counts.passed ?? 0} 人`
  const off = (r.persons ?? []).filter((p) => !p.food_handling)
  if (!off.length) return line
  // The server's findings (fever, symptoms, hands); a person the checker failed without one is said so.
  const why = off.map((p) => `${p.name}（${p.findings.join('、') || '检查人判定不合格'}）`)
  return `${line} · 今日不得接触直接入口食品：${why.join('、')}`
}

/** Whether the caller may seal and release (封存) in a school: the region's regulators and its principal
 * (`/me` capabilities; the API checks again). */
export function canSeal(user: User | null, schoolId: number | undefined): boolean {
  return mayInSchool(user, schoolId, 'records.seal')
}

/** Whether /me lets the user do `action` in the school: an admin, a regulator allowed it, or a role held there. */
export function mayInSchool(user: User | null, schoolId: number | undefined, action: string): boolean {
  const capabilities = user?.capabilities
  if (!capabilities || schoolId === undefined) return false
  return capabilities.admin === true || (capabilities.regulator ?? []).includes(action)
    || (capabilities.schools?.[String(schoolId)] ?? []).includes(action)
}

/** A record of any kind as the kinds' routes present it (GET /canteens/{id}/<kind>, GET /records/{id}): the
 * envelope, then the optional fields of its kind (backend/records/kind_schemas.py). */
export type KindRecord = Schemas['RecordOut']
export type RecordList = Schemas['RecordListOut']

/** The people at work in the canteen (at most 100) and whether there are more. */
export function loadStaff(canteenId: number): Promise<RecordList> {
  return get('/canteens/{canteen_id}/staff', { params: { canteen_id: canteenId }, query: { active: true, limit: 100 } })
}

/** The canteen's suppliers with their licences (at most 100) and whether there are more. */
export function loadSuppliers(canteenId: number): Promise<RecordList> {
  return get('/canteens/{canteen_id}/suppliers', { params: { canteen_id: canteenId }, query: { limit: 100 } })
}

// What a health certificate's state means for the person's work, as an inspector reads it.
export const CERTIFICATE_STATES: Record<'valid' | 'expiring' | 'expired' | 'missing', { text: string, type: 'success' | 'warning' | 'danger' }> = {
  valid: { text: '有效', type: 'success' },
  expiring: { text: '30 天内到期', type: 'warning' },
  expired: { text: '已过期', type: 'danger' },
  missing: { text: '未登记', type: 'danger' },
}

/** What a correction changed: a field in the words of the export's tables, before and after; `line` names a delivery's
 * item, a menu's dish or a checked person (field 新增 / 删除 for a line added or removed); `role`, a change of files. */
export type RecordChange = Schemas['RecordChangeOut']
/** One version of a record in its history: who wrote it, why, what it changed, and the record as it was. */
export type RecordVersion = Schemas['RecordVersionOut']

/** Files a correction replaced: for each changed file role, the corrected version's files and the correction's. */
export interface ReplacedFiles { field: string, before: FileLink[], after: FileLink[] }

/** The files each changed role held before a correction and after it, read from the two versions (a change of files
 * names its `role`). A correction never erases, so the replaced photo stays there to be opened. */
export function replacedFiles(version: RecordVersion, versions: RecordVersion[]): ReplacedFiles[] {
  const corrected = versions.find((v) => v.version_id === version.amends_version_id)
  if (!corrected) return []
  return version.changes.flatMap((change) => change.role === undefined ? [] : [{
    field: change.field,
    before: fileLinks({ [change.role]: corrected.record.files?.[change.role] ?? [] }),
    after: fileLinks({ [change.role]: version.record.files?.[change.role] ?? [] }),
  }])
}

/** 更正记录: GET /records/{id} — the record's current version with every version, oldest first. */
export function loadRecordHistory(recordId: number): Promise<Schemas['RecordDetailOut']> {
  return get('/records/{record_id}', { params: { record_id: recordId } })
}

/** A change in words: "评分：5 → 4", "猪肉 · 数量：12.5 → 15", "新增 鸡蛋：批号 JD-1；…". */
export function changeText(change: RecordChange): string {
  if (change.field === '新增') return `新增 ${change.line ?? ''}${change.after ? `：${change.after}` : ''}`
  if (change.field === '删除') return `删除 ${change.line ?? ''}${change.before ? `：${change.before}` : ''}`
  const where = change.line ? `${change.line} · ` : ''
  return `${where}${change.field}：${change.before || '（空）'} → ${change.after || '（空）'}`
}

export type Removable = Schemas['RemovableListOut']

/** 保存期限: the canteen's records past their required keeping time on `on` (default today), oldest first, with the
 * rule of each kind. A report: the platform deletes nothing. */
export function loadRemovable(canteenId: number, on?: string, offset = 0, limit = 100): Promise<Removable> {
  return get('/canteens/{canteen_id}/records/removable', { params: { canteen_id: canteenId }, query: { on, offset, limit } })
}

/** What a record offers to seal: each batch of a delivery, a retained sample. */
export function sealTargets(r: LedgerRecord): { target: 'item' | 'sample', id: number, label: string }[] {
  if (r.kind === 'receiving') {
    return (r.items ?? []).map((i) => ({ target: 'item' as const, id: i.item_id!, label: `${i.ingredient}（批号 ${i.batch}）` }))
  }
  if (r.kind === 'sample') return [{ target: 'sample', id: r.id!, label: `${r.dish_name} 留样` }]
  return []
}

/** The canteen's kitchen areas a seal could close now: those without a seal in force (sealed ones are released
 * from the 封存 list). */
export function areasToSeal<A extends { id?: number }>(areas: A[], inForce: Seal[]): A[] {
  const sealed = new Set(inForce.filter((s) => s.target === 'area').map((s) => s.area_id))
  return areas.filter((a) => !sealed.has(a.id as number))
}

function idempotencyKey(): string {
  return `console-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`
}

/** Seal a batch, a sample or an area of a canteen with the reason. */
export async function seal(canteenId: number, target: 'item' | 'sample' | 'area', targetId: number,
  reason: string): Promise<Seal> {
  return await post('/canteens/{canteen_id}/seals', {
    params: { canteen_id: canteenId }, body: { target, target_id: targetId, reason },
    headers: { 'Idempotency-Key': idempotencyKey() } })
}

/** Release a seal with the reason; answers the released seal. */
export async function releaseSeal(sealId: number, reason: string): Promise<Seal> {
  return await post('/records/{record_id}/release', {
    params: { record_id: sealId }, body: { reason }, headers: { 'Idempotency-Key': idempotencyKey() } })
}

/** A seal in words: what it holds, why, and since when (or that it was released). */
export function sealSummary(s: Seal): string {
  const state = s.in_force ? '封存中' : `已解除（${s.release?.reason ?? ''}）`
  return `${s.target_label} · ${s.target_name} · ${s.reason} · ${s.authority_label} · ${state}`
}
