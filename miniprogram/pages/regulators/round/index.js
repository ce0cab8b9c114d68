/**
 * 联合检查: one round — its inspectors, its canteens with the result of each visit (a canteen opens its visit,
 * pages/regulators/visit), the findings, and the conclusion that closes it.
 */
const guard = require('../../../utils/guard');
const { confirmed } = require('../../../utils/prompt');
const time = require('../../../utils/time');
const labels = require('../../../utils/labels');
const formUtil = require('../../../utils/form');
const regulators = require('../../../services/regulators');
const { loadedPage } = require('../../../behaviors/loaded-page');

/** The round as the page shows it: each canteen with its visit and how many findings it has. */
function view(round) {
  const open = round.status !== 'completed';
  return {
    id: round.id, title: round.title, open, statusLabel: labels.label(labels.ROUND_STATUS, round.status),
    plannedText: time.dateTime(round.planned_at), completedText: time.dateTime(round.completed_at),
    summary: round.summary || '',
    inspectors: round.inspectors.map((i) => (i.lead ? `${i.name}（组长）` : i.name)).join('、'),
    targets: round.targets.map((t) => {
      const findings = round.findings.filter((f) => f.canteen_id === t.canteen_id).length;
      return Object.assign({}, t, {
        resultLabel: t.result ? labels.label(labels.VISIT_RESULTS, t.result) : '未走访',
        tagType: t.result ? labels.tagType(labels.VISIT_RESULT_TAGS, t.result) : 'default',
        meta: `${t.visited_at ? `走访于 ${time.dateTime(t.visited_at)}` : '尚未走访'}${findings ? ` · 发现问题 ${findings} 项` : ''}`,
        url: open ? `/pages/regulators/visit/index?round=${round.id}&canteen=${t.canteen_id}` : '',
      });
    }),
    findings: round.findings.map((f) => Object.assign({}, f, {
      severityLabel: labels.label(labels.SEVERITIES, f.severity), timeText: time.dateTime(f.created_at),
    })),
  };
}

Component({
  behaviors: [loadedPage],
  data: { round: {}, summary: '', summaryError: '', completing: false },
  methods: {
    onLoad(query) {
      this.roundId = Number(query.id);
      return this.load();
    },

    fetch() {
      return guard.readyAsRegulator('inspect').then(() => regulators.round(this.roundId, { silent: true }));
    },

    show(round) {
      this.setData({ loading: false, round: view(round) });
    },

    onSummary(event) {
      this.setData({ summary: event.detail, summaryError: '' });
    },

    onPreview(event) {
      wx.previewImage({ urls: event.currentTarget.dataset.urls, current: event.currentTarget.dataset.url });
    },

    /** 完成检查: the conclusion closes the round (no finding or visit may be added after it). */
    onComplete() {
      const unvisited = this.data.round.targets.filter((t) => !t.visited_at).length;
      const warning = unvisited ? `还有 ${unvisited} 个食堂未走访，完成后不能再添加检查结果。确定完成？` : '完成后不能再添加检查结果。确定完成？';
      return confirmed('完成检查', warning).then((yes) => yes && this.complete());
    },

    complete() {
      this.setData({ completing: true, summaryError: '' });
      return regulators.complete(this.roundId, this.data.summary.trim()).then((round) => {
        wx.showToast({ title: '检查已完成', icon: 'success' });
        this.setData({ completing: false, round: view(round) });
      }, (err) => {
        this.setData({ completing: false, summaryError: formUtil.fieldErrors(err).summary || err.message });
      });
    },
  },
});
