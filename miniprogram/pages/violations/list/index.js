/**
 * 问题整改. Parents see the school's figures and the timeline of closed violations with parent-safe
 * evidence (the transparency page). The committee, canteen managers, staff and the principal see every
 * violation with its status, filtered, and open one to read, answer or review it. Everyone bound to the school
 * may report a problem they saw (反映问题) and follow their reports (我反映的问题).
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const violations = require('../../../services/violations');
const { listPage, nextBeforeId } = require('../../../behaviors/list-page');
const notices = require('../../../services/notices');

const FILTERS = [
  { code: '', label: '全部' }, { code: 'rectifying', label: '整改中' }, { code: 'submitted', label: '待验收' },
  { code: 'rejected', label: '已驳回' }, { code: 'closed', label: '已完成' },
];

Component({
  behaviors: [listPage({ pageSize: 20 })],
  data: {
    staffView: false, canReport: false, summary: {}, periodText: '', filters: FILTERS, status: '', timeline: [], schoolId: null,
  },
  methods: {
    /** The first page also brings the school's figures and, for parents, the timeline of closed violations. */
    fetchPage(beforeId, limit) {
      return guard.ready().then(({ schoolId, abilities }) => {
        this.setData({ schoolId, staffView: abilities.violationDetails, canReport: abilities.report });
        const page = beforeId ? null : violations.transparency(schoolId, { limit: 20 });
        const list = abilities.violationDetails
          ? violations.list(schoolId, { status: this.data.status || null, before_id: beforeId, limit }) : null;
        return Promise.all([page, list]);
      }).then(([page, list]) => {
        if (page) this.showTransparency(page);
        const items = list || [];
        return { items: violations.rows(items), next: nextBeforeId(items, limit) };
      });
    },

    showTransparency(page) {
      const period = page.summary.period || {};
      this.setData({
        summary: page.summary,
        periodText: period.from ? `${period.from.slice(5)} 至 ${period.to.slice(5)}` : '',
        timeline: page.timeline.map((item) => Object.assign({}, item, {
          foundText: time.dateTime(item.found_at),
          closedText: time.dateTime(item.closed_at),
          steps: item.events.map((e, i) => ({ key: `${item.id}-${i}`, title: e.label, time: time.dateTime(e.at), photos: [] })).reverse(),
        })),
      });
    },

    onFilter(event) {
      this.setData({ status: event.currentTarget.dataset.code });
      return this.load();
    },

    onPreview(event) {
      wx.previewImage({ urls: [event.currentTarget.dataset.url] });
    },

    /** 反映问题 and 我反映的问题: what anyone bound to the school saw, and where it stands. */
    onReport() {
      wx.navigateTo({ url: '/pages/violations/report/index' });
    },

    onMyReports() {
      wx.navigateTo({ url: '/pages/violations/reports/index' });
    },

    /** 通知我: ask WeChat for one-time subscriptions of the violation notices, report what was accepted. */
    onNotifyMe() {
      return notices.subscribe(null).then((accepted) => {
        wx.showToast({ title: accepted ? '已开启微信通知' : '未开启通知，可在消息中心查看', icon: 'none' });
      });
    },
  },
});
