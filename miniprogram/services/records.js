/**
 * Canteen records: the day view parents read (menu → dish → ingredient → batch → supplier → certificate,
 * samples, disinfection), and the forms canteen managers send. Every create carries an Idempotency-Key
 * that stays the same while the same content is retried (utils/idempotency).
 */
const http = require('../utils/request');
const idempotency = require('../utils/idempotency');
const time = require('../utils/time');
const { FILE_ROLES } = require('../utils/labels');
const documents = require('./documents');

/** The school's day: today, or any date (YYYY-MM-DD). */
function day(schoolId, date, extra) {
  if (!date || date === time.today()) return http.get(`/schools/${schoolId}/today`, null, extra);
  return http.get(`/schools/${schoolId}/days/${date}`, null, extra);
}

/**
 * Create a record. `form` names the form (one pending key per form); the promise rejects with the
 * ApiError, which the form shows next to the field it names.
 */
function create(form, canteenId, segment, body) {
  return send(form, `/canteens/${canteenId}/${segment}`, body);
}

/**
 * POST a record-making request (a record, a seal, a release) under `form`'s idempotency key: the same key while
 * the same content is retried, forgotten once the server answered for sure.
 */
function send(form, path, body) {
  const key = idempotency.keyFor(form, body);
  return http.post(path, body, { idempotencyKey: key, silent: true }).then((record) => {
    idempotency.settle(form);
    return record;
  }, (err) => {
    // Unknown outcome (network, timeout, 5xx): keep the key so the retry cannot create a second record.
    if (!err.retryable) idempotency.settle(form);
    throw err;
  });
}

/**
 * 更正的底稿: a record's current version in the shape its correction takes ({record_id, version_id, kind_label,
 * record_date, record, files: {photo_upload_ids: [file…]}}). Sealed records are refused (409) as the
 * correction would be.
 */
function draft(recordId) {
  return http.get(`/records/${recordId}/draft`, null, { silent: true });
}

/**
 * Correct a record (更正): `body` is {reason, expected_version_id, record} with the whole corrected record; sent
 * under `form`'s idempotency key like a create, so a retried correction makes one version.
 */
function amend(form, recordId, body) {
  return send(form, `/records/${recordId}/amendments`, body);
}

/**
 * A supplier as the API takes it from a form's text fields: trimmed, the credit code in capitals, an empty optional
 * field as null (the receiving form's 新增供应商 and the supplier register's form).
 */
function supplierBody(form) {
  const optional = (value) => (value || '').trim() || null;
  return {
    name: form.name.trim(), credit_code: optional(form.credit_code) && form.credit_code.trim().toUpperCase(),
    contact_name: optional(form.contact_name), phone: optional(form.phone), address: optional(form.address),
    remarks: optional(form.remarks),
  };
}

/**
 * A record: its current version's fields with every version, oldest first, for 更正记录 ({…current record, versions:
 * [{version_id, created_at, created_by_name, created_by_role_label, amends_version_id, reason, current, changes:
 * [{field, before, after, line}]}]}).
 */
function detail(recordId) {
  return http.get(`/records/${recordId}`, null, { silent: true });
}

/** A change of a correction in words: "重量(克)：150 → 180", "猪肉 · 数量：12.5 → 15", "新增 鸡蛋：批号 JD-1；…". */
function changeText(change) {
  const where = change.line ? `${change.line} · ` : '';
  if (change.field === '新增') return `新增 ${change.line}${change.after ? `：${change.after}` : ''}`;
  if (change.field === '删除') return `删除 ${change.line}${change.before ? `：${change.before}` : ''}`;
  return `${where}${change.field}：${change.before || '（空）'} → ${change.after || '（空）'}`;
}

function list(canteenId, segment, query) {
  return http.get(`/canteens/${canteenId}/${segment}`, query);
}

