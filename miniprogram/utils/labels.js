/**
 * Chinese names of the API's codes (roles, meals, sources, record fields). Unknown codes show as they are.
 * A table of a backend enum holds exactly that enum's labels (tests/contract/test_client_labels.py); the
 * violation kinds and statuses come with their labels in the API's answers, so they are not copied here.
 */
const ROLES = {
  parent: '家长', committee: '家委会成员', manager: '食堂负责人', staff: '学校食品安全管理员', principal: '校长',
};
const RELATIONS = {
  father: '父亲', mother: '母亲', paternal_grandfather: '爷爷', paternal_grandmother: '奶奶',
  maternal_grandfather: '外公', maternal_grandmother: '外婆', guardian: '其他监护人',
};
const MEMBERSHIP_STATUS = { pending: '待审核', active: '已通过', rejected: '未通过', revoked: '已解除' };
// What an attached file is to its record (a delivery's 检验报告 and 票据, a licence's 扫描件, a photo).
const FILE_ROLES = { scan: '扫描件', inspection_report: '检验报告', invoice: '票据', photo: '照片' };
const MEALS = { breakfast: '早餐', lunch: '午餐', dinner: '晚餐', snack: '加餐' };
const VIOLATION_SOURCES = {
  ai: '智能识别', record_rule: '台账核查', inspection: '监督检查', report: '举报反映', patrol: '视频巡查', monitoring: '设备监测',
};
// The kinds a person can report from what they saw (反映问题), labelled as the server labels them; the last is
// the catch-all.
const REPORT_KINDS = {
  no_mask: '未佩戴口罩', no_hat: '未佩戴厨师帽', no_uniform: '未穿工作服', smoking: '后厨吸烟', phone: '操作时使用手机',
  rodent: '发现鼠患', reported: '群众反映问题',
};
// Record tables in the order the forms offer them (the first one is the default).
const DISINFECTION_METHODS = {
  steam: '蒸汽消毒', boiling: '煮沸消毒', infrared: '红外线消毒柜', dishwasher: '洗碗机消毒', chemical: '含氯消毒剂浸泡',
  ultraviolet: '紫外线消毒',
};
const DISINFECTION_TARGETS = { tableware: '餐饮具', area: '场所' };
const INGREDIENT_CATEGORIES = {
  vegetable: '蔬菜', meat: '畜肉', poultry: '禽肉', aquatic: '水产品', egg: '蛋类', grain: '粮食', oil: '食用油', dairy: '乳制品',
  fruit: '水果', soy: '豆制品', seasoning: '调味品', frozen: '速冻食品', other: '其他',
};
const STORAGE_CONDITIONS = { ambient: '常温', chilled: '冷藏', frozen: '冷冻' };
const CERTIFICATE_KINDS = {
  business_licence: '营业执照', food_business_licence: '食品经营许可证', food_production_licence: '食品生产许可证',
  animal_quarantine: '动物检疫合格证明', other: '其他证明',
};
// Joint inspections: a round's state, a canteen's visit, how serious a finding is (backend/regulators/models.py).
const ROUND_STATUS = { planned: '进行中', completed: '已完成' };
const VISIT_RESULTS = { pass: '合格', issues: '发现问题', noted: '已记录' };
const SEVERITIES = { minor: '一般', major: '较重', critical: '严重' };
// A violation's risk class (docs/risk.md): 1 is acted on at once (鼠患、变质食品…), 3 the least serious.
const RISK_CLASSES = { 1: '一类风险', 2: '二类风险', 3: '三类风险' };

// The colour (van-tag type) of each status.
const VIOLATION_STATUS_TAGS = {
  open: 'danger', notified: 'danger', rectifying: 'warning', submitted: 'primary', rejected: 'danger', closed: 'success',
};
const RECORD_STATUS_TAGS = { done: 'success', pending: 'primary', missing: 'danger', not_applicable: 'default' };
const CERTIFICATE_STATUS_TAGS = { valid: 'success', expiring: 'warning', expired: 'danger' };
const VISIT_RESULT_TAGS = { pass: 'success', issues: 'danger', noted: 'warning' };

function label(table, code) {
  return (code && table[code]) || code || '';
}

/** A table as picker options, in its order: [{code, label}]. */
function options(table) {
  return Object.keys(table).map((code) => ({ code, label: table[code] }));
}

/** The van-tag type of a status (default grey). */
function tagType(table, code) {
  return table[code] || 'default';
}

module.exports = {
  RISK_CLASSES,
  ROLES,
  RELATIONS,
  MEMBERSHIP_STATUS,
  FILE_ROLES,
  MEALS,
  VIOLATION_SOURCES,
  REPORT_KINDS,
  DISINFECTION_METHODS,
  DISINFECTION_TARGETS,
  INGREDIENT_CATEGORIES,
  STORAGE_CONDITIONS,
  CERTIFICATE_KINDS,
  ROUND_STATUS,
  VISIT_RESULTS,
  SEVERITIES,
  VIOLATION_STATUS_TAGS,
  VISIT_RESULT_TAGS,
  RECORD_STATUS_TAGS,
  CERTIFICATE_STATUS_TAGS,
  label,
  options,
  tagType,
};
