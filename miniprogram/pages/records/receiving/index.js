/**
 * 进货查验（索证索票）: who delivered what — each item with batch, quantity, production date and shelf life,
 * arrival temperature for chilled and frozen goods — with the inspection report and the invoice. Expired
 * items and broken cold chains are refused here as on the server.
 * Opened with `?amend=<record id>` it corrects that delivery (更正): a line is edited in place (tap it), so it
 * keeps its identity and the dishes that use it; a line a menu uses cannot be removed (the server says so).
 */
const time = require('../../../utils/time');
const rules = require('../../../utils/rules');
const labels = require('../../../utils/labels');
const formUtil = require('../../../utils/form');
const records = require('../../../services/records');
const recordForm = require('../../../behaviors/record-form');
const { photoField } = require('../../../behaviors/photo-field');

const CATEGORIES = labels.options(labels.INGREDIENT_CATEGORIES);
const STORAGES = labels.options(labels.STORAGE_CONDITIONS);
let itemKeys = 0;

function blankDraft(category, storage) {
  return {
    ingredient: '', category: category || 'vegetable', batch: '', quantity: '', unit: 'kg', production_date: '',
    shelf_life_days: '', storage: storage || 'ambient', storage_temperature_c: '',
  };
}

/**
 * What the receiver must know before accepting: the supplier's licences that have expired (empty if none).
 * Only the newest certificate of each kind counts, as on the server: a renewed licence replaces the old one.
 */
function expiredNote(supplier) {
  const newest = {};
  (supplier.certificates || []).forEach((c) => {
    if (!newest[c.kind] || c.valid_until > newest[c.kind].valid_until) newest[c.kind] = c;
  });
  const expired = Object.values(newest).filter((c) => c.status === 'expired');
  if (!expired.length) return '';
  return `该供应商的${expired.map((c) => `${c.kind_label}（${c.valid_until} 到期）`).join('、')}已过期：请拒收，或填写仍然接收的理由`;
}

