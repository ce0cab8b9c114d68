/**
 * 晨检: the manager checks every active person before the first meal (temperature, hands, symptoms); anyone
 * with a finding fails and is off food handling that day (the server decides, and refuses a fever marked 合格).
 */
const time = require('../../../utils/time');
const records = require('../../../services/records');
const recordForm = require('../../../behaviors/record-form');

// The symptoms of backend/records/models.py Symptom the form offers.
const SYMPTOMS = [
  { code: 'fever', label: '发热' }, { code: 'diarrhoea', label: '腹泻' }, { code: 'vomiting', label: '呕吐' },
  { code: 'jaundice', label: '黄疸' }, { code: 'sore_throat', label: '咽痛' }, { code: 'cough', label: '咳嗽' },
  { code: 'skin_wound', label: '皮肤伤口或感染' }, { code: 'skin_disease', label: '手部皮肤病' },
];

function row(member) {
  return {
    staff_id: member.id, name: member.name, post: member.post, temperature: '36.5', hands_ok: true,
    symptoms: SYMPTOMS.map((s) => Object.assign({ on: false }, s)), error: '',
  };
}

Component({
  behaviors: [recordForm({ form: 'morning-check', segment: 'morning-checks', done: '已登记晨检', fields: ['checker_name'] })],
  data: { loading: true, loadError: '', canteenId: 0, checker: '', persons: [] },
  lifetimes: {
    attached() {
      this.load();
    },
  },
  methods: {
    load() {
      this.setData({ loading: true, loadError: '' });
      return this.recordingCanteen('登记晨检').then((canteenId) => records.staff(canteenId)).then((page) => {
        if (!page.items.length) throw new Error('请先在从业人员名单中登记人员');
        this.setData({ loading: false, persons: page.items.map(row) });
      }, (err) => this.setData({ loading: false, loadError: err.message }));
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
        const temperature = Number(person.temperature);
        if (!person.temperature || Number.isNaN(temperature) || temperature < 34 || temperature > 43) {
          this.setData({ [`persons[${index}].error`]: '体温应在 34–43°C 之间' });
          wrong = true;
        }
        return {
          staff_id: person.staff_id, temperature_c: temperature, hands_ok: person.hands_ok,
          symptoms: person.symptoms.filter((s) => s.on).map((s) => s.code),
        };
      });
      if (Object.keys(errors).length) this.setData({ errors });
      if (wrong || Object.keys(errors).length) return null;
      return { check_date: time.today(), checker_name: this.data.checker.trim(), persons };
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
