/**
 * 留样登记: a sample of a dish on today's menu. The same rules as the server are checked before sending
 * (≥125 g, fridge 0–8 °C, sealed; kept 48 h from the sampling time), and a send that failed on the way
 * is retried with the same Idempotency-Key, so a flaky network never records the sample twice.
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const rules = require('../../../utils/rules');
const records = require('../../../services/records');
const recordForm = require('../../../behaviors/record-form');
const { photoField } = require('../../../behaviors/photo-field');

function blankForm() {
  return { dish_id: null, weight_g: '', fridge_temperature_c: '', sealed: true, sampler_name: '', photo_upload_ids: [] };
}

Component({
  behaviors: [recordForm({
    form: 'sample', segment: 'samples', done: '留样已登记',
    fields: ['dish_id', 'weight_g', 'fridge_temperature_c', 'sealed', 'sampler_name', 'photo_upload_ids'],
  }), photoField({ path: 'form.photo_upload_ids', error: 'photo_upload_ids' })],
  data: {
    loading: true, loadError: '', canteenId: 0, meals: [], mealIndex: 0, dishes: [], dishIndex: 0,
    form: blankForm(), sampledTime: '', nowTime: '', keepUntilText: '',
  },
  methods: {
    onLoad(query) {
      this.wantedMeal = query && query.meal;
      const now = time.hm(new Date());
      this.setData({ sampledTime: now, nowTime: now });
      this.updateKeepUntil();
      this.load();
    },

    load() {
      this.setData({ loading: true, loadError: '' });
      return guard.ready().then(({ schoolId, abilities }) => {
        if (!abilities.uploadRecords) throw new Error('只有食堂负责人和学校管理人员可以登记留样');
        return records.day(schoolId, null, { silent: true });
      }).then((day) => {
        const canteen = day.canteens[0];
        const meals = canteen.meals.filter((m) => m.menu).map((m) => ({
          meal: m.meal, label: m.meal_label, due: m.samples.status === 'pending',
          dishes: m.menu.dishes.map((d) => ({ id: d.dish_id, label: d.sample ? `${d.name}（已留样）` : d.name, done: !!d.sample })),
        }));
        const wanted = meals.findIndex((m) => m.meal === this.wantedMeal);
        // Default to the first meal whose samples are still due, else the first with a dish left.
        const due = meals.findIndex((m) => m.due && m.dishes.some((d) => !d.done));
        const open = meals.findIndex((m) => m.dishes.some((d) => !d.done));
        const mealIndex = [wanted, due, open, 0].find((i) => i >= 0);
        this.setData({ loading: false, canteenId: canteen.id, meals, mealIndex });
        this.showDishes();
      }, guard.loadFailed(this));
    },

    showDishes() {
      const meal = this.data.meals[this.data.mealIndex];
      const dishes = meal ? meal.dishes : [];
      const next = dishes.findIndex((d) => !d.done);
      this.setData({
        dishes, dishIndex: Math.max(next, 0), 'form.dish_id': next >= 0 ? dishes[next].id : null, 'errors.dish_id': '',
      });
    },

    onMeal(event) {
      this.setData({ mealIndex: Number(event.detail.value) });
      this.showDishes();
    },

    onDish(event) {
      const index = Number(event.detail.value);
      this.setData({ dishIndex: index, 'form.dish_id': this.data.dishes[index].id, 'errors.dish_id': '' });
    },


    onSealed(event) {
      this.setData({ 'form.sealed': event.detail.value, 'errors.sealed': '' });
    },

    onTime(event) {
      this.setData({ sampledTime: event.detail.value });
      this.updateKeepUntil();
    },

    sampledAt() {
      return time.toIso(time.today(), this.data.sampledTime);
    },

    updateKeepUntil() {
      this.setData({ keepUntilText: time.dateTime(rules.keepUntil(this.sampledAt())) });
    },

    /** Client checks, the same rules as the server; returns the body to send or null. */
    validate() {
      const form = this.data.form;
      const errors = rules.checkSample(Object.assign({}, form, { sampler_name: form.sampler_name.trim() }));
      if (this.photosPending()) errors.photo_upload_ids = this.photosPending();
      else if (!form.photo_upload_ids.length) errors.photo_upload_ids = '请拍摄留样照片';
      this.setData({ errors, formError: '' });
      if (Object.keys(errors).length) return null;
      return {
        dish_id: form.dish_id, weight_g: Number(form.weight_g), sampled_at: this.sampledAt(), sealed: form.sealed,
        fridge_temperature_c: Number(form.fridge_temperature_c), sampler_name: form.sampler_name.trim(),
        photo_upload_ids: form.photo_upload_ids,
      };
    },
  },
});
