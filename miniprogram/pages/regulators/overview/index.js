/**
 * 监管总览: the figures of a regulated region, or of a school in it, over the last 30 days — found, rectified,
 * in progress, overdue, the rectification rate and median time, the camera online rate, by kind, the weekly
 * trend, the schools ranked by open problems, and the rows below it to drill into (child regions, then the
 * schools attached to the region), with the breadcrumbs back up. All of it is one `/stats` answer per screen
 * (`by_school`, `by_region`, `weekly`, `cameras`, `breadcrumbs`: docs/console.md). Every figure opens the
 * violations behind it (pages/violations/found), filtered by the server the same way.
 *
 * Query: `region_id` or `school_id` (default: the first region the user regulates).
 */
const guard = require('../../../utils/guard');
const regulators = require('../../../services/regulators');
const { loadedPage } = require('../../../behaviors/loaded-page');

const FOUND_PAGE = '/pages/violations/found/index';
const OVERVIEW_PAGE = '/pages/regulators/overview/index';

function percent(rate) {
  return typeof rate === 'number' ? `${Math.round(rate * 1000) / 10}%` : '—';
}

/** The `/stats` query of a level: a school or a region. */
function scopeQuery(type, id) {
  return type === 'school' ? { school_id: id } : { region_id: id };
}

/** Rows with their rate as the page shows it, and a key (a region and a school may share an id). */
function withRate(rows) {
  return (rows || []).map((row) => Object.assign({}, row, {
    rateText: percent(row.rectification_rate), key: `${row.type || 'school'}-${row.id || row.school_id}`,
  }));
}

/** Each week's bar, as a share of the busiest week (the trend is read by its shape). */
function weeks(weekly) {
  const most = Math.max(1, ...weekly.map((w) => w.found));
  return weekly.map((w) => Object.assign({}, w, {
    label: `${w.from.slice(5)} 至 ${w.to.slice(5)}`, width: Math.round((w.found / most) * 100),
  }));
}

Component({
  behaviors: [loadedPage],
  data: {
    scope: {}, crumbs: [], stats: {}, rateText: '', hoursText: '', cameras: {}, kinds: [], weeks: [], ranking: [],
    children: [],
  },
  methods: {
    onLoad(query) {
      const q = query || {};
      this.level = q.school_id ? { type: 'school', id: Number(q.school_id) }
        : (q.region_id ? { type: 'region', id: Number(q.region_id) } : null);
      return this.load();
    },

    fetch() {
      return guard.readyAsRegulator('overview').then(({ regions }) => {
        if (!regions.length) throw new Error('您还没有负责的监管地区');
        const level = this.level || { type: 'region', id: regions[0].region_id };
        return regulators.stats(scopeQuery(level.type, level.id), { silent: true })
          .then((stats) => ({ level, stats }));
      });
    },

    show({ level, stats }) {
      this.period = stats.period;
      const cameras = stats.cameras || { enabled: 0, online: 0, online_rate: null };
      const crumbs = (stats.breadcrumbs || []).map((c, i, all) => Object.assign({}, c, {
        key: `${c.type}-${c.id}`, last: i === all.length - 1,
      }));
      wx.setNavigationBarTitle({ title: `${stats.scope.name}监管总览` });
      this.setData({
        loading: false, scope: { type: level.type, id: level.id, name: stats.scope.name }, crumbs, stats,
        rateText: percent(stats.rectification_rate),
        hoursText: stats.median_hours_to_rectify === null ? '—' : `${stats.median_hours_to_rectify} 小时`,
        cameras: Object.assign({}, cameras, { rateText: percent(cameras.online_rate) }),
        kinds: stats.by_kind.filter((k) => k.found > 0),
        weeks: weeks(stats.weekly || []),
        ranking: withRate(stats.by_school),
        children: withRate(stats.by_region),
      });
    },

    /**
     * A figure, a kind, a week, a school or a row's figure tapped: the violations behind it, over the same
     * period (a week: its days), at the same level or at the row's.
     */
    onOpen(event) {
      const d = event.currentTarget.dataset;
      const at = d.type ? { type: d.type, id: d.id } : this.data.scope;
      const scope = at.type === 'school' ? `school_id=${at.id}` : `region_id=${at.id}`;
      const parts = [scope, `from=${d.from || this.period.from}`, `to=${d.to || this.period.to}`,
        `title=${encodeURIComponent(d.title)}`];
      if (d.state) parts.push(`state=${d.state}`);
      if (d.overdue) parts.push('overdue=true');
      if (d.kind) parts.push(`kind=${d.kind}`);
      wx.navigateTo({ url: `${FOUND_PAGE}?${parts.join('&')}` });
    },

    /** A row's name tapped: that region or school, one level down (back comes up again). */
    onDrill(event) {
      const { type, id } = event.currentTarget.dataset;
      wx.navigateTo({ url: `${OVERVIEW_PAGE}?${type === 'school' ? 'school_id' : 'region_id'}=${id}` });
    },

    /** A breadcrumb tapped: that level instead of this one. */
    onCrumb(event) {
      const { type, id, last } = event.currentTarget.dataset;
      if (last) return;
      wx.redirectTo({ url: `${OVERVIEW_PAGE}?${type === 'school' ? 'school_id' : 'region_id'}=${id}` });
    },
  },
});
