/**
 * 更正记录: every version of a record, newest first — who wrote it and when, why each correction was made and what
 * it changed ("重量(克)：150 → 180"; a line of a delivery, a menu or a morning check named). A correction never
 * erases: parents read here what a record said before. Opened from 已更正 (behaviors/record-history.js).
 */
const time = require('../../../utils/time');
const records = require('../../../services/records');
const { loadedPage } = require('../../../behaviors/loaded-page');

function author(version) {
  if (!version.created_by_name) return '';
  return version.created_by_role_label ? `${version.created_by_name}（${version.created_by_role_label}）`
    : version.created_by_name;
}

/**
 * The photos a correction replaced, beside the ones that replaced them: each changed file role (a change with
 * `role`) read from both versions' files. A correction never erases, so the first photo stays to be looked at.
 */
function replacedPhotos(version, corrected) {
  if (!corrected) return [];
  return version.changes.filter((change) => change.role).reduce((galleries, change) => galleries.concat([
    { key: `${change.role}-before`, label: `更正前的${change.field}`,
      photos: records.photos(corrected.record.files, change.role) },
    { key: `${change.role}-after`, label: `更正后的${change.field}`,
      photos: records.photos(version.record.files, change.role) },
  ]), []);
}

/** The PDFs a correction replaced (a delivery's 检验报告 or 票据), before and after, as rows that open. */
function replacedPdfs(version, corrected) {
  if (!corrected) return [];
  const named = (docs, when) => docs.map((doc) => Object.assign({}, doc, { key: `${when}-${doc.key}`,
    label: `${when === 'before' ? '更正前' : '更正后'}的${doc.label}` }));
  return version.changes.filter((change) => change.role).reduce((docs, change) => docs.concat(
    named(records.pdfs(corrected.record.files, change.role), 'before'),
    named(records.pdfs(version.record.files, change.role), 'after')), []);
}

function step(version, number, previous) {
  const corrected = version.amends_version_id !== null;
  const lines = version.changes.map(records.changeText);
  return {
    key: String(version.version_id),
    title: corrected ? `第 ${number} 版 · 更正` : `第 ${number} 版 · 登记`,
    text: corrected ? `更正原因：${version.reason}` : '',
    lines: corrected && !lines.length ? ['内容未改动（原样重录）'] : lines,
    time: time.dateTime(version.created_at),
    actor: author(version),
    photos: [],
    galleries: replacedPhotos(version, previous),
    documents: replacedPdfs(version, previous),
  };
}

Component({
  behaviors: [loadedPage],
  data: { title: '', summary: '', steps: [] },
  methods: {
    onLoad(query) {
      this.recordId = query && query.id;
      this.load();
    },

    fetch() {
      return records.detail(this.recordId);
    },

    show(record) {
      const corrections = record.versions.length - 1;
      this.setData({
        loading: false,
        title: `${record.kind_label} · ${record.record_date}`,
        summary: corrections ? `共更正 ${corrections} 次，以下为每一版的登记与更正` : '该记录未被更正',
        steps: record.versions.map((version, index) => step(version, index + 1,
          record.versions.find((v) => v.version_id === version.amends_version_id))).reverse(),
      });
    },
  },
});
