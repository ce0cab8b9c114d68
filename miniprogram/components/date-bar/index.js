/** Pick a day (Asia/Shanghai) for the logs: previous / next / calendar; never after `max`. */
const time = require('../../utils/time');

Component({
  properties: {
    date: { type: String, value: '' },
    max: { type: String, value: '' },
  },
  data: { label: '' },
  observers: {
    date(date) {
      this.setData({ label: date ? `${date}（${time.dayLabel(date).split(' ')[1]}）` : '' });
    },
  },
  methods: {
    go(date) {
      if (this.data.max && date > this.data.max) return;
      this.triggerEvent('change', { date });
    },
    onPrev() {
      this.go(time.shiftDay(this.data.date, -1));
    },
    onNext() {
      this.go(time.shiftDay(this.data.date, 1));
    },
    onPick(event) {
      this.go(event.detail.value);
    },
  },
});
