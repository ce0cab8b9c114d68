/**
 * 台账填报: today's completeness per meal and what is still missing, with the forms one tap away; and what is
 * sealed (封存) in each canteen, which no record may use until released (the principal releases it here).
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const records = require('../../../services/records');
const { loadedPage } = require('../../../behaviors/loaded-page');

function todos(canteen) {
  const out = [];
  canteen.meals.forEach((meal) => {
    if (meal.menu_status !== 'done' && meal.menu_status !== 'not_applicable') out.push(`${meal.meal_label}尚未录入菜单`);
    if (meal.samples.missing_dishes.length) {
      out.push(`${meal.meal_label}待留样：${meal.samples.missing_dishes.join('、')}（${time.hm(meal.samples.deadline)} 前）`);
    }
    if (meal.disinfection.status === 'pending' || meal.disinfection.status === 'missing') {
      out.push(`${meal.meal_label}餐具消毒${meal.disinfection.status === 'missing' ? '已超时未登记' : `待登记（${time.hm(meal.disinfection.deadline)} 前）`}`);
    }
  });
  return out;
}

Component({
  behaviors: [loadedPage],
  data: { canteens: [], dateText: '', abilities: {} },
  methods: {
    fetch() {
      return guard.ready().then(({ schoolId, abilities }) => {
        if (!abilities.uploadRecords) throw new Error('只有食堂负责人和学校管理人员可以填报台账');
        this.setData({ abilities });
        return records.day(schoolId, null, { silent: true });
      });
    },
    show(day) {
      this.setData({
        loading: false,
        dateText: time.dayLabel(day.date),
        canteens: day.canteens.map((c) => Object.assign({}, c, { summaries: records.mealSummaries(c), todos: todos(c) })),
      });
    },
  },
});
