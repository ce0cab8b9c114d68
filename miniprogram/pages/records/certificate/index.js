/**
 * 供应商证照（索证）: a supplier's licence or certificate with its scan. A photo of a 营业执照 or a food licence
 * is read on the server (offline OCR) to prefill the number, issuer and validity; the manager checks every
 * field before saving, and the record names the reading so the suggestion and what was confirmed are both kept
 * (behaviors/certificate-reading.js). Opened with `?amend=<record id>` (from 食材溯源) it corrects a certificate.
 */
const labels = require('../../../utils/labels');
const records = require('../../../services/records');
const recordForm = require('../../../behaviors/record-form');
const certificateReading = require('../../../behaviors/certificate-reading');

const KINDS = labels.options(labels.CERTIFICATE_KINDS);
// The kinds the server can read from a photo (backend/records/certificate_fields.READABLE_KINDS).
const READABLE = ['business_licence', 'food_business_licence', 'food_production_licence'];

function blankForm() {
  return { supplier_id: null, kind: KINDS[0].code, number: '', issuer: '', valid_from: '', valid_until: '',
    scan_upload_ids: [], reading_id: null };
}

Component({
  behaviors: [recordForm({
    form: 'certificate', segment: 'certificates', done: '证照已登记',
    fields: ['supplier_id', 'kind', 'number', 'issuer', 'valid_from', 'valid_until', 'scan_upload_ids', 'reading_id'],
  }), certificateReading({ what: '登记证照', holders: records.suppliers, holderField: 'supplier_id' })],
  data: { canteenId: 0, kinds: KINDS, kindIndex: 0, form: blankForm(), readable: true },
  methods: {
    draftFilled(draft) {
      const index = KINDS.findIndex((k) => k.code === draft.record.kind);
      this.setData({ kindIndex: index, readable: READABLE.includes(draft.record.kind) });
    },

    readingKind() {
      return READABLE.includes(this.data.form.kind) ? this.data.form.kind : '';
    },
    onKind(event) {
      const index = Number(event.detail.value);
      const kind = KINDS[index].code;
      // A reading of another kind no longer describes this record.
      this.setData(Object.assign({ kindIndex: index, 'form.kind': kind, readable: READABLE.includes(kind) }, this.noReading()));
    },

    validate() {
      const form = this.data.form;
      const errors = this.certificateErrors('请填写证照编号', '请拍摄证照照片');
      if (!form.supplier_id) errors.supplier_id = '请选择供应商';
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
