/**
 * 问题清单: the violations behind a figure of 监管总览, for a region or one of its schools, with the rows of
 * the 问题整改 tab (pages/violations/list/rows.wxml) — a tab page cannot be opened with a filter.
 *
 * Query: `region_id` or `school_id`; `kind`; `state` (in_progress, rectified, overdue: the figure tapped, as
 * backend/violations/stats.py defines it); `from`/`to` (the figures' period, local days); `title`. The API
 * filters kind and overdue; the state and the period are applied to each page it answers (newest first, so
 * paging stops at the first row older than the period).
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const violations = require('../../../services/violations');
const regulators = require('../../../services/regulators');
const { listPage, nextBeforeId } = require('../../../behaviors/list-page');

const STATES = {
  in_progress: (v) => v.status !== 'closed',
  rectified: (v) => v.status === 'closed' && v.resolution === 'rectified',
  overdue: () => true,
};

Component({
  behaviors: [listPage({ pageSize: 20 })],
  data: { heading: '' },
  methods: {
    onLoad(query) {
      this.filter = query || {};
      const heading = decodeURIComponent(this.filter.title || '问题清单');
      this.setData({ heading });
      wx.setNavigationBarTitle({ title: heading });
      return this.load();
    },

    fetchPage(beforeId, limit) {
      const f = this.filter;
      const apiQuery = { kind: f.kind || null, overdue: f.state === 'overdue' ? true : null, before_id: beforeId, limit };
      return guard.ready({ regulator: true }).then(() => (f.school_id
        ? violations.list(f.school_id, apiQuery, { silent: true })
        : regulators.violations(f.region_id, apiQuery, { silent: true }))).then((page) => {
        const day = (v) => time.date(v.created_at);
        const keep = page.filter((v) => (!f.from || day(v) >= f.from) && (!f.to || day(v) <= f.to)
          && (STATES[f.state] || STATES.overdue)(v));
        const olderThanPeriod = f.from && page.length && day(page[page.length - 1]) < f.from;
        return { items: violations.rows(keep), next: olderThanPeriod ? null : nextBeforeId(page, limit) };
      });
    },
  },
});
