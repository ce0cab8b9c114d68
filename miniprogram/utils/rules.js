/**
 * Client-side checks that mirror the server's record rules (backend/records/services.py: GB 31654-2021
 * food samples, the 餐饮服务食品安全操作规范 for disinfection, cold chain on arrival), so a canteen manager
 * hears about a mistake before waiting for an upload. The server stays the authority: when it refuses
 * anyway, its Chinese message is shown. The contract test checks these numbers against the backend's.
 */
const time = require('./time');

const SAMPLE_MIN_WEIGHT_G = 125;
const SAMPLE_FRIDGE_MIN_C = 0;
const SAMPLE_FRIDGE_MAX_C = 8;
const SAMPLE_RETENTION_HOURS = 48;
const CHILLED_MAX_C = 8;
const FROZEN_MAX_C = -12;
// A phone number on a register, a person's or a supplier's (backend/records/schemas.py PHONE): mobile or landline.
const PHONE = /^[0-9+\-() ]{5,20}$/;
// A supplier's 统一社会信用代码 (backend/records/schemas.py CREDIT_CODE).
const CREDIT_CODE = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;
// (temperature °C, minutes, chlorine mg/L) minimums per method; null: not required.
const DISINFECTION_MINIMUMS = {
  steam: [100, 10, null],
  boiling: [100, 10, null],
  infrared: [120, 10, null],
  dishwasher: [85, null, null],
  chemical: [null, 5, 250],
  ultraviolet: [null, 30, null],
};
const DISINFECTION_FIELDS = [
  ['temperature_c', '温度', '°C'], ['minutes', '时长', '分钟'], ['concentration_mg_l', '有效氯浓度', 'mg/L'],
];

function number(value) {
  if (value === '' || value === null || value === undefined) return NaN;
  return Number(value);
}

/** Field → Chinese message for a sample-retention form; empty when it may be sent. */
function checkSample(form) {
  const errors = {};
  if (!form.dish_id) errors.dish_id = '请选择留样菜品';
  const grams = number(form.weight_g);
  if (Number.isNaN(grams)) errors.weight_g = '请填写留样重量';
  else if (grams < SAMPLE_MIN_WEIGHT_G) errors.weight_g = `留样重量不得少于 ${SAMPLE_MIN_WEIGHT_G} 克`;
  const temp = number(form.fridge_temperature_c);
  if (Number.isNaN(temp)) errors.fridge_temperature_c = '请填写留样冰箱温度';
  else if (temp < SAMPLE_FRIDGE_MIN_C || temp > SAMPLE_FRIDGE_MAX_C) {
    errors.fridge_temperature_c = `留样冰箱温度应在 ${SAMPLE_FRIDGE_MIN_C}–${SAMPLE_FRIDGE_MAX_C}°C 之间`;
  }
  if (!form.sealed) errors.sealed = '留样须密封保存';
  if (!form.sampler_name) errors.sampler_name = '请填写留样人';
  return errors;
}

/** The earliest moment a sample may be disposed of: 48 hours after it was taken. */
function keepUntil(sampledAt) {
  return new Date(time.parse(sampledAt).getTime() + SAMPLE_RETENTION_HOURS * 3600000);
}

/** '' when the disposal may be recorded, else why not. */
function checkDisposal(sampledAt, disposedAt) {
  if (time.parse(disposedAt).getTime() < keepUntil(sampledAt).getTime()) {
    return `留样须保存 ${SAMPLE_RETENTION_HOURS} 小时以上，${time.dateTime(keepUntil(sampledAt))} 后才能处置`;
  }
  return '';
}

function checkDisinfection(form) {
  const errors = {};
  if (!form.meal) errors.meal = '请选择餐次';
  if (!form.method) errors.method = '请选择消毒方式';
  if (form.method === 'ultraviolet' && form.target === 'tableware') errors.method = '紫外线消毒只适用于场所，不适用于餐饮具';
  const minimums = DISINFECTION_MINIMUMS[form.method] || [];
  DISINFECTION_FIELDS.forEach(([field, label, unit], i) => {
    if (minimums[i] === null || minimums[i] === undefined) return;
    const value = number(form[field]);
    if (Number.isNaN(value)) errors[field] = `请填写消毒${label}`;
    else if (value < minimums[i]) errors[field] = `消毒${label}不足：至少 ${minimums[i]} ${unit}`;
  });
  if (form.target === 'tableware' && !number(form.item_count)) errors.item_count = '餐饮具消毒须填写件数';
  if (form.target === 'area' && !form.target_name) errors.target_name = '请填写消毒场所';
  if (!form.operator_name) errors.operator_name = '请填写操作人';
  return errors;
}

/** The last day an item may be used: printed expiry, or production date + shelf life - 1 day. */
function expiryOf(item) {
  if (item.expiry_date) return item.expiry_date;
  if (item.production_date && number(item.shelf_life_days) > 0) {
    return time.shiftDay(item.production_date, number(item.shelf_life_days) - 1);
  }
  return '';
}

/** Messages for one received item (line numbers start at 1), checked on the day it arrives. */
function checkItem(item, receivedOn) {
  const errors = {};
  if (!item.ingredient) errors.ingredient = '请填写原料名称';
  if (!item.batch) errors.batch = '请填写批次号';
  if (!(number(item.quantity) > 0)) errors.quantity = '请填写数量';
  if (!item.unit) errors.unit = '请填写单位';
  if (item.production_date && item.production_date > receivedOn) errors.production_date = '生产日期不能晚于收货日期';
  const expiry = expiryOf(item);
  const fresh = item.category === 'vegetable' || item.category === 'fruit';
  if (!expiry && !fresh) errors.shelf_life_days = '请填写生产日期和保质期';
  if (expiry && expiry < receivedOn) errors.shelf_life_days = `「${item.ingredient}」已过保质期（${expiry}），不得验收`;
  if (item.storage === 'chilled' || item.storage === 'frozen') {
    const temp = number(item.storage_temperature_c);
    const limit = item.storage === 'chilled' ? CHILLED_MAX_C : FROZEN_MAX_C;
    if (Number.isNaN(temp)) errors.storage_temperature_c = '冷藏、冷冻食品须记录到货温度';
    else if (temp > limit) errors.storage_temperature_c = `到货温度高于 ${limit}°C，不得验收`;
  }
  return errors;
}

module.exports = {
  SAMPLE_MIN_WEIGHT_G, SAMPLE_FRIDGE_MIN_C, SAMPLE_FRIDGE_MAX_C, SAMPLE_RETENTION_HOURS, CHILLED_MAX_C, FROZEN_MAX_C,
  PHONE, CREDIT_CODE, DISINFECTION_MINIMUMS, checkSample, keepUntil, checkDisposal, checkDisinfection, expiryOf, checkItem,
};
