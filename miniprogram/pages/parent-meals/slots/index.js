/**
 * 家长陪餐 (parents and committee members): the school's slots with the places left, signing up, and the
 * caller's sign-ups: the school's decision, the rating after the meal (taste, hygiene, portion and price) and
 * the school's answer; and what parents said of the school's accompanied meals lately, with the answers.
 */
const guard = require('../../../utils/guard');
const parentMeals = require('../../../services/parent-meals');
const { loadedPage } = require('../../../behaviors/loaded-page');

function slotRow(slot) {
  return Object.assign({}, slot, {
    placesText: parentMeals.placesText(slot),
    canSignUp: slot.open && !slot.full && !slot.my_signup,
  });
}

function signupRow(signup) {
  return Object.assign({}, signup, {
    scoresText: signup.opinion ? parentMeals.scoresText(signup.opinion) : '',
  });
}

function emptyRating() {
  return { taste: 5, hygiene: 5, portion: 5, comment: '' };
}

Component({
  behaviors: [loadedPage],
  data: {
    schoolId: null, slots: [], mine: [], opinions: [], opinionsText: '', dimensions: parentMeals.DIMENSIONS, ratings: {}, ratingErrors: {},
    sending: false,
  },
  methods: {
    fetch() {
      return guard.ready().then(({ schoolId, abilities }) => {
        if (!abilities.joinParentMeals) throw new Error('只有本校家长和家委会成员可以报名陪餐');
        this.setData({ schoolId });
        return Promise.all([parentMeals.slots(schoolId, { silent: true }), parentMeals.mine(schoolId, { silent: true }),
          parentMeals.opinions(schoolId, { silent: true })]);
      });
    },

    show([slots, mine, opinions]) {
      const ratings = {};
      mine.filter((s) => s.can_rate).forEach((s) => {
        ratings[s.id] = this.data.ratings[s.id] || emptyRating();
      });
      this.setData({
        loading: false, slots: slots.map(slotRow), mine: mine.map(signupRow), ratings,
        opinionsText: parentMeals.summaryText(opinions),
        opinions: opinions.opinions.map((o) => Object.assign({}, o, { scoresText: parentMeals.scoresText(o) })),
      });
    },

    onSignUp(event) {
      const slotId = event.currentTarget.dataset.id;
      if (this.data.sending) return null;
      this.setData({ sending: true });
      return parentMeals.signUp(slotId).then((signup) => {
        wx.showToast({ title: '已报名，等待学校审核', icon: 'none' });
        const mine = [signupRow(signup)].concat(this.data.mine.filter((s) => s.id !== signup.id));
        const slots = this.data.slots.map((slot) => (slot.id !== slotId ? slot : slotRow(Object.assign({}, signup.slot, {
          my_signup: { id: signup.id, status: signup.status, status_label: signup.status_label },
        }))));
        this.setData({ sending: false, mine, slots });
      }, () => this.setData({ sending: false }));
    },

    onScore(event) {
      const { id, name } = event.currentTarget.dataset;
      this.setData({ [`ratings.${id}.${name}`]: event.detail });
    },

    onComment(event) {
      this.setData({ [`ratings.${event.currentTarget.dataset.id}.comment`]: event.detail });
    },

    onRate(event) {
      const id = event.currentTarget.dataset.id;
      const rating = this.data.ratings[id];
      if (this.data.sending) return null;
      this.setData({ sending: true, [`ratingErrors.${id}`]: '' });
      return parentMeals.rate(id, {
        taste: rating.taste, hygiene: rating.hygiene, portion: rating.portion, comment: rating.comment.trim() || null,
      }).then((signup) => {
        wx.showToast({ title: '感谢您的评价', icon: 'success' });
        this.setData({ sending: false, mine: this.data.mine.map((s) => (s.id === id ? signupRow(signup) : s)) });
      }, (err) => this.setData({ sending: false, [`ratingErrors.${id}`]: err.message }));
    },
  },
});
