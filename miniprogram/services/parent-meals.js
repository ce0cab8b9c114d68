/**
 * 家长陪餐: the slots a school publishes, a parent's sign-ups and ratings, and the school's side (publish,
 * approve or decline, answer). The server decides who may do what and when (a rating before the meal, a full
 * slot); the pages show its answers.
 */
const http = require('../utils/request');

/** The three rated dimensions, in the order the forms and the opinions show them. */
const DIMENSIONS = [
  { name: 'taste', label: '口味' },
  { name: 'hygiene', label: '卫生' },
  { name: 'portion', label: '分量与价格' },
];

/** "口味 4 · 卫生 5 · 分量与价格 3" of an opinion. */
function scoresText(opinion) {
  return DIMENSIONS.map((d) => `${d.label} ${opinion[d.name]}`).join(' · ');
}

/** "剩余 2 个名额" / "名额已满" / "已开餐" of a slot. */
function placesText(slot) {
  if (!slot.open) return '已开餐，报名已截止';
  return slot.full ? '名额已满' : `剩余 ${slot.remaining}/${slot.capacity} 个名额`;
}

/** "近 30 天 1 条评价，已答复 1 条；平均 口味 4 · 卫生 5 · 分量与价格 4" of the opinions' answer. */
function summaryText(answer) {
  if (!answer.rated) return '近 30 天暂无家长评价';
  const averages = DIMENSIONS.map((d) => `${d.label} ${answer.averages[d.name]}`).join(' · ');
  return `近 30 天 ${answer.rated} 条评价，已答复 ${answer.answered} 条；平均 ${averages}`;
}

module.exports = {
  DIMENSIONS,
  scoresText,
  placesText,
  summaryText,
  slots: (schoolId, extra) => http.get(`/schools/${schoolId}/parent-meal-slots`, null, extra),
  mine: (schoolId, extra) => http.get(`/schools/${schoolId}/parent-meal-signups/mine`, null, extra),
  opinions: (schoolId, extra) => http.get(`/schools/${schoolId}/parent-meal-opinions`, null, extra),
  signUp: (slotId, note) => http.post(`/parent-meal-slots/${slotId}/signups`, { note: note || null }),
  rate: (signupId, body) => http.post(`/parent-meal-signups/${signupId}/rating`, body, { silent: true }),
  publish: (schoolId, body) => http.post(`/schools/${schoolId}/parent-meal-slots`, body, { silent: true }),
  signups: (schoolId, extra) => http.get(`/schools/${schoolId}/parent-meal-signups`, null, extra),
  decide: (signupId, decision, note) => http.post(`/parent-meal-signups/${signupId}/decision`,
    { decision, note: note || null }),
  answer: (signupId, text) => http.post(`/parent-meal-signups/${signupId}/answer`, { answer: text }, { silent: true }),
};
