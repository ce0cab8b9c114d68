/** Chinese names of the API's codes (roles, meals, statuses, kinds). Unknown codes show as they are. */
const ROLES = {
  parent: '家长', committee: '家委会', manager: '食堂负责人', staff: '食品安全管理员', principal: '校长',
};
const RELATIONS = {
  father: '父亲', mother: '母亲', paternal_grandfather: '爷爷', paternal_grandmother: '奶奶',
  maternal_grandfather: '外公', maternal_grandmother: '外婆', guardian: '其他监护人',
};
const MEMBERSHIP_STATUS = { pending: '待审核', active: '已通过', rejected: '未通过', revoked: '已解除' };
const MEALS = { breakfast: '早餐', lunch: '午餐', dinner: '晚餐', snack: '加餐' };
const VIOLATION_STATUS = {
  open: '待处理', notified: '已通知', rectifying: '整改中', submitted: '待验收', closed: '已整改',
  rejected: '已驳回', reopened: '重新整改',
};
const VIOLATION_KINDS = {
  no_mask: '未佩戴口罩', no_hat: '未佩戴帽子', no_uniform: '未穿工作服', smoking: '吸烟', phone: '使用手机',
  rodent: '发现鼠患', person_after_hours: '非工作时间有人员', camera_offline: '摄像头离线',
  camera_blurred: '画面模糊', camera_occluded: '画面遮挡', sample_missing: '未按要求留样',
  disinfection_missing: '缺少消毒记录', certificate_expired: '供应商证照过期', inspection: '监督检查发现',
  report: '举报',
};
const VIOLATION_SOURCES = { ai: '智能识别', record_rule: '台账核查', inspection: '监督检查', report: '举报' };
const DISINFECTION_METHODS = {
  steam: '蒸汽消毒', boiling: '煮沸消毒', cabinet: '消毒柜', chemical: '化学消毒（含氯消毒液）', uv: '紫外线消毒',
  infrared: '红外线消毒', other: '其他',
};
const CERTIFICATE_KINDS = {
  business_license: '营业执照', food_license: '食品经营许可证', production_license: '食品生产许可证',
  inspection_report: '检验检测报告', quarantine: '检疫合格证明', other: '其他证明',
};

function label(table, code) {
  return (code && table[code]) || code || '';
}

module.exports = {
  ROLES, RELATIONS, MEMBERSHIP_STATUS, MEALS, VIOLATION_STATUS, VIOLATION_KINDS, VIOLATION_SOURCES, DISINFECTION_METHODS,
  CERTIFICATE_KINDS, label,
};
