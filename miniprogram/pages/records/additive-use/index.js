/**
 * 食品添加剂使用: an amount of one batch weighed out of the cabinet for a dish of a meal, who issued it (专人领用)
 * and who used it. Only batches with stock left are offered; the server refuses more than a batch has left.
 */
const time = require('../../../utils/time');
const labels = require('../../../utils/labels');
const records = require('../../../services/records');
const recordForm = require('../../../behaviors/record-form');
const { listPage } = require('../../../behaviors/list-page');

const MEALS = labels.options(labels.MEALS);

/** Every batch with stock left, labelled for the picker. */
function batchesOf(stock) {
  return stock.additives.reduce((all, additive) => all.concat(additive.batches.filter((b) => b.remaining > 0)
    .map((b) => Object.assign({ label: `${additive.additive_name} · ${b.batch}（剩 ${b.remaining} ${additive.unit_label}）`,
      unit_label: additive.unit_label }, b))), []);
}

function emptyForm() {
  return { dish_name: '', quantity: '', issuer_name: '', user_name: '', remarks: '' };
}

Component({
  behaviors: [
    listPage({ pageSize: 20 }),
    recordForm({
      form: 'additive-use', segment: 'additive-uses',
      fields: ['purchase_id', 'dish_name', 'quantity', 'issuer_name', 'user_name', 'use_date'],
    }),
  ],
  data: {
    canWrite: false, canteenId: 0, showForm: false, mealOptions: MEALS,
    mealIndex: MEALS.findIndex((m) => m.code === 'lunch'), batchOptions: [], batchIndex: -1, form: emptyForm(),
  },
  methods: {
    fetchPage(cursor) {
      return this.listedCanteen(cursor).then((canteenId) => (cursor ? null : records.additiveStock(canteenId)))
        .then((stock) => {
          if (stock) this.setData({ batchOptions: batchesOf(stock), batchIndex: -1 });
          return records.list(this.data.canteenId, 'additive-uses', { cursor });
        })
        .then((page) => ({ items: page.items, next: page.next_cursor }));
    },

    onToggleForm() {
      this.setData({ showForm: !this.data.showForm });
    },
    onMeal(event) {
      this.setData({ mealIndex: Number(event.detail.value) });
    },
    onBatch(event) {
      this.setData({ batchIndex: Number(event.detail.value) });
      this.clearError('purchase_id');
      this.clearError('quantity');
    },

    validate() {
      const form = this.data.form;
      const batch = this.data.batchOptions[this.data.batchIndex];
      const errors = {};
      const quantity = Number(form.quantity);
      if (!batch) errors.purchase_id = '请选择所用批次';
      if (!form.dish_name.trim()) errors.dish_name = '请填写菜品名称';
      if (!form.quantity || !(quantity > 0)) errors.quantity = '请填写用量';
      else if (batch && quantity > batch.remaining) errors.quantity = `库存不足：该批次剩余 ${batch.remaining} ${batch.unit_label}`;
      if (!form.issuer_name.trim()) errors.issuer_name = '请填写发放人';
      if (!form.user_name.trim()) errors.user_name = '请填写使用人';
      if (Object.keys(errors).length) {
        this.setData({ errors });
        return null;
      }
      return {
        use_date: time.today(), meal: MEALS[this.data.mealIndex].code, dish_name: form.dish_name.trim(),
        purchase_id: batch.purchase_id, quantity, issuer_name: form.issuer_name.trim(), user_name: form.user_name.trim(),
        remarks: form.remarks.trim() || null,
      };
    },

    onRecorded(record) {
      wx.showToast({ title: '已登记', icon: 'success' });
      this.setData({ showForm: false, form: emptyForm() });
      this.load();
      return record;
    },
  },
});
