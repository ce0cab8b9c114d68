/**
 * 我反映的问题: the problems I reported, newest first, each as its reporter may follow it — where it stands, the
 * steps the school took (no names, no internal reasons), the rectification's state and, once accepted, the
 * measures. The messages telling a reporter of progress open this page on their report (`id`).
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const labels = require('../../../utils/labels');
const violations = require('../../../services/violations');
const { listPage, nextBeforeId } = require('../../../behaviors/list-page');

/** A report as its card shows it. */
function card(report, focusId) {
  const closed = report.status === 'closed';
  return Object.assign({}, report, {
    focus: report.id === focusId,
    tagType: labels.tagType(labels.VIOLATION_STATUS_TAGS, report.status),
    stateLabel: closed && report.resolution_label ? report.resolution_label : report.status_label,
    reportedText: time.dateTime(report.reported_at),
    steps: report.events.map((e, i) => ({ key: `${report.id}-${i}`, title: e.label, time: time.dateTime(e.at), photos: [] }))
      .reverse(),
  });
}

Component({
  behaviors: [listPage({ pageSize: 20 })],
  data: { canReport: false },
  methods: {
    onLoad(query) {
      this.focusId = Number((query || {}).id) || null;
      return this.load();
    },

    fetchPage(beforeId, limit) {
      return guard.ready().then(({ abilities }) => {
        this.setData({ canReport: abilities.report });
        return violations.myReports(beforeId ? { before_id: beforeId, limit } : { limit }, { silent: true });
      }).then((items) => ({ items: items.map((r) => card(r, this.focusId)), next: nextBeforeId(items, limit) }));
    },

    onReport() {
      wx.navigateTo({ url: '/pages/violations/report/index' });
    },

    onPreview(event) {
      wx.previewImage({ urls: event.currentTarget.dataset.urls, current: event.currentTarget.dataset.url });
    },
  },
});
