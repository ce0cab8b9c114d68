/**
 * 消毒登记: tableware or an area, for a meal, by a method whose minimums (餐饮服务食品安全操作规范) are
 * checked here as on the server; photos required; retried sends reuse their Idempotency-Key.
 * Opened with `?amend=<record id>` it corrects that record (更正), starting from what is stored.
 */
const time = require('../../../utils/time');
const rules = require('../../../utils/rules');
const labels = require('../../../utils/labels');
const schools = require('../../../services/schools');
const recordForm = require('../../../behaviors/record-form');
const { photoField } = require('../../../behaviors/photo-field');

const MEALS = labels.options(labels.MEALS);
const TARGETS = labels.options(labels.DISINFECTION_TARGETS);
const METHODS = labels.options(labels.DISINFECTION_METHODS);
const FIELDS = ['temperature_c', 'minutes', 'concentration_mg_l'];
const UNITS = ['°C', '分钟', 'mg/L'];
const NAMES = ['温度', '时长', '有效氯浓度'];

/** A stored number as its input shows it ('' for none). */
function numberText(value) {
  return value === null || value === undefined ? '' : String(value);
}

function hint(method) {
  const minimums = rules.DISINFECTION_MINIMUMS[method];
  const parts = FIELDS.map((f, i) => (minimums[i] === null ? '' : `${NAMES[i]}≥${minimums[i]}${UNITS[i]}`)).filter(Boolean);
  return `要求：${parts.join('，')}`;
}

/** The meal being served now or next, by the hour (Shanghai): its index in MEALS. */
function currentMeal() {
  const hour = time.parts(new Date()).hour;
  let meal = 'dinner';
  if (hour < 10) meal = 'breakfast';
  else if (hour < 15) meal = 'lunch';
  return MEALS.findIndex((m) => m.code === meal);
}

Component({
  behaviors: [recordForm({
    form: 'disinfection', segment: 'disinfections', done: '消毒已登记',
    fields: ['method', 'temperature_c', 'minutes', 'concentration_mg_l', 'item_count', 'operator_name', 'target_name',
      'photo_upload_ids'],
  }), photoField({ path: 'form.photo_upload_ids', error: 'photo_upload_ids' })],
  data: {
    loading: true, loadError: '', canteenId: 0, meals: MEALS, mealIndex: 0, targets: TARGETS, targetIndex: 0,
    methods: METHODS, methodIndex: 0, areas: [], areaIndex: 0, need: {}, methodHint: '', performedTime: '', nowTime: '',
    initialPhotos: [],
    form: {
      target: 'tableware', method: 'steam', area_id: null, temperature_c: '', minutes: '', concentration_mg_l: '',
      item_count: '', operator_name: '', photo_upload_ids: [],
    },
  },
  methods: {
    onLoad(query) {
      this.amendOf(query);
      const now = time.hm(new Date());
      this.setData({ mealIndex: currentMeal(), performedTime: now, nowTime: now });
      this.showMethod();
      this.load();
    },

    load() {
      return this.loadRecordForm('登记消毒', schools.areas, (areas) => this.setData({ areas }));
    },

    /** The form as the record to correct holds it. */
    fillDraft(draft) {
      const record = draft.record;
      this.storedTime = record.performed_at;
      this.setData({
        mealIndex: MEALS.findIndex((m) => m.code === record.meal),
        targetIndex: TARGETS.findIndex((t) => t.code === record.target),
        areaIndex: Math.max(this.data.areas.findIndex((a) => a.id === record.area_id), 0),
        methodIndex: METHODS.findIndex((m) => m.code === record.method),
        performedTime: record.performed_at ? time.hm(record.performed_at) : this.data.performedTime,
        nowTime: this.latestTime(),
        form: {
          target: record.target, method: record.method, area_id: record.area_id,
          temperature_c: numberText(record.temperature_c), minutes: numberText(record.minutes),
          concentration_mg_l: numberText(record.concentration_mg_l), item_count: numberText(record.item_count),
          operator_name: record.operator_name, photo_upload_ids: record.photo_upload_ids,
        },
        initialPhotos: draft.files.photo_upload_ids,
      });
      this.showMethod();
    },

    showMethod() {
      const method = METHODS[this.data.methodIndex].code;
      const minimums = rules.DISINFECTION_MINIMUMS[method];
      const need = {};
      FIELDS.forEach((f, i) => {
        need[f] = minimums[i] !== null;
      });
      this.setData({ 'form.method': method, need, methodHint: hint(method), 'errors.method': '' });
    },

    onMeal(event) {
      this.setData({ mealIndex: Number(event.detail.value) });
    },
    onTarget(event) {
      const index = Number(event.detail.value);
      this.setData({ targetIndex: index, 'form.target': TARGETS[index].code, 'errors.method': '', 'errors.target_name': '' });
    },
    onArea(event) {
      const index = Number(event.detail.value);
      this.setData({ areaIndex: index, 'form.area_id': this.data.areas[index].id, 'errors.target_name': '' });
    },
    onMethod(event) {
      this.setData({ methodIndex: Number(event.detail.value) });
      this.showMethod();
    },
    onTime(event) {
      this.setData({ performedTime: event.detail.value });
    },
    validate() {
      const form = this.data.form;
      const area = this.data.areas.find((a) => a.id === form.area_id);
      const checked = Object.assign({}, form, {
        meal: MEALS[this.data.mealIndex].code, operator_name: form.operator_name.trim(), target_name: area ? area.name : '',
      });
      const errors = rules.checkDisinfection(checked);
      if (this.photosPending()) errors.photo_upload_ids = this.photosPending();
      else if (!form.photo_upload_ids.length) errors.photo_upload_ids = '请拍摄消毒现场照片';
      this.setData({ errors, formError: '' });
      if (Object.keys(errors).length) return null;
      const numberOrNull = (value, needed) => (needed && value !== '' ? Number(value) : null);
      return {
        service_date: this.recordDay(), meal: checked.meal, target: form.target,
        area_id: form.target === 'area' ? form.area_id : null, target_name: form.target === 'area' ? checked.target_name : null,
        method: form.method, temperature_c: numberOrNull(form.temperature_c, this.data.need.temperature_c),
        minutes: numberOrNull(form.minutes, this.data.need.minutes),
        concentration_mg_l: numberOrNull(form.concentration_mg_l, this.data.need.concentration_mg_l),
        item_count: form.target === 'tableware' ? Number(form.item_count) : null,
        performed_at: this.timeOnRecordDay(this.data.performedTime, this.storedTime), operator_name: checked.operator_name,
        photo_upload_ids: form.photo_upload_ids,
      };
    },
  },
});
