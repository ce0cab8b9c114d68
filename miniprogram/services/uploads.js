/**
 * Photos and scans for records go to POST /api/v1/uploads as multipart (field `file` and the canteen id,
 * the way wx.uploadFile sends them) with an Idempotency-Key; the server checks the content and answers
 * an upload id that records then refer to. Violation photos go to the school's violation-photos, and an
 * inspector's photos of a finding to the round's photos (with the canteen); both answer an object key.
 */
const http = require('../utils/request');
const idempotency = require('../utils/idempotency');

const MAX_BYTES = 10 * 1024 * 1024;

/** Upload one local file for a canteen's records; a retry of the same file reuses its idempotency key. */
function uploadRecordFile(filePath, canteenId) {
  const form = `upload:${filePath}`;
  const key = idempotency.keyFor(form, { filePath, canteenId });
  return http.upload('/uploads', filePath, {
    name: 'file', formData: { canteen_id: String(canteenId) }, idempotencyKey: key, silent: true,
  }).then((result) => {
    idempotency.settle(form);
    return { ref: result.id, url: result.url };
  }, (err) => {
    if (!err.retryable) idempotency.settle(form);
    throw err;
  });
}

function uploadViolationPhoto(filePath, schoolId) {
  return http.upload(`/schools/${schoolId}/violation-photos`, filePath, { name: 'file', silent: true })
    .then((result) => ({ ref: result.key, url: result.url }));
}

function uploadInspectionPhoto(filePath, roundId, canteenId) {
  return http.upload(`/inspections/${roundId}/photos`, filePath, {
    name: 'file', formData: { canteen_id: String(canteenId) }, silent: true,
  }).then((result) => ({ ref: result.key, url: result.url }));
}

const UPLOADERS = { record: uploadRecordFile, violation: uploadViolationPhoto, inspection: uploadInspectionPhoto };

/**
 * Upload for a record (ownerId = canteen id), a violation (ownerId = school id) or an inspection finding
 * (ownerId = round id, with the canteen's id); resolves {ref, url}.
 */
function upload(kind, filePath, ownerId, canteenId) {
  return UPLOADERS[kind](filePath, ownerId, canteenId);
}

module.exports = { upload, MAX_BYTES };
