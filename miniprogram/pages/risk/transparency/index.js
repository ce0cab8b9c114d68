/**
 * 透明公示 for parents: the school's food-safety index (食安指数) of the newest finished month with its 阳光食堂
 * rating, what each part deducted and the published criteria; how much of the time the kitchen cameras were online
 * over 7 and 30 days; and the yellow and red cards the school holds for serious problems left unfixed past their
 * deadline. Parents see the kind of problem and when the card was issued; never names, reasons or evidence (the
 * server decides).
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const labels = require('../../../utils/labels');
const risk = require('../../../services/risk');
const { loadedPage } = require('../../../behaviors/loaded-page');

/** "96.4%", or "暂无数据" when the server knows nothing of the cameras over that period. */
function percent(value) {
  return value === null || value === undefined ? '暂无数据' : `${value}%`;
}

/** The index as the page shows it: "2026年2月", each component's deduction of its cap, the rating criteria. */
function indexView(index) {
  if (!index) return null;
  const [year, month] = index.month.split('-');
  return Object.assign({}, index, {
    monthText: `${year}年${Number(month)}月`,
    ratingType: { A: 'success', B: 'warning' }[index.rating] || 'danger',
    parts: index.components.map((c) => Object.assign({}, c, {
      text: c.deduction ? `扣 ${c.deduction} 分（满分 ${c.cap}）` : `满分 ${c.cap}`,
    })),
    criteriaText: index.criteria.ratings.map((r) => `${r.label}：${r.text}`),
  });
}

Component({
  behaviors: [loadedPage],
  data: { uptime: null, cards: [], index: null },
  methods: {
    fetch() {
      return guard.ready().then(({ schoolId }) => risk.publicRisk(schoolId));
    },
    show(answer) {
      this.setData({
        loading: false,
        index: indexView(answer.index),
        uptime: Object.assign({}, answer.uptime, {
          week: percent(answer.uptime.uptime_7d), month: percent(answer.uptime.uptime_30d),
        }),
        cards: answer.cards.map((card) => Object.assign({}, card, {
          classLabel: labels.label(labels.RISK_CLASSES, card.risk_class),
          issuedText: time.dateTime(card.issued_at),
          tagType: card.color === 'red' ? 'danger' : 'warning',
        })),
      });
    },
  },
});