Component({
  behaviors: [recordForm({
    form: 'receiving', segment: 'receivings', done: '进货已登记',
    fields: ['supplier_id', 'receiver_name', 'items', 'inspection_report_upload_ids', 'invoice_upload_ids',
      'accepted_expired_reason'],
  }), photoField()],
  data: {
    loading: true, loadError: '', canteenId: 0, today: '', suppliers: [], supplierIndex: 0, supplierId: null,
    addingSupplier: false, supplier: {}, supplierErrors: {}, savingSupplier: false, items: [], draft: blankDraft(),
    draftErrors: {}, categories: CATEGORIES, categoryIndex: 0, storages: STORAGES, storageIndex: 0, receiverName: '',
    reportIds: [], invoiceIds: [], expiredNote: '', expiredReason: '', editingIndex: -1, initialReports: [],
    initialInvoices: [],
  },
  methods: {
    onLoad(query) {
      this.amendOf(query);
      this.setData({ today: time.today(), receivedAt: time.toIso(time.today(), time.hm(new Date())) });
      this.load();
    },

    load() {
      return this.loadRecordForm('登记进货', records.suppliers,
        (page) => this.setData({ suppliers: page.items, addingSupplier: !page.items.length }));
    },

    /** The form as the delivery to correct holds it: its supplier, lines (with their ids), receiver and files. */
    fillDraft(draft) {
      const record = draft.record;
      const supplierIndex = this.data.suppliers.findIndex((supplier) => supplier.id === record.supplier_id);
      const text = (value) => (value === null || value === undefined ? '' : String(value));
      const items = record.items.map((item) => {
        itemKeys += 1;
        const line = Object.assign({}, item, {
          quantity: text(item.quantity), production_date: item.production_date || '',
          shelf_life_days: text(item.shelf_life_days), storage_temperature_c: text(item.storage_temperature_c),
        });
        const expiry = rules.expiryOf(line) || item.expiry_date;
        return Object.assign({ key: `item${itemKeys}`, expiryText: expiry ? ` · 保质期至 ${expiry}` : '' }, line);
      });
      this.setData({
        supplierIndex: Math.max(supplierIndex, 0), supplierId: supplierIndex >= 0 ? record.supplier_id : null,
        expiredNote: supplierIndex >= 0 ? expiredNote(this.data.suppliers[supplierIndex]) : '',
        expiredReason: record.accepted_expired_reason || '', receivedAt: record.received_at,
        receiverName: record.receiver_name, items,
        reportIds: record.inspection_report_upload_ids, invoiceIds: record.invoice_upload_ids,
        initialReports: draft.files.inspection_report_upload_ids, initialInvoices: draft.files.invoice_upload_ids,
      });
      this.storedRemarks = record.remarks; // not on this form: a correction keeps it
    },

    /** A line tapped: into the editor, to be saved in its place (keeping its identity). */
    onEditItem(event) {
      const index = Number(event.currentTarget.dataset.index);
      const item = this.data.items[index];
      this.setData({
        editingIndex: index, draft: blankDraft(item.category, item.storage), draftErrors: {},
        categoryIndex: Math.max(CATEGORIES.findIndex((c) => c.code === item.category), 0),
        storageIndex: Math.max(STORAGES.findIndex((st) => st.code === item.storage), 0),
      });
      this.setData({ draft: Object.assign({}, this.data.draft, {
        ingredient: item.ingredient, batch: item.batch, quantity: item.quantity, unit: item.unit,
        production_date: item.production_date, shelf_life_days: item.shelf_life_days,
        storage_temperature_c: item.storage_temperature_c,
      }) });
    },

    onSupplier(event) {
      const index = Number(event.detail.value);
      const supplier = this.data.suppliers[index];
      this.setData({ supplierIndex: index, supplierId: supplier.id, 'errors.supplier_id': '', expiredNote: expiredNote(supplier),
        'errors.accepted_expired_reason': '' });
    },
    onExpiredReason(event) {
      this.setData({ expiredReason: event.detail, 'errors.accepted_expired_reason': '' });
    },
    onAddSupplier() {
      this.setData({ addingSupplier: true, supplier: { name: '', credit_code: '', contact_name: '', phone: '' } });
    },
    onSupplierField(event) {
      const field = event.currentTarget.dataset.field;
      this.setData({ [`supplier.${field}`]: event.detail, [`supplierErrors.${field}`]: '' });
    },
    onSaveSupplier() {
      const s = this.data.supplier;
      if (!(s.name || '').trim()) {
        this.setData({ supplierErrors: { name: '请填写供应商名称' } });
        return null;
      }
      const body = records.supplierBody(s);
      this.setData({ savingSupplier: true });
      return records.create('supplier', this.data.canteenId, 'suppliers', body).then((created) => {
        const suppliers = this.data.suppliers.concat(created);
        this.setData({
          savingSupplier: false, addingSupplier: false, suppliers, supplierIndex: suppliers.length - 1,
          supplierId: created.id, 'errors.supplier_id': '',
        });
        wx.showToast({ title: '供应商已保存', icon: 'success' });
      }, (err) => {
        const errors = formUtil.fieldErrors(err);
        this.setData({ savingSupplier: false, supplierErrors: errors });
        if (!Object.keys(errors).length) wx.showToast({ title: err.message, icon: 'none' });
      });
    },

    onDraft(event) {
      const field = event.currentTarget.dataset.field;
      this.setData({ [`draft.${field}`]: event.detail, [`draftErrors.${field}`]: '' });
    },
    onCategory(event) {
      const index = Number(event.detail.value);
      this.setData({ categoryIndex: index, 'draft.category': CATEGORIES[index].code });
    },
    onStorage(event) {
      const index = Number(event.detail.value);
      this.setData({ storageIndex: index, 'draft.storage': STORAGES[index].code });
    },
    onProduction(event) {
      this.setData({ 'draft.production_date': event.detail.value, 'draftErrors.production_date': '' });
    },

    onAddItem() {
      const draft = Object.assign({}, this.data.draft, {
        ingredient: this.data.draft.ingredient.trim(), batch: this.data.draft.batch.trim(), unit: this.data.draft.unit.trim(),
      });
      const errors = rules.checkItem(draft, this.data.today);
      this.setData({ draftErrors: errors });
      if (Object.keys(errors).length) return;
      const editing = this.data.editingIndex;
      const replaced = editing >= 0 ? this.data.items[editing] : null;
      itemKeys += 1;
      const expiry = rules.expiryOf(draft);
      const item = Object.assign({ key: `item${itemKeys}`, expiryText: expiry ? ` · 保质期至 ${expiry}` : '' },
        draft, replaced && replaced.item_id ? { item_id: replaced.item_id } : {});
      const items = replaced ? this.data.items.map((line, i) => (i === editing ? item : line)) : this.data.items.concat(item);
      this.setData({ items, editingIndex: -1, draft: blankDraft(draft.category, draft.storage), 'errors.items': '' });
    },
    onRemoveItem(event) {
      const items = this.data.items.slice();
      items.splice(event.currentTarget.dataset.index, 1);
      this.setData({ items, editingIndex: -1 });
    },
    onReceiver(event) {
      this.setData({ receiverName: event.detail, 'errors.receiver_name': '' });
    },

    validate() {
      const errors = {};
      if (!this.data.supplierId) errors.supplier_id = '请选择供应商';
      if (!this.data.items.length) errors.items = '请至少加入一条到货明细';
      if (!this.data.receiverName.trim()) errors.receiver_name = '请填写验收人';
      const reason = this.data.expiredReason.trim();
      if (this.data.expiredNote && reason.length < 4) errors.accepted_expired_reason = '证照已过期：请拒收，或填写仍然接收的理由（至少 4 个字）';
      const pending = this.photosPending();
      this.setData({ errors, formError: pending });
      if (Object.keys(errors).length || pending) return null;
      const numberOrNull = (v) => (v === '' || v === null ? null : Number(v));
      return Object.assign({
        supplier_id: this.data.supplierId, received_at: this.data.receivedAt, receiver_name: this.data.receiverName.trim(),
        items: this.data.items.map((i) => Object.assign(i.item_id ? { item_id: i.item_id } : {}, {
          ingredient: i.ingredient, category: i.category, batch: i.batch, quantity: Number(i.quantity), unit: i.unit,
          production_date: i.production_date || null, shelf_life_days: numberOrNull(i.shelf_life_days), storage: i.storage,
          storage_temperature_c: i.storage === 'ambient' ? null : numberOrNull(i.storage_temperature_c),
        }, i.expiry_date && !i.shelf_life_days ? { expiry_date: i.expiry_date } : {})),
        inspection_report_upload_ids: this.data.reportIds, invoice_upload_ids: this.data.invoiceIds,
      }, this.data.expiredNote ? { accepted_expired_reason: reason } : {},
      this.data.amending ? { remarks: this.storedRemarks } : {});
    },
  },
});
