/**
 * 供应商与证照: the canteen's suppliers (索证索票) with each licence and its state (有效, 30 天内到期, 已过期), and a
 * supplier without any licence marked. Those who record register a supplier here (also possible on the spot in the
 * receiving form), correct one (更正: a name, credit code or contact mistyped), register a licence for it (登记证照:
 * the certificate form with the supplier picked) and correct a licence (更正证照).
 */
const labels = require('../../../utils/labels');
const records = require('../../../services/records');
const { ledgerPage } = require('../../../behaviors/ledger-page');
const { certificateLinks } = require('../../../behaviors/certificate-links');
const { CREDIT_CODE, PHONE } = require('../../../utils/rules');

function emptyForm() {
  return { name: '', credit_code: '', contact_name: '', phone: '', address: '', remarks: '' };
}

Component({
  behaviors: [ledgerPage({
    form: 'supplier', segment: 'suppliers', blank: emptyForm, reload: true,
    fields: ['name', 'credit_code', 'contact_name', 'phone', 'address', 'remarks'],
  }), certificateLinks('certificate')],
  data: { certTypes: labels.CERTIFICATE_STATUS_TAGS },
  methods: {
    fillDraft(draft) {
      const record = draft.record;
      const form = emptyForm();
      Object.keys(form).forEach((key) => { form[key] = record[key] || ''; });
      this.setData({ form });
    },

    validate() {
      const form = this.data.form;
      const errors = {};
      if (!form.name.trim()) errors.name = '请填写供应商名称';
      const code = form.credit_code.trim().toUpperCase();
      if (code && !CREDIT_CODE.test(code)) errors.credit_code = '统一社会信用代码应为 18 位数字或大写字母';
      if (form.phone.trim() && !PHONE.test(form.phone.trim())) errors.phone = '电话号码格式不正确';
      this.setData({ errors, formError: '' });
      return Object.keys(errors).length ? null : records.supplierBody(form);
    },
  },
});
