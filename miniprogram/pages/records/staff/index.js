/**
 * 从业人员与健康证: the canteen's staff register (the people the morning check lists) with the state of each
 * person's health certificate (有效, 30 天内到期, 已过期, 未登记), in two lists: 在职 and 离职.
 *
 * Those who record (食堂负责人, 学校管理人员) register a person here, correct one (更正: a name or post mistyped, and
 * 离职 when someone leaves, since the register keeps them for the records they appear in), and go from a person to
 * their health certificate: 登记健康证 opens the certificate form with the person picked, 更正健康证 opens it on
 * the certificate held. A second person of a name already registered is refused; the form then offers to correct
 * that person instead.
 */
const { ledgerPage } = require('../../../behaviors/ledger-page');
const { certificateLinks } = require('../../../behaviors/certificate-links');
const { PHONE } = require('../../../utils/rules');

// The lists of the register: people at work, and those who left (StaffQuery.active).
const LISTS = [{ code: 'active', label: '在职', active: true }, { code: 'left', label: '离职', active: false }];
// The states of backend/records/presenters.py (certificate_status), as this list words them.
const CERTIFICATE_TEXT = {
  valid: (held) => `健康证有效期至 ${held.valid_until}`,
  expiring: (held) => `健康证将于 ${held.valid_until} 到期，请及时复检`,
  expired: (held) => `健康证已于 ${held.valid_until} 过期，不得从事接触直接入口食品的工作`,
  missing: () => '未登记健康证',
};
const CERTIFICATE_CLASS = { valid: 'ok', expiring: 'warn', expired: 'danger', missing: 'danger' };

function emptyForm() {
  return { name: '', post: '', phone: '', active: true };
}

/** A person as the list shows them: the certificate's state in words, and its colour. */
function view(person) {
  const status = person.certificate_status;
  return Object.assign({
    certificateText: CERTIFICATE_TEXT[status](person.health_certificate),
    certificateClass: CERTIFICATE_CLASS[status],
  }, person);
}

Component({
  behaviors: [ledgerPage({
    form: 'staff', segment: 'staff', blank: emptyForm, reload: true, fields: ['name', 'post', 'phone', 'active'],
  }), certificateLinks('health')],
  data: { lists: LISTS, list: 'active' },
  methods: {
    view,

    /** The list shown: 在职 or 离职. */
    listQuery() {
      return { active: LISTS.find((list) => list.code === this.data.list).active };
    },

    onList(event) {
      const list = event.currentTarget.dataset.code;
      if (list === this.data.list) return null;
      this.setData({ list, items: [] });
      return this.load();
    },

    fillDraft(draft) {
      const record = draft.record;
      this.setData({ form: { name: record.name, post: record.post, phone: record.phone || '', active: record.active } });
    },

    validate() {
      const form = this.data.form;
      const errors = {};
      if (!form.name.trim()) errors.name = '请填写姓名';
      if (!form.post.trim()) errors.post = '请填写岗位';
      const phone = form.phone.trim();
      if (phone && !PHONE.test(phone)) errors.phone = '电话号码格式不正确';
      this.setData({ errors, formError: '' });
      if (Object.keys(errors).length) return null;
      return { name: form.name.trim(), post: form.post.trim(), phone: phone || null, active: form.active };
    },
  },
});
