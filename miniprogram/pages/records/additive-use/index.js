/**
 * 食品添加剂使用: an amount of one batch weighed out of the cabinet for a dish of a meal, who issued it (专人领用)
 * and who used it. Only batches with stock left are offered; the server refuses more than a batch has left.
 * A use is corrected (更正) from its row: its own batch is offered with what the use took back in stock.
 */
const labels = require('../../../utils/labels');
const records = require('../../../services/records');
const { ledgerPage } = require('../../../behaviors/ledger-page');

const MEALS = labels.options(labels.MEALS);

/**
 * Every batch with stock left, labelled for the picker; `returned` (a correction's use) is counted back into its
 * batch, which is offered even when that use took the last of it.
 */
function batchesOf(stock, returned) {
  return stock.additives.reduce((all, additive) => all.concat(additive.batches.map((b) => {
    const back = returned && returned.purchase_id === b.purchase_id ? returned.quantity : 0;
    return Object.assign({}, b, { remaining: b.remaining + back });
  }).filter((b) => b.remaining > 0)
    .map((b) => Object.assign({ label: `${additive.additive_name} · ${b.batch}（剩 ${b.remaining} ${additive.unit_label}）`,
      unit_label: additive.unit_label }, b))), []);
}

function emptyForm() {
  return { dish_name: '', quantity: '', issuer_name: '', user_name: '', remarks: '' };
}

// A use changes the stock the batch picker shows: the page lists again after each one.
Component({
  behaviors: [ledgerPage({
    form: 'additive-use', segment: 'additive-uses', blank: emptyForm, reload: true,
    fields: ['purchase_id', 'dish_name', 'quantity', 'issuer_name', 'user_name', 'use_date'],
  })],
  data: { mealOptions: MEALS, mealIndex: MEALS.findIndex((m) => m.code === 'lunch'), batchOptions: [], batchIndex: -1 },
  methods: {
    /** The batches with stock left, loaded with the first page. */
    firstPage(canteenId) {
      return records.additiveStock(canteenId).then((stock) => {
        this.stock = stock;
        this.setData({ batchOptions: batchesOf(stock), batchIndex: -1 });
      });
    },

    /** The form as the use to correct holds it (the dish of the menu is kept while its name is). */
    fillDraft(draft) {
      const record = draft.record;
      const batchOptions = batchesOf(this.stock, record);
      this.storedDish = { id: record.dish_id, name: record.dish_name };
      this.setData({
        batchOptions, batchIndex: batchOptions.findIndex((b) => b.purchase_id === record.purchase_id),
        mealIndex: MEALS.findIndex((m) => m.code === record.meal),
        form: {
          dish_name: record.dish_name, quantity: String(record.quantity), issuer_name: record.issuer_name,
          user_name: record.user_name, remarks: record.remarks || '',
        },
      });
    },

    formCleared() {
      return { batchOptions: batchesOf(this.stock), batchIndex: -1 };
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
      const dishName = form.dish_name.trim();
      const body = {
        use_date: this.recordDay(), meal: MEALS[this.data.mealIndex].code, dish_name: dishName,
        purchase_id: batch.purchase_id, quantity, issuer_name: form.issuer_name.trim(), user_name: form.user_name.trim(),
        remarks: form.remarks.trim() || null,
      };
      // A correction keeps the use's link to the menu's dish while the dish's name is kept.
      if (this.data.amending) body.dish_id = this.storedDish.name === dishName ? this.storedDish.id : null;
      return body;
    },
  },
});
