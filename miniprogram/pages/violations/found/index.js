/**
 * 问题清单: the violations behind a figure of 监管总览, for a region or one of its schools, with the rows of
 * the 问题整改 tab (pages/violations/list/rows.wxml) — a tab page cannot be opened with a filter.
 *
 * Query: `region_id` or `school_id`; `kind`; `state` (in_progress, rectified: the figure tapped, as
 * backend/violations/stats.py defines it); `overdue` (true); `from`/`to` (the figures' period, local days);
 * `title`. The server filters all of them (the list routes share the figures' definitions), pages by
 * `before_id` and says how many match (`X-Total-Count`), which the page shows.
 */
const guard = require('../../../utils/guard');
const violations = require('../../../services/violations');
const regulators = require('../../../services/regulators');
const { listPage, nextBeforeId } = require('../../../behaviors/list-page');

// The list routes count up to 10,000: a total above it means "more than" (docs/console.md).
const TOTAL_CAP = 10000;

/** The total as the heading shows it. */
function totalText(total) {
  if (total === null || total === undefined) return '';
  return total > TOTAL_CAP ? `共 ${TOTAL_CAP} 多项` : `共 ${total} 项`;
}

Component({
  behaviors: [listPage({ pageSize: 20 })],
  data: { heading: '', totalText: '' },
  methods: {
    onLoad(query) {
      const q = query || {};
      this.filter = {
        kind: q.kind || null, state: q.state || null, overdue: q.overdue === 'true' ? true : null,
        from: q.from || null, to: q.to || null,
      };
      this.at = q.school_id ? { school_id: q.school_id } : { region_id: q.region_id };
      const heading = decodeURIComponent(q.title || '问题清单');
      this.setData({ heading });
      wx.setNavigationBarTitle({ title: heading });
      return this.load();
    },

    fetchPage(beforeId, limit) {
      const apiQuery = Object.assign({}, this.filter, { before_id: beforeId, limit });
      return guard.ready({ regulator: true }).then(() => (this.at.school_id
        ? violations.listWithTotal(this.at.school_id, apiQuery, { silent: true })
        : regulators.violations(this.at.region_id, apiQuery, { silent: true }))).then((page) => {
        this.setData({ totalText: totalText(page.total) });
        return { items: violations.rows(page.items, { school: !this.at.school_id }), next: nextBeforeId(page.items, limit) };
      });
    },
  },
});
