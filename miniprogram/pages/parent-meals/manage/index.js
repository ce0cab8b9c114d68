/**
 * 陪餐安排 (the principal and the school's food-safety staff): publish a meal parents may sign up for, approve
 * or decline sign-ups, and answer each parent's opinion after the meal.
 */
const guard = require('../../../utils/guard');
const labels = require('../../../utils/labels');
const time = require('../../../utils/time');
const { askText } = require('../../../utils/prompt');
const schools = require('../../../services/schools');
const parentMeals = require('../../../services/parent-meals');
const { loadedPage } = require('../../../behaviors/loaded-page');

const MEALS = labels.options(labels.MEALS);
const CAPACITIES = [1, 2, 3, 4, 5, 6, 8, 10].map((n) => ({ code: n, label: `${n} 人` }));

function signupRow(signup) {
  return Object.assign({}, signup, {
    who: signup.name || '微信用户',
    pending: signup.status === 'pending',
    scoresText: signup.opinion ? parentMeals.scoresText(signup.opinion) : '',
    awaitingAnswer: !!signup.opinion && !signup.opinion.answer,
  });
}

Component({
  behaviors: [loadedPage],
  data: {
    schoolId: null, canteens: [], canteenIndex: 0, date: '', mealOptions: MEALS,
    mealIndex: MEALS.findIndex((m) => m.code === 'lunch'), capacityOptions: CAPACITIES, capacityIndex: 2, note: '',
    publishError: '', published: '', publishing: false, signups: [], answers: {}, answerErrors: {},
  },
  methods: {
    fetch() {
      return guard.ready().then(({ schoolId, abilities }) => {
        if (!abilities.manageParentMeals) throw new Error('只有校长和学校食品安全管理员可以安排陪餐');
        this.setData({ schoolId, date: this.data.date || time.shiftDay(time.today(), 1) });
        return Promise.all([schools.canteens(schoolId), parentMeals.signups(schoolId, { silent: true })]);
      });
    },

    show([canteens, signups]) {
      this.setData({ loading: false, canteens, signups: signups.map(signupRow) });
    },

    onCanteen(event) {
      this.setData({ canteenIndex: Number(event.detail.value) });
    },
    onDate(event) {
      this.setData({ date: event.detail.value });
    },
    onMeal(event) {
      this.setData({ mealIndex: Number(event.detail.value) });
    },
    onCapacity(event) {
      this.setData({ capacityIndex: Number(event.detail.value) });
    },
    onNote(event) {
      this.setData({ note: event.detail });
    },

    onPublish() {
      const canteen = this.data.canteens[this.data.canteenIndex];
      if (!canteen || this.data.publishing) return null;
      this.setData({ publishing: true, publishError: '' });
      return parentMeals.publish(this.data.schoolId, {
        canteen_id: canteen.id, service_date: this.data.date, meal: MEALS[this.data.mealIndex].code,
        capacity: CAPACITIES[this.data.capacityIndex].code, note: this.data.note.trim() || null,
      }).then((slot) => {
        wx.showToast({ title: '已发布', icon: 'success' });
        this.setData({ publishing: false, note: '', published: `${slot.service_date} ${slot.meal_label} · ${slot.capacity} 个名额` });
      }, (err) => this.setData({ publishing: false, publishError: err.message }));
    },

    decide(id, decision, note) {
      return parentMeals.decide(id, decision, note).then((signup) => {
        wx.showToast({ title: decision === 'approve' ? '已通过' : '已婉拒', icon: 'success' });
        this.setData({ signups: this.data.signups.map((s) => (s.id === id ? signupRow(signup) : s)) });
      }, () => null);
    },

    onApprove(event) {
      return this.decide(event.currentTarget.dataset.id, 'approve', null);
    },

    onDecline(event) {
      const id = event.currentTarget.dataset.id;
      return askText({ title: '婉拒陪餐报名', placeholder: '请填写原因（选填）', confirmText: '婉拒', danger: true })
        .then((reason) => (reason === null ? null : this.decide(id, 'decline', reason || null)));
    },

    onAnswerText(event) {
      this.setData({ [`answers.${event.currentTarget.dataset.id}`]: event.detail });
    },

    onAnswer(event) {
      const id = event.currentTarget.dataset.id;
      const text = (this.data.answers[id] || '').trim();
      if (text.length < 2) {
        this.setData({ [`answerErrors.${id}`]: '请填写答复内容' });
        return null;
      }
      this.setData({ [`answerErrors.${id}`]: '' });
      return parentMeals.answer(id, text).then((signup) => {
        wx.showToast({ title: '已答复', icon: 'success' });
        this.setData({ signups: this.data.signups.map((s) => (s.id === id ? signupRow(signup) : s)) });
      }, (err) => this.setData({ [`answerErrors.${id}`]: err.message }));
    },
  },
});
