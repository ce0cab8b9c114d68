/**
 * 留样登记: a sample of a dish on today's menu. The same rules as the server are checked before sending
 * (≥125 g, fridge 0–8 °C, sealed; kept 48 h from the sampling time), and a send that failed on the way
 * is retried with the same Idempotency-Key, so a flaky network never records the sample twice.
 * Opened with `?amend=<record id>` it corrects that sample (更正) on its own day, starting from what is stored.
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
    form: blankForm(), sampledTime: '', nowTime: '', keepUntilText: '', initialPhotos: [],
  },
  methods: {
    onLoad(query) {
      this.wantedMeal = query && query.meal;
      this.amendOf(query);
      const now = time.hm(new Date());
      this.setData({ sampledTime: now, nowTime: now });
      this.updateKeepUntil();
      this.load();
    },

    load() {
      this.setData({ loading: true, loadError: '' });
      let schoolId = null;
      return guard.ready().then((ready) => {
        if (!ready.abilities.uploadRecords) throw new Error('只有食堂负责人和学校管理人员可以登记留样');
        schoolId = ready.schoolId;
        return this.amendId ? this.startAmend(this.amendId) : null;
      }).then((draft) => {
        this.draft = draft;
        return records.day(schoolId, draft ? draft.record_date : null, { silent: true });
      }).then((day) => {
        const draft = this.draft;
        const canteen = (draft && day.canteens.find((c) => c.id === draft.canteen_id)) || day.canteens[0];
        // The sample being corrected is not "taken already": its dish is the one to pick.
        const corrected = (dish) => draft && dish.sample && dish.sample.id === draft.record_id;
        const meals = canteen.meals.filter((m) => m.menu).map((m) => ({
          meal: m.meal, label: m.meal_label, due: m.samples.status === 'pending',
          dishes: m.menu.dishes.map((d) => ({
            id: d.dish_id, label: d.sample && !corrected(d) ? `${d.name}（已留样）` : d.name, done: !!d.sample && !corrected(d),
          })),
        }));
        const wanted = meals.findIndex((m) => (draft ? m.dishes.some((d) => d.id === draft.record.dish_id)
          : m.meal === this.wantedMeal));
        // Default to the first meal whose samples are still due, else the first with a dish left.
        const due = meals.findIndex((m) => m.due && m.dishes.some((d) => !d.done));
        const open = meals.findIndex((m) => m.dishes.some((d) => !d.done));
        const mealIndex = [wanted, due, open, 0].find((i) => i >= 0);
        this.setData({ loading: false, canteenId: canteen.id, meals, mealIndex });
        this.showDishes();
        if (draft) this.fillDraft(draft);
      }, guard.loadFailed(this));
    },

    /** The form as the sample to correct holds it (no dish picked when its menu's correction dropped it). */
    fillDraft(draft) {
      const record = draft.record;
      const dishIndex = this.data.dishes.findIndex((d) => d.id === record.dish_id);
      this.storedTime = record.sampled_at;
      this.setData({
        dishIndex: Math.max(dishIndex, 0),
        form: {
          dish_id: dishIndex >= 0 ? record.dish_id : null, weight_g: String(record.weight_g),
          fridge_temperature_c: String(record.fridge_temperature_c), sealed: record.sealed,
          sampler_name: record.sampler_name, photo_upload_ids: record.photo_upload_ids,
        },
        sampledTime: time.hm(record.sampled_at),
        nowTime: this.latestTime(),
        initialPhotos: draft.files.photo_upload_ids,
      });
      this.updateKeepUntil();
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


    onTime(event) {
      this.setData({ sampledTime: event.detail.value });
      this.updateKeepUntil();
    },

    sampledAt() {
      return this.timeOnRecordDay(this.data.sampledTime, this.storedTime);
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
