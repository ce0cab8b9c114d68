/**
 * 检查走访: the joint inspection rounds of the regions the user regulates that they are an inspector of, open
 * ones first; a round opens its canteens to visit (pages/regulators/round).
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const labels = require('../../../utils/labels');
const regulators = require('../../../services/regulators');
const { loadedPage } = require('../../../behaviors/loaded-page');

/** A round as its row shows it: when, how many canteens visited, its state. */
function row(round) {
  const visited = round.targets.filter((t) => t.visited_at).length;
  return {
    id: round.id, title: round.title, status: round.status,
    statusLabel: labels.label(labels.ROUND_STATUS, round.status),
    meta: `${time.dateTime(round.planned_at)} · 已走访 ${visited}/${round.targets.length} · 发现问题 ${round.findings.length} 项`,
  };
}

Component({
  behaviors: [loadedPage],
  data: { rounds: [] },
  methods: {
    fetch() {
      return guard.readyAsRegulator('inspect').then(({ user, regions }) => Promise.all(
        regions.map((r) => regulators.rounds(r.region_id, { silent: true })),
      ).then((lists) => {
        const mine = [].concat(...lists).filter((round) => user.is_admin
          || round.inspectors.some((i) => i.user_id === user.id));
        // Open rounds first, then the newest.
        return mine.sort((a, b) => (a.status === 'completed') - (b.status === 'completed') || b.id - a.id).map(row);
      }));
    },

    show(rounds) {
      this.setData({ loading: false, rounds });
    },
  },
});
