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
 * The files a correction replaced, beside the ones that replaced them: for each changed file role (a change with
 * `role`), the photos of both versions as captioned galleries and their PDFs as rows that open. A correction never
 * erases, so the first file stays to be looked at.
 */
function replacedFiles(version, corrected) {
  const shown = { galleries: [], documents: [] };
  if (!corrected) return shown;
  version.changes.filter((change) => change.role).forEach((change) => {
    [['before', '更正前', corrected], ['after', '更正后', version]].forEach(([when, word, holder]) => {
      const files = holder.record.files;
      shown.galleries.push({ key: `${change.role}-${when}`, label: `${word}的${change.field}`,
        photos: records.photos(files, change.role) });
      shown.documents.push(...records.pdfs(files, change.role).map((doc) => Object.assign({}, doc, {
        key: `${when}-${doc.key}`, label: `${word}的${doc.label}` })));
    });
  });
  return shown;
}

function step(version, number, previous) {
  const corrected = version.amends_version_id !== null;
  const lines = version.changes.map(records.changeText);
  return Object.assign({
    key: String(version.version_id),
    title: corrected ? `第 ${number} 版 · 更正` : `第 ${number} 版 · 登记`,
    text: corrected ? `更正原因：${version.reason}` : '',
    lines: corrected && !lines.length ? ['内容未改动（原样重录）'] : lines,
    time: time.dateTime(version.created_at),
    actor: author(version),
    photos: [],
  }, replacedFiles(version, previous));
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
