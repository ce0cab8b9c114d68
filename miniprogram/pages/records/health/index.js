/**
 * 健康证: a staff member's yearly health certificate with its photo. The photo is read on the server (offline
 * OCR) to prefill the number, issuer and validity; the manager checks every field before saving, and the record
 * names the reading so the suggestion and what was confirmed are both kept (behaviors/certificate-reading.js).
 * The staff register (从业人员与健康证) opens it with `?holder=<staff id>` to register a person's certificate, and with
 * `?amend=<record id>` to correct the one they hold.
 */
const records = require('../../../services/records');
const recordForm = require('../../../behaviors/record-form');
const certificateReading = require('../../../behaviors/certificate-reading');

Component({
  behaviors: [recordForm({
    form: 'health-certificate', segment: 'health-certificates', done: '健康证已登记',
    fields: ['staff_id', 'number', 'issuer', 'valid_from', 'valid_until', 'scan_upload_ids', 'reading_id'],
  }), certificateReading({ what: '登记健康证', holders: records.staff, holderField: 'staff_id' })],
  data: {
    canteenId: 0,
    form: { staff_id: null, number: '', issuer: '', valid_from: '', valid_until: '', scan_upload_ids: [], reading_id: null },
  },
  methods: {
    readingKind() {
      return 'health_certificate';
    },

    validate() {
      const form = this.data.form;
      const errors = this.certificateErrors('请填写健康证编号', '请拍摄健康证照片');
      if (!form.staff_id) errors.staff_id = '请选择人员';
      if (!form.issuer.trim()) errors.issuer = '请填写发证机构';
      this.setData({ errors, formError: '' });
      if (Object.keys(errors).length) return null;
      return {
        staff_id: form.staff_id, number: form.number.trim(), issuer: form.issuer.trim(), valid_from: form.valid_from || null,
        valid_until: form.valid_until, scan_upload_ids: form.scan_upload_ids, reading_id: form.reading_id,
      };
    },
  },
});