/** Flatten a canteen's meals of a day view for badges: status and label of samples and disinfection. */
function mealSummaries(canteen) {
  return (canteen.meals || []).map((meal) => ({
    meal: meal.meal,
    label: meal.meal_label,
    time: meal.window ? `${time.hm(meal.window.start)}–${time.hm(meal.window.end)}` : '',
    sampleStatus: meal.samples.status,
    sampleText: meal.samples.status === 'not_applicable' ? '留样 无需'
      : `留样 ${meal.samples.taken}/${meal.samples.required}`,
    disinfectionStatus: meal.disinfection.status,
    disinfectionText: `消毒 ${meal.disinfection.status_label}`,
  }));
}

/**
 * A canteen's morning check (晨检) as parents see it: counts only, never who or their health.
 * Empty on a day without meals.
 */
function morningCheckText(block) {
  if (!block || block.status === 'not_applicable') return '';
  if (block.status !== 'done') return `晨检 ${block.status_label}`;
  const failed = block.failed ? `，${block.failed} 人不合格已调离食品岗位` : '';
  return `晨检 ${block.checked} 人，合格 ${block.passed} 人${failed}`;
}

/** One dish of a day view by id, with its meal. */
function findDish(dayView, dishId) {
  for (const canteen of dayView.canteens || []) {
    for (const meal of canteen.meals || []) {
      const dish = ((meal.menu && meal.menu.dishes) || []).find((d) => d.dish_id === Number(dishId));
      if (dish) return { canteen, meal, dish };
    }
  }
  return null;
}

/**
 * An ingredient of a day view with its delivery and supplier filled in: the day view lists each delivery
 * and supplier once (`receivings`, `suppliers` by id) and ingredients refer to them.
 */
function traceIngredient(dayView, item) {
  if (item.missing) return item;
  const receiving = (dayView.receivings || {})[item.receiving_id] || null;
  const supplierId = item.supplier_id || (receiving && receiving.supplier_id);
  const supplier = (dayView.suppliers || {})[supplierId] || null;
  return Object.assign({}, item, { receiving, supplier });
}

/** A record's files by role, as [role, files] pairs: every role, or the one asked for. */
function filesByRole(files, role) {
  if (!files) return [];
  return (role ? [role] : Object.keys(files)).map((r) => [r, files[r] || []]);
}

/** Image URLs of a record's files (all roles, or one). */
function photos(files, role) {
  return filesByRole(files, role).reduce((urls, [, ofRole]) => urls.concat(ofRole.filter((f) => !documents.isPdf(f))
    .map((f) => f.url)), []);
}

/** A record's PDFs (all roles, or one), each named by its role: [{key, url, label}] ("检验报告 2 · 3 页"). */
function pdfs(files, role) {
  return filesByRole(files, role).reduce((found, [r, ofRole]) => {
    const pdfsOfRole = ofRole.filter(documents.isPdf);
    return found.concat(pdfsOfRole.map((file, index) => ({
      key: `${r}-${file.upload_id}`, url: file.url,
      label: `${FILE_ROLES[r] || r}${pdfsOfRole.length > 1 ? ` ${index + 1}` : ''}${file.pages ? ` · ${file.pages} 页` : ''}`,
    })));
  }, []);
}

/**
 * Read a certificate photo (an upload of the canteen) as `kind`: resolves with the suggested fields
 * ({id, suggested: {number, holder, valid_from, valid_until, issuer, long_term, scores}}); rejects with
 * `certificate_unreadable` when the photo shows nothing of that kind. Reading again creates nothing twice.
 */
function readCertificate(uploadId, kind) {
  return http.post(`/uploads/${uploadId}/certificate-reading`, { kind }, { silent: true });
}

module.exports = {
  day,
  detail,
  changeText,
  readCertificate,
  create,
  send,
  draft,
  amend,
  list,
  supplierBody,
  mealSummaries,
  morningCheckText,
  findDish,
  traceIngredient,
  photos,
  pdfs,
  suppliers: (canteenId) => list(canteenId, 'suppliers'),
  receivings: (canteenId, from, to) => list(canteenId, 'receivings', { from, to }),
  staff: (canteenId) => list(canteenId, 'staff', { active: true, limit: 100 }),
  additiveStock: (canteenId) => http.get(`/canteens/${canteenId}/additive-stock`),
};
