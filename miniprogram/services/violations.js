/**
 * Violations and their rectification. Parents read the school's transparency page (closed violations with
 * parent-safe evidence); the committee and staff read violations; managers and staff answer them; the
 * principal reviews.
 */
const http = require('../utils/request');
const time = require('../utils/time');
const labels = require('../utils/labels');
const records = require('./records');

/** This month's found / rectified / in progress of the school, from the parents' page. */
function summary(schoolId) {
  const today = time.today();
  return transparency(schoolId, { from: `${today.slice(0, 8)}01`, to: today, limit: 1 }, { silent: true })
    .then((page) => page.summary);
}

function transparency(schoolId, query, extra) {
  return http.get(`/schools/${schoolId}/transparency`, query, extra);
}

function list(schoolId, query, extra) {
  return http.get(`/schools/${schoolId}/violations`, query, extra);
}

/** The same list with how many match in all: {items, total} (X-Total-Count; filters as `list`, plus state, from, to). */
function listWithTotal(schoolId, query, extra) {
  return http.getPage(`/schools/${schoolId}/violations`, query, extra);
}

/**
 * List rows as the lists show them (pages/violations/list/rows.wxml): the status's colour, kind, time, and
 * 已超期 by the server's rule (`overdue`: still owed a fix and past due, as the figures count it); with
 * `{ school: true }` (a region's list) each row's school first.
 */
function rows(items, options) {
  const withSchool = Boolean(options && options.school);
  return items.map((v) => Object.assign({}, v, {
    tagType: labels.tagType(labels.VIOLATION_STATUS_TAGS, v.status),
    meta: `${withSchool && v.school_name ? `${v.school_name} · ` : ''}${v.kind_label} · ${times(v).foundText}`
      + `${v.overdue ? ' · 已超期' : ''}`,
  }));
}

/**
 * A violation's times as its page shows them: 发现时间, when the platform registered it (what lists and figures
 * go by), and 发生时间, when the problem happened (the deadline runs from it), only where the two read
 * differently (a record rule's finding minutes after the missed deadline, a detection caught up late).
 */
function times(v) {
  const found = time.dateTime(v.created_at);
  const occurred = time.dateTime(v.occurred_at);
  return { foundText: found, occurredText: occurred && occurred !== found ? occurred : '' };
}

function detail(violationId, extra) {
  return http.get(`/violations/${violationId}`, null, extra);
}

function start(violationId, note) {
  return http.post(`/violations/${violationId}/start`, { note: note || null });
}

/** Upload one rectification photo; answers {key, url, size}; the key goes into the rectification. */
function uploadPhoto(schoolId, filePath) {
  return http.upload(`/schools/${schoolId}/violation-photos`, filePath, { name: 'file', silent: true });
}

/**
 * Submit the measures taken with photo keys. The transition is conditional on the server (rectifying →
 * submitted), so a retried submit after a lost answer cannot record a second rectification: it gets
 * 409 invalid_transition, and the page reloads the violation.
 */
function submitRectification(violationId, measures, photoKeys) {
  return http.post(`/violations/${violationId}/rectifications`, { measures, photos: photoKeys }, { silent: true });
}

function review(violationId, approve, reason) {
  return http.post(`/violations/${violationId}/review`, { approve, reason: reason || null });
}

/**
 * The timeline of a violation for kc-timeline, newest first: each step with who did it; a submitted
 * rectification shows its measures and photos, a rejection its reason.
 */
function timeline(violation) {
  const rectifications = violation.rectifications || [];
  let submitted = 0;
  const items = (violation.events || []).map((event) => {
    const item = {
      key: `e${event.id}`, title: event.label, text: event.reason || '', actor: event.actor_name || '',
      time: time.dateTime(event.at), photos: [],
    };
    if (event.action === 'submit') {
      const rectification = rectifications[submitted] || {};
      submitted += 1;
      item.text = rectification.measures || item.text;
      item.photos = rectification.photos || [];
    }
    return item;
  });
  return items.reverse();
}

/**
 * 反映问题: a problem someone of the school saw ({canteen_id, kind, description, photos, camera_id}), sent under
 * the form's Idempotency-Key so a retry after a lost answer is the same report; a parent's text is checked by
 * WeChat on the server (422 content_risky).
 */
function report(schoolId, body) {
  return records.send(`report-${schoolId}`, `/schools/${schoolId}/violations`, body);
}

/** 我反映的问题: the caller's reports, newest first, each as its reporter may follow it (paged by before_id). */
function myReports(query, extra) {
  return http.get('/me/reports', query, extra);
}

module.exports = {
  report, myReports,
  summary, transparency, list, listWithTotal, rows, times, detail, start, uploadPhoto, submitRectification, review, timeline,
};
