/**
 * The behaviour every record form shares (留样, 消毒, 菜单, 进货, 陪餐, and an inspector's finding): submit with
 * an Idempotency-Key that stays the same while the same content is retried (services/records.create), the busy
 * state, and the server's refusals shown next to the field they name; a refusal naming no field the form shows
 * goes to the message above the submit button.
 *
 * A page calls `recordForm({ form, segment, done, fields })` and implements `validate()` (the body to send,
 * or null after showing its own errors). `onRecorded(record)` runs after success (default: toast `done` and
 * go back); `showRowErrors(errors)` may place nested errors ("dishes.0.name") on the rows they are about and
 * returns the errors left to show. `recordingCanteen(what)` finds the canteen the form records for (a ledger
 * page, whose form sits under its list, does so with behaviors/ledger-page.js), and `onField` keeps a
 * `form.<field>` input's value and clears its error.
 *
 * A form that records elsewhere passes `send(page, body)` (resolving with what was recorded) instead of
 * `form`/`segment`; without an Idempotency-Key behind it, a failed send is not promised to be safe to repeat.
 */
const formUtil = require('../utils/form');
const guard = require('../utils/guard');
const records = require('../services/records');
const schools = require('../services/schools');

function sendRecord(options) {
  return (page, body) => records.create(options.form, page.data.canteenId, options.segment, body);
}

function recordForm(options) {
  const shown = options.fields;
  const send = options.send || sendRecord(options);
  const retryHint = (err) => (options.send ? err.message : formUtil.retryHint(err));
  return Behavior({
    data: { errors: {}, formError: '', submitting: false, retrying: false },
    methods: {
      onSubmit() {
        if (this.data.submitting) return null;
        const body = this.validate();
        if (!body) return null;
        this.setData({ submitting: true, formError: '' });
        return send(this, body).then((record) => {
          this.setData({ submitting: false, retrying: false });
          this.onRecorded(record);
          return record;
        }, (err) => this.showServerErrors(err));
      },

      onRecorded() {
        wx.showToast({ title: options.done, icon: 'success' });
        wx.navigateBack({ delta: 1 });
      },

      /** The server's answer next to the fields it names; returns {field: message} of those shown. */
      showServerErrors(err) {
        const all = formUtil.fieldErrors(err);
        const rest = this.showRowErrors(Object.assign({}, all));
        const errors = {};
        shown.forEach((field) => {
          if (rest[field]) errors[field] = rest[field];
        });
        // A field the page placed on its rows is gone from what is left: it was shown too.
        const placed = Object.keys(all).some((field) => field.indexOf('.') < 0 && !(field in rest));
        const named = Object.keys(errors).length > 0 || placed;
        this.setData({
          submitting: false, retrying: err.retryable, errors: Object.assign({}, this.data.errors, errors),
          formError: err.retryable ? retryHint(err) : (named ? '' : err.message),
        });
        return errors;
      },

      showRowErrors(errors) {
        return errors;
      },

      /**
       * The canteen the form records for (the school's first), once the caller may record: sets `canteenId`
       * and resolves with it. `what` completes "只有食堂负责人和学校管理人员可以…" for those who may not.
       */
      recordingCanteen(what) {
        return guard.ready().then(({ schoolId, abilities }) => {
          if (!abilities.uploadRecords) throw new Error(`只有食堂负责人和学校管理人员可以${what}`);
          return schools.canteens(schoolId);
        }).then((canteens) => {
          if (!canteens.length) throw new Error('学校尚未登记食堂');
          this.setData({ canteenId: canteens[0].id });
          return canteens[0].id;
        });
      },

      /** An input bound with `data-field`: its value into `form.<field>`, its error cleared. */
      onField(event) {
        const field = event.currentTarget.dataset.field;
        this.setData({ [`form.${field}`]: event.detail });
        this.clearError(field);
      },

      /** Clear one field's error once the user changes it. */
      clearError(field) {
        if (this.data.errors[field]) this.setData({ [`errors.${field}`]: '' });
      },
    },
  });
}

module.exports = recordForm;
