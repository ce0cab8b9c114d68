/**
 * 监管总览: a regulated region's figures over the last 30 days (found, rectified, in progress, overdue, the
 * rectification rate and median time), by kind, its schools ranked by open problems, and the regions below
 * it to drill into. Every figure opens the violations behind it (pages/violations/found).
 *
 * Query: `region_id` (default: the first region the user regulates). The ranking asks `/stats` of each school
 * of the region, as the console does.
 */
const guard = require('../../../utils/guard');
const regulators = require('../../../services/regulators');
const { loadedPage } = require('../../../behaviors/loaded-page');

const FOUND_PAGE = '/pages/violations/found/index';

function percent(rate) {
  return typeof rate === 'number' ? `${Math.round(rate * 1000) / 10}%` : '—';
}

/** The schools of a region (by the path of ids in the tree: the region's own and those below). */
function schoolsIn(schools, tree, regionId) {
  const ids = [regionId];
  for (let i = 0; i < ids.length; i += 1) ids.push(...regulators.childRegions(tree, ids[i]).map((r) => r.id));
  return schools.filter((s) => s.region && ids.indexOf(s.region.id) >= 0);
}

/** Most open problems first, then most found. */
function ranked(rows) {
  return rows.slice().sort((a, b) => (b.in_progress - a.in_progress) || (b.found - a.found));
}

Component({
  behaviors: [loadedPage],
  data: { region: {}, stats: {}, rateText: '', hoursText: '', kinds: [], ranking: [], children: [] },
  methods: {
    onLoad(query) {
      this.regionId = query && query.region_id ? Number(query.region_id) : null;
      return this.load();
    },

    fetch() {
      return guard.readyAsRegulator('overview').then(({ regions }) => {
        if (!regions.length) throw new Error('您还没有负责的监管地区');
        const regionId = this.regionId || regions[0].region_id;
        return Promise.all([regulators.stats({ region_id: regionId }, { silent: true }), regulators.regions(),
          regulators.schools()]).then(([stats, tree, schools]) => {
          const own = schoolsIn(schools, tree, regionId);
          return Promise.all(own.map((school) => regulators.stats({ school_id: school.id }, { silent: true })
            .then((s) => ({ id: school.id, name: school.name, found: s.found, in_progress: s.in_progress,
              overdue: s.overdue, rateText: percent(s.rectification_rate) }))))
            .then((rows) => ({ regionId, stats, ranking: ranked(rows), children: regulators.childRegions(tree, regionId) }));
        });
      });
    },

    show({ regionId, stats, ranking, children }) {
      this.period = stats.period;
      wx.setNavigationBarTitle({ title: `${stats.scope.name}监管总览` });
      this.setData({
        loading: false, region: { id: regionId, name: stats.scope.name }, stats, ranking, children,
        rateText: percent(stats.rectification_rate),
        hoursText: stats.median_hours_to_rectify === null ? '—' : `${stats.median_hours_to_rectify} 小时`,
        kinds: stats.by_kind.filter((k) => k.found > 0),
      });
    },

    /** A figure, a kind or a school tapped: the violations behind it, over the same period. */
    onOpen(event) {
      const { state, kind, school, title } = event.currentTarget.dataset;
      const scope = school ? `school_id=${school}` : `region_id=${this.data.region.id}`;
      const parts = [scope, `from=${this.period.from}`, `to=${this.period.to}`, `title=${encodeURIComponent(title)}`];
      if (state) parts.push(`state=${state}`);
      if (kind) parts.push(`kind=${kind}`);
      wx.navigateTo({ url: `${FOUND_PAGE}?${parts.join('&')}` });
    },

    onDrill(event) {
      wx.navigateTo({ url: `/pages/regulators/overview/index?region_id=${event.currentTarget.dataset.id}` });
    },
  },
});
