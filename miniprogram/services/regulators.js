/**
 * The regulator's work on the phone, over the same API as the console: the figures of a region or a school
 * (`/stats`, which carries the ranking, the drill-down, the weekly trend, the cameras and the breadcrumbs), a
 * region's violations and AI alarms to review, and joint inspection rounds with their visits, findings and
 * conclusion.
 */
const http = require('../utils/request');

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

module.exports = {
  alarms, reviewAlarm, stats, violations, rounds, round, addFinding, recordVisit, complete,
};
