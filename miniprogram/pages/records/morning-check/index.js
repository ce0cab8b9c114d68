/**
 * 晨检: the manager checks every active person before the first meal (temperature, hands, symptoms); anyone
 * with a finding fails and is off food handling that day (the server decides, and refuses a fever marked 合格).
 * Opened with `?amend=<record id>` it corrects that day's check (更正): to add someone who came later, or fix a
 * temperature; a second check of the day refused as `morning_check_exists` offers 更正今日晨检.
 */
const records = require('../../../services/records');
const recordForm = require('../../../behaviors/record-form');

// The symptoms of backend/records/models.py Symptom the form offers.
const SYMPTOMS = [
  { code: 'fever', label: '发热' }, { code: 'diarrhoea', label: '腹泻' }, { code: 'vomiting', label: '呕吐' },
  { code: 'jaundice', label: '黄疸' }, { code: 'sore_throat', label: '咽痛' }, { code: 'cough', label: '咳嗽' },
  { code: 'skin_wound', label: '皮肤伤口或感染' }, { code: 'skin_disease', label: '手部皮肤病' },
];

/**
 * A person's row of the form: a new check's defaults, or what `checked` (the stored check of them) holds. A row
 * `included: false` (a correction's person who was not checked) is left out until the manager adds them.
 */
function row(member, checked, included = true) {
  const found = (checked && checked.symptoms) || [];
  return {
    staff_id: member.id, name: member.name, post: member.post || '', included,
    temperature: checked ? String(checked.temperature_c) : '36.5', hands_ok: checked ? checked.hands_ok : true,
    symptoms: SYMPTOMS.map((s) => Object.assign({ on: found.indexOf(s.code) >= 0 }, s)), error: '',
    remarks: checked ? checked.remarks : null,
  };
}

Component({
  behaviors: [recordForm({ form: 'morning-check', segment: 'morning-checks', done: '已登记晨检', fields: ['checker_name'] })],
  data: { loading: true, loadError: '', canteenId: 0, checker: '', persons: [] },
  methods: {
    onLoad(query) {
      this.amendOf(query);
      this.load();
    },

    load() {
      this.setData({ loading: true, loadError: '' });
      return this.recordingOrAmending('登记晨检').then((draft) => {
        this.draft = draft;
        if (draft) this.setData({ checker: draft.record.checker_name });
        return records.staff(this.data.canteenId);
      }).then((page) => {
        if (!page.items.length) throw new Error('请先在从业人员名单中登记人员');
        this.setData({ loading: false, persons: this.draft ? this.checkedRows(page.items) : page.items.map((m) => row(m)) });
      }).catch((err) => this.setData({ loading: false, loadError: err.message }));
    },

    /**
     * The rows of a correction: the persons the check holds, as checked, then the active staff it does not, left
     * out until added (someone who came later; one who was off that day stays out). A person checked who has left
     * the register since keeps their row.
     */
    checkedRows(staff) {
      const checked = this.draft.record.persons;
      const byId = {};
      staff.forEach((member) => { byId[member.id] = member; });
      const rows = checked.map((person) => row(byId[person.staff_id] || { id: person.staff_id, name: `人员 #${person.staff_id}` },
        person));
      return rows.concat(staff.filter((member) => !checked.some((p) => p.staff_id === member.id))
        .map((member) => row(member, null, false)));
    },

    /** 加入本次晨检: a person the corrected check left out, added to it. */
    onInclude(event) {
      this.setData({ [`persons[${event.currentTarget.dataset.index}].included`]: true });
    },

    /** 当天已有晨检记录: open that check to correct it instead. */
    onAmendExisting() {
      wx.redirectTo({ url: `/pages/records/morning-check/index?amend=${this.data.refusal.details.record_id}` });
    },

    onChecker(event) {
      this.setData({ checker: event.detail });
      this.clearError('checker_name');
    },
    onTemperature(event) {
      const index = event.currentTarget.dataset.index;
      this.setData({ [`persons[${index}].temperature`]: event.detail, [`persons[${index}].error`]: '' });
    },
    onHands(event) {
      const index = event.currentTarget.dataset.index;
      this.setData({ [`persons[${index}].hands_ok`]: !this.data.persons[index].hands_ok });
    },
    onSymptom(event) {
      const { index, symptom } = event.currentTarget.dataset;
      const on = this.data.persons[index].symptoms[symptom].on;
      this.setData({ [`persons[${index}].symptoms[${symptom}].on`]: !on });
    },

    validate() {
      const errors = {};
      if (!this.data.checker.trim()) errors.checker_name = '请填写晨检人';
      let wrong = false;
      const persons = this.data.persons.map((person, index) => {
        if (!person.included) return null;
        const temperature = Number(person.temperature);
        if (!person.temperature || Number.isNaN(temperature) || temperature < 34 || temperature > 43) {
          this.setData({ [`persons[${index}].error`]: '体温应在 34–43°C 之间' });
          wrong = true;
        }
        return Object.assign({
          staff_id: person.staff_id, temperature_c: temperature, hands_ok: person.hands_ok,
          symptoms: person.symptoms.filter((s) => s.on).map((s) => s.code),
        }, person.remarks ? { remarks: person.remarks } : {});
      }).filter(Boolean);
      if (Object.keys(errors).length) this.setData({ errors });
      if (wrong || Object.keys(errors).length) return null;
      const body = { check_date: this.recordDay(), checker_name: this.data.checker.trim(), persons };
      // Not on this form: a correction keeps the time of the check and its remarks.
      if (this.data.amending) Object.assign(body, { checked_at: this.draft.record.checked_at, remarks: this.draft.record.remarks });
      return body;
    },

    /** "persons.2.temperature_c" and the like go on the person's row. */
    showRowErrors(errors) {
      const rest = {};
      Object.keys(errors).forEach((field) => {
        const match = /^persons\.(\d+)\./.exec(field);
        if (match && this.data.persons[Number(match[1])]) {
          this.setData({ [`persons[${match[1]}].error`]: errors[field] });
        } else {
          rest[field] = errors[field];
        }
      });
      return rest;
    },
  },
});
