/**
 * 录入菜单: the dishes of one meal, each linked to the received items it is made of, so parents can
 * follow dish → ingredient → batch → supplier. Items come from the last week's deliveries.
 * Opened with `?amend=<record id>` it corrects that menu (更正); a second menu for a meal is refused by the server,
 * and the form then offers to correct the one that exists.
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const labels = require('../../../utils/labels');
const records = require('../../../services/records');
const recordForm = require('../../../behaviors/record-form');

const MEALS = labels.options(labels.MEALS);
const DISH_ERROR = /^dishes\.(\d+)/;
let dishKeys = 0;

function newDish(stored) {
  dishKeys += 1;
  const chosen = {};
  ((stored && stored.ingredient_item_ids) || []).forEach((id) => { chosen[id] = true; });
  return { key: `dish${dishKeys}`, name: stored ? stored.name : '', category: stored ? stored.category : null, chosen, error: '' };
}

Component({
  behaviors: [recordForm({ form: 'menu', segment: 'menus', done: '菜单已公布', fields: ['service_date', 'meal', 'dishes'] })],
  data: {
    loading: true, loadError: '', canteenId: 0, today: '', date: '', meals: MEALS,
    mealIndex: MEALS.findIndex((m) => m.code === 'lunch'), items: [], dishes: [newDish()],
  },
  methods: {
    onLoad(query) {
      this.amendOf(query);
      const today = time.today();
      this.setData({ today, date: today });
      this.load();
    },

    load() {
      this.setData({ loading: true, loadError: '' });
      let fill = null;
      return this.recordingOrAmending('录入菜单').then((draft) => {
        // The menu's own day, the first time: a later load (another day picked) keeps what the person changed.
        if (draft && !this.filledDraft) {
          fill = draft;
          this.storedRemarks = draft.record.remarks; // not on this form: a correction keeps it
          this.setData({ date: draft.record.service_date });
        }
        return records.receivings(this.data.canteenId, time.shiftDay(this.data.date, -7), this.data.date);
      }).then((page) => {
        const items = [];
        page.items.forEach((receiving) => receiving.items.forEach((item) => {
          const expired = item.expiry_date && item.expiry_date < this.data.date;
          if (!expired) {
            items.push({ item_id: item.item_id, label: `${item.ingredient} ${item.batch}（${time.date(receiving.received_at).slice(5)}到货）` });
          }
        }));
        // A batch the menu links that fell out of the week's deliveries stays on offer, so keeping it is possible.
        const linked = this.loadedDraft ? this.loadedDraft.record.dishes.reduce((ids, d) => ids.concat(d.ingredient_item_ids), []) : [];
        linked.filter((id, i) => linked.indexOf(id) === i && !items.some((item) => item.item_id === id))
          .forEach((id) => items.push({ item_id: id, label: `原菜单所用批次 #${id}` }));
        this.setData({ loading: false, items });
        if (fill) {
          this.filledDraft = true;
          this.setData({
            mealIndex: MEALS.findIndex((m) => m.code === fill.record.meal),
            dishes: fill.record.dishes.map((dish) => newDish(dish)),
          });
        }
      }).catch(guard.loadFailed(this));
    },

    /** 该餐次已有菜单: open that menu to correct it instead. */
    onAmendExisting() {
      wx.redirectTo({ url: `/pages/records/menu/index?amend=${this.data.refusal.details.record_id}` });
    },

    onDate(event) {
      this.setData({ date: event.detail.value });
      this.clearError('service_date');
      return this.load();
    },
    onMeal(event) {
      this.setData({ mealIndex: Number(event.detail.value) });
      this.clearError('meal');
    },
    onDishName(event) {
      const index = event.currentTarget.dataset.index;
      this.setData({ [`dishes[${index}].name`]: event.detail.value, [`dishes[${index}].error`]: '' });
    },
    onToggleItem(event) {
      const { dish, item } = event.currentTarget.dataset;
      const chosen = Object.assign({}, this.data.dishes[dish].chosen);
      if (chosen[item]) delete chosen[item];
      else chosen[item] = true;
      this.setData({ [`dishes[${dish}].chosen`]: chosen, [`dishes[${dish}].error`]: '' });
    },
    onAddDish() {
      this.setData({ dishes: this.data.dishes.concat(newDish()) });
    },
    onRemoveDish(event) {
      const dishes = this.data.dishes.slice();
      dishes.splice(event.currentTarget.dataset.index, 1);
      this.setData({ dishes });
    },

    validate() {
      let ok = true;
      const names = {};
      const dishes = this.data.dishes.map((dish) => {
        const name = dish.name.trim();
        let error = '';
        if (!name) error = '请填写菜品名称';
        else if (names[name]) error = '同一餐次的菜品名称不能重复';
        else if (!Object.keys(dish.chosen).length) error = '请至少选择一种原料';
        names[name] = true;
        if (error) ok = false;
        return Object.assign({}, dish, { error });
      });
      this.setData({ dishes, formError: '', 'errors.dishes': '' });
      if (!ok) return null;
      return Object.assign(this.data.amending ? { remarks: this.storedRemarks } : {}, {
        service_date: this.data.date, meal: MEALS[this.data.mealIndex].code,
        dishes: dishes.map((d) => ({ name: d.name.trim(), category: d.category, ingredient_item_ids: Object.keys(d.chosen).map(Number) })),
      });
    },

    /** The server's errors about one dish ("dishes.0.name") shown on that dish; returns the others. */
    showRowErrors(errors) {
      const rest = {};
      const rows = {};
      Object.keys(errors).forEach((path) => {
        const match = DISH_ERROR.exec(path);
        if (match && this.data.dishes[Number(match[1])]) rows[match[1]] = rows[match[1]] || errors[path];
        else if (!match) rest[path] = errors[path];
      });
      Object.keys(rows).forEach((index) => this.setData({ [`dishes[${index}].error`]: rows[index] }));
      if (Object.keys(rows).length) delete rest.dishes;
      return rest;
    },
  },
});
