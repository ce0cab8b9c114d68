/**
 * 供应商证照（索证）: a supplier's licence or certificate with its scan. A photo of a 营业执照 or a food licence
 * is read on the server (offline OCR) to prefill the number, issuer and validity; the manager checks every
 * field before saving, and the record names the reading so the suggestion and what was confirmed are both kept.
 */
const guard = require('../../../utils/guard');
const labels = require('../../../utils/labels');
const records = require('../../../services/records');
const recordForm = require('../../../behaviors/record-form');

const KINDS = labels.options(labels.CERTIFICATE_KINDS);
// The kinds the server can read from a photo (backend/records/certificate_fields.READABLE_KINDS).
const READABLE = ['business_licence', 'food_business_licence', 'food_production_licence'];
// A suggestion read with less confidence than this is marked for checking.
const SURE = 0.9;

function blankForm() {
  return { supplier_id: null, kind: KINDS[0].code, number: '', issuer: '', valid_from: '', valid_until: '',
    scan_upload_ids: [], reading_id: null };
}

Component({
  behaviors: [recordForm({
    form: 'certificate', segment: 'certificates', done: '证照已登记',
    fields: ['supplier_id', 'kind', 'number', 'issuer', 'valid_from', 'valid_until', 'scan_upload_ids', 'reading_id'],
  })],
  data: {
    loading: true, loadError: '', canteenId: 0, suppliers: [], supplierIndex: -1, kinds: KINDS, kindIndex: 0,
    form: blankForm(), photosBusy: false, readable: true, reading: false, readError: '', suggested: null,
    unsure: {}, readNote: '',
  },
  methods: {
    onLoad() {
      this.load();
    },

    load() {
      this.setData({ loading: true, loadError: '' });
      return this.recordingCanteen('登记证照').then((canteenId) => records.suppliers(canteenId))
        .then((page) => this.setData({ loading: false, suppliers: page.items }), guard.loadFailed(this));
    },

    onSupplier(event) {
      const index = Number(event.detail.value);
      this.setData({ supplierIndex: index, 'form.supplier_id': this.data.suppliers[index].id, 'errors.supplier_id': '' });
      this.noteHolder();
    },
    onKind(event) {
      const index = Number(event.detail.value);
      const kind = KINDS[index].code;
      // A reading of another kind no longer describes this record.
      this.setData({ kindIndex: index, 'form.kind': kind, readable: READABLE.includes(kind), 'form.reading_id': null,
        suggested: null, unsure: {}, readNote: '', readError: '' });
    },
    onField(event) {
      const field = event.currentTarget.dataset.field;
      this.setData({ [`form.${field}`]: event.detail, [`errors.${field}`]: '', [`unsure.${field}`]: false });
    },
    onDate(event) {
      const field = event.currentTarget.dataset.field;
      this.setData({ [`form.${field}`]: event.detail.value, [`errors.${field}`]: '', [`unsure.${field}`]: false });
    },
    onPhotos(event) {
      const ids = event.detail.ids;
      const changes = { 'form.scan_upload_ids': ids, photosBusy: event.detail.uploading, 'errors.scan_upload_ids': '' };
      // The reading belongs to its photo: removing the photo drops it.
      if (this.data.suggested && !ids.includes(this.data.suggested.upload_id)) {
        Object.assign(changes, { 'form.reading_id': null, suggested: null, unsure: {}, readNote: '' });
      }
      this.setData(changes);
    },

    /** Read the first photo and prefill what was found; the manager checks every field before saving. */
    onRead() {
      const photo = this.data.form.scan_upload_ids[0];
      if (!photo || this.data.reading) return null;
      this.setData({ reading: true, readError: '' });
      return records.readCertificate(photo, this.data.form.kind).then((answer) => {
        const found = answer.suggested;
        const form = Object.assign({}, this.data.form, { reading_id: answer.id });
        const unsure = {};
        ['number', 'issuer', 'valid_from', 'valid_until'].forEach((field) => {
          if (!found[field]) return;
          form[field] = found[field];
          const score = (found.scores || {})[field === 'valid_from' ? 'valid_until' : field];
          unsure[field] = score !== undefined && score < SURE;
        });
        this.setData({ reading: false, form, unsure, suggested: Object.assign({ upload_id: photo }, found), errors: {} });
        this.noteHolder();
      }, (err) => this.setData({ reading: false, readError: err.message }));
    },

    /** What the manager should know about the reading: a long-term licence, a holder other than the supplier. */
    noteHolder() {
      const found = this.data.suggested;
      if (!found) return;
      const supplier = this.data.suppliers[this.data.supplierIndex];
      const notes = ['已按照片预填，请逐项核对后提交'];
      if (found.long_term) notes.push('照片显示营业期限为“长期”，请填写有效期截止日期');
      if (found.holder && supplier && found.holder !== supplier.name) notes.push(`照片上的名称为“${found.holder}”，与所选供应商不一致`);
      this.setData({ readNote: notes.join('；') });
    },

    validate() {
      const form = this.data.form;
      const errors = {};
      if (!form.supplier_id) errors.supplier_id = '请选择供应商';
      if (!form.number.trim()) errors.number = '请填写证照编号';
      if (!form.valid_until) errors.valid_until = '请选择有效期截止日期';
      if (form.valid_from && form.valid_until && form.valid_from > form.valid_until) errors.valid_from = '起始日期不能晚于截止日期';
      if (this.data.photosBusy) errors.scan_upload_ids = '照片还在上传，请稍候';
      else if (!form.scan_upload_ids.length) errors.scan_upload_ids = '请拍摄证照照片';
      this.setData({ errors, formError: '' });
      if (Object.keys(errors).length) return null;
      return {
        supplier_id: form.supplier_id, kind: form.kind, number: form.number.trim(), issuer: form.issuer.trim() || null,
        valid_from: form.valid_from || null, valid_until: form.valid_until, scan_upload_ids: form.scan_upload_ids,
        reading_id: form.reading_id,
      };
    },
  },
});
