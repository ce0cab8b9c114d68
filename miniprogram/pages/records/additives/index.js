/**
 * 食品添加剂台账 (五专): the stock of each additive (purchases minus uses, per batch), the purchases, and the form
 * of a purchase with the people and place the "five dedicated" rule asks for: who bought it (专人采购), who keeps
 * it (专人保管) and the cabinet it is kept in (专柜存放). Uses are recorded on pages/records/additive-use. A
 * purchase is corrected (更正) from its row.
 */
const time = require('../../../utils/time');
const records = require('../../../services/records');
const { ledgerPage } = require('../../../behaviors/ledger-page');

// The units of backend/records/models.py AdditiveUnit.
const UNITS = [{ code: 'g', label: '克' }, { code: 'kg', label: '千克' }, { code: 'ml', label: '毫升' }, { code: 'l', label: '升' }];
const REQUIRED = {
  additive_name: '请填写添加剂名称', manufacturer: '请填写生产厂家', batch: '请填写批号', supplier_name: '请填写供货单位',
  buyer_name: '请填写采购人', keeper_name: '请填写保管人', cabinet: '请填写存放专柜',
};

/** The people and cabinets named on the records (五专): one of each is what an inspector expects. */
function dedicatedText(dedicated) {
  return `采购：${dedicated.buyers.join('、')} · 保管：${dedicated.keepers.join('、')} · `
    + `领用：${dedicated.issuers.join('、') || '—'} · 专柜：${dedicated.cabinets.join('、')}`;
}

function emptyForm() {
  return {
    additive_name: '', manufacturer: '', batch: '', quantity: '', supplier_name: '', buyer_name: '', keeper_name: '',
    cabinet: '', remarks: '',
  };
}

// A purchase changes the stock shown above the list: the page lists again after each one.
Component({
  behaviors: [ledgerPage({
    form: 'additive-purchase', segment: 'additive-purchases', blank: emptyForm, reload: true,
    fields: Object.keys(REQUIRED).concat(['quantity', 'purchase_date', 'expiry_date']),
  })],
  data: { unitOptions: UNITS, unitIndex: 0, purchaseDate: '', expiryDate: '', stock: [], dedicatedText: '' },
  methods: {
    /** The stock of each additive and the dedicated people and cabinets, loaded with the first page. */
    firstPage(canteenId) {
      return records.additiveStock(canteenId)
        .then((stock) => this.setData({ stock: stock.additives, dedicatedText: dedicatedText(stock.dedicated) }));
    },

    formOpened() {
      this.setData({ purchaseDate: this.data.purchaseDate || time.today() });
    },

    /** The form as the purchase to correct holds it. */
    fillDraft(draft) {
      const record = draft.record;
      const form = emptyForm();
      Object.keys(form).forEach((field) => { form[field] = record[field] === null ? '' : String(record[field]); });
      this.setData({
        form, unitIndex: UNITS.findIndex((u) => u.code === record.unit), purchaseDate: record.purchase_date,
        expiryDate: record.expiry_date || '',
      });
    },
    onUseForm() {
      wx.navigateTo({ url: '/pages/records/additive-use/index' });
    },
    onUnit(event) {
      this.setData({ unitIndex: Number(event.detail.value) });
    },
    onPurchaseDate(event) {
      this.setData({ purchaseDate: event.detail.value });
      this.clearError('purchase_date');
    },
    onExpiryDate(event) {
      this.setData({ expiryDate: event.detail.value });
      this.clearError('expiry_date');
    },

    validate() {
      const form = this.data.form;
      const errors = {};
      Object.keys(REQUIRED).forEach((field) => {
        if (!form[field].trim()) errors[field] = REQUIRED[field];
      });
      const quantity = Number(form.quantity);
      if (!form.quantity || !(quantity > 0)) errors.quantity = '请填写采购数量';
      if (Object.keys(errors).length) {
        this.setData({ errors });
        return null;
      }
      const body = { quantity, unit: UNITS[this.data.unitIndex].code, purchase_date: this.data.purchaseDate,
        expiry_date: this.data.expiryDate || null, remarks: form.remarks.trim() || null };
      Object.keys(REQUIRED).forEach((field) => { body[field] = form[field].trim(); });
      return body;
    },

    formCleared() {
      return { expiryDate: '' };
    },
  },
});
