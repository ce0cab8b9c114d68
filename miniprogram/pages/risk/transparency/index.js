/**
 * 透明公示 for parents: how much of the time the school's kitchen cameras were online over 7 and 30 days, and
 * the yellow and red cards the school holds for serious problems left unfixed past their deadline. Parents see
 * the kind of problem and when the card was issued; never names, reasons or evidence (the server decides).
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const risk = require('../../../services/risk');
const { loadedPage } = require('../../../behaviors/loaded-page');

const CLASS_LABELS = { 1: '一类风险', 2: '二类风险', 3: '三类风险' };

/** "96.4%", or "暂无数据" when the server knows nothing of the cameras over that period. */
function percent(value) {
  return value === null || value === undefined ? '暂无数据' : `${value}%`;
}

Component({
  behaviors: [loadedPage],
  data: { uptime: null, cards: [] },
  methods: {
    fetch() {
      return guard.ready().then(({ schoolId }) => risk.publicRisk(schoolId));
    },
    show(answer) {
      this.setData({
        loading: false,
        uptime: Object.assign({}, answer.uptime, {
          week: percent(answer.uptime.uptime_7d), month: percent(answer.uptime.uptime_30d),
        }),
        cards: answer.cards.map((card) => Object.assign({}, card, {
          classLabel: CLASS_LABELS[card.risk_class] || '',
          issuedText: time.dateTime(card.issued_at),
          tagType: card.color === 'red' ? 'danger' : 'warning',
        })),
      });
    },
  },
});
