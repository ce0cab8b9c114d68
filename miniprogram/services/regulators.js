/**
 * The regulator's work on the phone, over the same API as the console: the figures of a region or a school
 * (`/stats`, which carries the ranking, the drill-down, the weekly trend, the cameras and the breadcrumbs), a
 * region's violations and AI alarms to review, joint inspection rounds with their visits, findings and
 * conclusion, and supervision orders (监督整改通知: issued in the console, answered and closed here too).
 */
const http = require('../utils/request');
const time = require('../utils/time');

/**
 * Figures of a region ({region_id}) or a school ({school_id}) over the API's default period (30 days), with
 * `by_school` (the ranking), `by_region` (the rows to drill into), `weekly`, `cameras` and `breadcrumbs`.
 */
function stats(scope, extra) {
  return http.get('/stats', scope, extra);
}

/**
 * A page of a region's violations, newest first, and how many match: {items, total} (filters: status, kind,
 * state, overdue, from, to; paged by before_id, limit).
 */
function violations(regionId, query, extra) {
  return http.getPage(`/regions/${regionId}/violations`, query, extra);
}

function rounds(regionId, extra) {
  return http.get(`/regions/${regionId}/inspections`, null, extra);
}

function round(roundId, extra) {
  return http.get(`/inspections/${roundId}`, null, extra);
}

/** Record a finding ({canteen_id, description, severity, kind, photos, open_violation}); it may open a violation. */
function addFinding(roundId, body) {
  return http.post(`/inspections/${roundId}/findings`, body, { silent: true });
}

/** Mark a canteen of the round visited: result 'pass' (nothing found) or 'issues'. */
function recordVisit(roundId, canteenId, result) {
  return http.post(`/inspections/${roundId}/visits`, { canteen_id: canteenId, result });
}

/** Close the round with its conclusion. */
function complete(roundId, summary) {
  return http.post(`/inspections/${roundId}/complete`, { summary: summary || null }, { silent: true });
}

/** A region's AI alarms awaiting review, newest first: {items, groups, next_before_id}. */
function alarms(regionId, query, extra) {
  return http.get(`/regions/${regionId}/alarms`, query, extra);
}

/** A verdict on an AI alarm: confirmed, false_positive (reason required) or escalated. */
function reviewAlarm(alarmId, verdict, reason) {
  return http.post(`/alarms/${alarmId}/review`, { verdict, reason: reason || null });
}

/** A school's supervision orders (监督整改通知), newest first. */
function orders(schoolId, extra) {
  return http.get(`/schools/${schoolId}/supervision-orders`, null, extra);
}

/** One supervision order, as the school or its regulator reads it. */
function order(orderId, extra) {
  return http.get(`/supervision-orders/${orderId}`, null, extra);
}

/** The school's answer (its principal); answering again replaces it until the regulator closes the order. */
function respondOrder(orderId, response) {
  return http.post(`/supervision-orders/${orderId}/respond`, { response }, { silent: true });
}

/** The regulator closes an answered order, with an optional word on why. */
function closeOrder(orderId, reason) {
  return http.post(`/supervision-orders/${orderId}/close`, { reason: reason || null });
}

// The colour (van-tag type) of an order's status; an order past its deadline without an answer is red.
const ORDER_STATUS_TAGS = { issued: 'warning', responded: 'primary', closed: 'success' };

/** An order as the phone shows it (its page and the school's list): times in Shanghai, overdue, the problems
 * it names as links to their pages. */
function orderView(item) {
  const due = time.parse(item.due_at);
  const overdue = item.status === 'issued' && !!due && due.getTime() < Date.now();
  return Object.assign({}, item, {
    overdue,
    tagType: overdue ? 'danger' : ORDER_STATUS_TAGS[item.status] || 'default',
    dueText: time.dateTime(item.due_at),
    issuedText: time.dateTime(item.issued_at),
    respondedText: time.dateTime(item.responded_at),
    closedText: time.dateTime(item.closed_at),
    violations: (item.violations || []).map((v) => Object.assign({}, v, { url: `/pages/violations/detail/index?id=${v.id}` })),
  });
}

module.exports = {
  orderView,
  alarms, reviewAlarm, stats, violations, rounds, round, addFinding, recordVisit, complete, orders, order, respondOrder,
  closeOrder,
};
