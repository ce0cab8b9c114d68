/**
 * 留样与消毒记录 by date: every dish's retained sample (weight, time, sampler, photo, kept until, disposal)
 * and each meal's disinfection. Canteen managers dispose of samples here once their 48 hours are over, and
 * correct a sample or a disinfection (更正: the form opens on the stored record); a corrected record says so, and
 * 已更正 opens what its corrections changed. A disposal that named the wrong person is corrected too (更正处置).
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const rules = require('../../../utils/rules');
const labels = require('../../../utils/labels');
const { askText } = require('../../../utils/prompt');
const records = require('../../../services/records');
const { loadedPage } = require('../../../behaviors/loaded-page');
const { recordHistory } = require('../../../behaviors/record-history');

function detail(row) {
  const parts = [row.target_label];
  if (row.temperature_c !== null) parts.push(`${row.temperature_c}°C`);
  if (row.minutes !== null) parts.push(`${row.minutes} 分钟`);
  if (row.concentration_mg_l !== null) parts.push(`有效氯 ${row.concentration_mg_l} mg/L`);
  if (row.item_count) parts.push(`${row.item_count} 件`);
  return parts.join(' · ');
}

function mealsOf(day) {
  const meals = [];
  (day.canteens || []).forEach((canteen) => canteen.meals.forEach((meal) => {
    if (!meal.menu && !meal.disinfection.records.length) return;
    meals.push(Object.assign({}, meal, {
      key: `${canteen.id}-${meal.meal}`,
      canteenId: canteen.id,
      sampleRows: ((meal.menu && meal.menu.dishes) || []).map((dish) => ({
        dish_id: dish.dish_id, dish: dish.name, sample: dish.sample,
        sampledText: dish.sample ? time.dateTime(dish.sample.sampled_at) : '',
        keepText: dish.sample ? time.dateTime(dish.sample.keep_until) : '',
        disposedText: dish.sample && dish.sample.disposal ? time.dateTime(dish.sample.disposal.disposed_at) : '',
        disposalCorrected: !!(dish.sample && dish.sample.disposal)
          && dish.sample.disposal.version_id !== dish.sample.disposal.id,
        photos: dish.sample ? records.photos(dish.sample.files) : [],
        corrected: !!dish.sample && dish.sample.version_id !== dish.sample.id,
      })),
      disinfectionRows: meal.disinfection.records.map((row) => Object.assign({}, row, {
        detail: detail(row), performedText: time.dateTime(row.performed_at), photos: records.photos(row.files),
        corrected: row.version_id !== row.id,
      })),
    }));
  }));
  return meals;
}

Component({
  behaviors: [loadedPage, recordHistory],
  data: {
    date: '', today: '', tab: 'samples', meals: [], canWrite: false, schoolId: null, types: labels.RECORD_STATUS_TAGS,
  },
  methods: {
    onLoad(query) {
      const today = time.today();
      this.setData({ today, date: (query && query.date) || today, tab: (query && query.tab) || 'samples' });
      this.load();
    },

    fetch() {
      return guard.ready().then(({ schoolId, abilities }) => {
        this.setData({ schoolId, canWrite: abilities.uploadRecords });
        return records.day(schoolId, this.data.date, { silent: true });
      });
    },

    show(day) {
      this.setData({ loading: false, meals: mealsOf(day) });
    },

    onDate(event) {
      this.setData({ date: event.detail.date });
      return this.load();
    },

    onTab(event) {
      this.setData({ tab: event.currentTarget.dataset.tab });
    },

    onPreview(event) {
      wx.previewImage({ urls: event.currentTarget.dataset.urls, current: event.currentTarget.dataset.url });
    },

    /** 更正: the record's form, opened on it (the log is loaded again when shown again). */
    onAmend(event) {
      const { id, form } = event.currentTarget.dataset;
      wx.navigateTo({ url: `/pages/records/${form}/index?amend=${id}` });
    },

    /**
     * 更正处置: who disposed of a sample, corrected from the disposal's draft with the reason (both asked in WeChat's
     * modal: a disposal holds no more than a name and the time).
     */
    onAmendDisposal(event) {
      const { id } = event.currentTarget.dataset;
      return records.draft(id).then((draft) => askText({
        title: '更正处置人', value: draft.record.disposer_name, required: '请填写处置人姓名',
      }).then((name) => {
        if (name === null) return null;
        return askText({ title: '更正原因', placeholder: '请说明更正原因', required: '请填写更正原因' }).then((reason) => {
          if (reason === null) return null;
          return records.amend(`disposal-amend:${id}`, id, {
            reason, expected_version_id: draft.version_id, record: Object.assign({}, draft.record, { disposer_name: name }),
          }).then(() => {
            wx.showToast({ title: '已更正处置', icon: 'success' });
            return this.load();
          });
        });
      })).catch((err) => wx.showToast({ title: err.message, icon: 'none' }));
    },

    onDispose(event) {
      const { id, sampled, canteen } = event.currentTarget.dataset;
      const refusal = rules.checkDisposal(sampled, new Date());
      if (refusal) {
        wx.showModal({ title: '暂不能处置', content: refusal, showCancel: false });
        return null;
      }
      return askText({ title: '留样处置', placeholder: '请填写处置人姓名', required: '请填写处置人姓名' }).then((name) => {
        if (name === null) return null;
        return records.create(`disposal:${id}`, canteen, 'sample-disposals', { sample_id: id, disposer_name: name })
          .then(() => {
            wx.showToast({ title: '已登记处置', icon: 'success' });
            return this.load();
          }, (err) => wx.showToast({ title: err.message, icon: 'none' }));
      });
    },
  },
});
