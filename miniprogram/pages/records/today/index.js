/**
 * 今日厨房: the school, the live entry, today's menu per meal with 留样 / 消毒 badges, and this month's
 * found / rectified / in-progress figures. Parents land here. A menu corrected since it was published says so, and
 * 已更正 › opens what the correction changed.
 */
const guard = require('../../../utils/guard');
const session = require('../../../utils/session');
const time = require('../../../utils/time');
const records = require('../../../services/records');
const schools = require('../../../services/schools');
const violations = require('../../../services/violations');
const live = require('../../../utils/live');
const parentMeals = require('../../../services/parent-meals');
const { recordHistory } = require('../../../behaviors/record-history');

Component({
  behaviors: [recordHistory],
  data: {
    loading: true, loadError: '', day: {}, canteens: [], dateText: '', liveText: '', stats: null, schoolId: null,
    abilities: {},
  },
  methods: {
    onLoad() {
      this.load();
    },

    onShow() {
      // Coming back from another school's binding or a form: show what changed.
      if (this.loaded && this.data.schoolId !== session.currentSchoolId()) this.load();
    },

    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh());
    },

    load() {
      this.setData({ loading: !this.loaded, loadError: '' });
      return guard.ready().then(({ schoolId, abilities }) => {
        this.setData({ schoolId, abilities });
        // The month's figures are a bonus: the page shows without them.
        violations.summary(schoolId).then((stats) => this.setData({ stats }), () => this.setData({ stats: null }));
        return Promise.all([records.day(schoolId, null, { silent: true }), schools.canteens(schoolId)]);
      }).then(([day, canteens]) => {
        this.loaded = true;
        this.setData({
          loading: false,
          day,
          dateText: time.dayLabel(day.date),
          liveText: live.todayText(canteens),
          canteens: day.canteens.map((canteen) => Object.assign({}, canteen, {
            summaries: records.mealSummaries(canteen),
            morningText: records.morningCheckText(canteen.morning_check),
            morningOk: !!canteen.morning_check && canteen.morning_check.status === 'done' && !canteen.morning_check.failed,
            opinions: (canteen.parent_meals || []).map((opinion) => Object.assign({}, opinion, {
              scoresText: parentMeals.scoresText(opinion),
            })),
            meals: canteen.meals.map((meal) => Object.assign({}, meal, {
              timeText: meal.window ? `${time.hm(meal.window.start)}–${time.hm(meal.window.end)}` : '',
            })),
          })),
        });
      }, guard.loadFailed(this));
    },

    onLive() {
      wx.navigateTo({ url: '/pages/live/watch/index' });
    },

    onDish(event) {
      wx.navigateTo({ url: `/pages/records/trace/index?dish_id=${event.currentTarget.dataset.id}&date=${this.data.day.date}` });
    },

    onViolations() {
      wx.switchTab({ url: '/pages/violations/list/index' });
    },
  },
});
