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
 * page, whose form sits under its list, does so with behaviors/ledger-page.js), and `onField` (an input) and
 * `onSwitch` (a <switch>) keep a `form.<field>` value and clear its error.
 *
 * A form that records elsewhere passes `send(page, body)` (resolving with what was recorded) instead of
 * `form`/`segment`; without an Idempotency-Key behind it, a failed send is not promised to be safe to repeat.
 *
 * Correction (更正): a page opened with `?amend=<record id>` keeps it (`amendOf(query)`) and loads with
 * `recordingOrAmending(what)`, which starts the correction (`startAmend(id)`: the record's draft, services/records.draft)
 * and resolves with the draft for the page to fill its fields from (`fillDraft`). The form
 * then shows components/amend-reason, `validate()` builds the whole record as for a new one (`recordDay()` is the
 * record's day, not today), and the submit sends it with the reason to the correction endpoint, under its own
 * Idempotency-Key. Refusals of the corrected record name its fields as `record.<field>`: they are shown next to
 * the same fields as a new record's. `refusal` ({code, details}) holds the server's last refusal, for a form that
 * offers a way out of one (the menu form's 更正已有菜单).
 */
const formUtil = require('../utils/form');
const guard = require('../utils/guard');
const records = require('../services/records');
const schools = require('../services/schools');
const time = require('../utils/time');

function sendRecord(options) {
  return (page, body) => records.create(options.form, page.data.canteenId, options.segment, body);
}

/** The refusal of a correction with its `record.<field>` errors named as the form's fields. */
function unwrapRecord(all) {
  const errors = {};
  Object.keys(all).forEach((field) => {
    if (field === 'record') return;
    errors[field.indexOf('record.') === 0 ? field.slice('record.'.length) : field] = all[field];
  });
  return errors;
}

/** A correction's reason, as the server checks it: '' when it will do. */
function reasonError(reason) {
  const length = reason.trim().length;
  if (!length) return '请填写更正原因';
  return length < 2 ? '更正原因至少 2 个字' : '';
}

function recordForm(options) {
  const shown = options.fields;
  const send = options.send || sendRecord(options);
  const retryHint = (err) => (options.send ? err.message : formUtil.retryHint(err));
  return Behavior({
    data: {
      errors: {}, formError: '', submitting: false, retrying: false, amending: null, reason: '', refusal: null,
    },
    methods: {
      onSubmit() {
        if (this.data.submitting) return null;
        const amending = this.data.amending;
        const refusal = amending ? reasonError(this.data.reason) : '';
        const body = this.validate();
        if (refusal) this.setData({ 'errors.reason': refusal });
        if (!body || refusal) return null;
        this.setData({ submitting: true, formError: '', refusal: null });
        const sent = amending ? records.amend(`${options.form}:amend`, amending.recordId, {
          reason: this.data.reason.trim(), expected_version_id: amending.versionId, record: body,
        }) : send(this, body);
        return sent.then((record) => {
          this.setData({ submitting: false, retrying: false });
          this.onRecorded(record);
          return record;
        }, (err) => this.showServerErrors(err));
      },

      onRecorded() {
        wx.showToast({ title: this.data.amending ? '已更正' : options.done, icon: 'success' });
        wx.navigateBack({ delta: 1 });
      },

      /**
       * Open the form on a record to correct: its draft (what is stored now) is loaded and the form becomes a
       * correction; resolves with the draft for the page to fill its fields from.
       */
      startAmend(recordId) {
        return records.draft(recordId).then((draft) => {
          wx.setNavigationBarTitle({ title: `更正${draft.kind_label}` });
          this.setData({
            amending: { recordId: draft.record_id, versionId: draft.version_id, kindLabel: draft.kind_label,
              day: draft.record_date, dayText: draft.record_date === time.today() ? '今天' : time.dayLabel(draft.record_date) },
          });
          return draft;
        });
      },

      /** Keep the record a page opened with `?amend=<record id>` is to correct. */
      amendOf(query) {
        this.amendId = query && query.amend ? Number(query.amend) : null;
      },

      /**
       * `recordingCanteen(what)`, and on a page opened to correct a record (`amendOf`), the correction started: resolves
       * with the record's draft (null for a new record), whose canteen becomes `canteenId`. The draft is loaded once: a
       * retried load resolves with it again.
       */
      recordingOrAmending(what) {
        return this.recordingCanteen(what)
          .then(() => (!this.amendId || this.loadedDraft ? this.loadedDraft || null : this.startAmend(this.amendId)))
          .then((draft) => {
            this.loadedDraft = draft;
            if (draft) this.setData({ canteenId: draft.canteen_id });
            return draft;
          });
      },

      /**
       * A form's load: the canteen (and the record to correct, `recordingOrAmending`), then what the form picks from
       * (`lists(canteenId)`, shown by `show(answer)`), then the stored record into the form (`fillDraft`, once: a
       * later load keeps what the person changed). A failure is the page's load error.
       */
      loadRecordForm(what, lists, show) {
        this.setData({ loading: true, loadError: '' });
        let draft = null;
        return this.recordingOrAmending(what).then((found) => {
          draft = found;
          return lists(this.data.canteenId);
        }).then((answer) => {
          show(answer);
          this.setData({ loading: false });
          if (draft && !this.filledDraft) {
            this.filledDraft = true;
            this.fillDraft(draft);
          }
        }).catch(guard.loadFailed(this));
      },

      /** The day the record is about: the corrected record's, else today. */
      recordDay() {
        return this.data.amending ? this.data.amending.day : time.today();
      },

      /**
       * The instant an `hh:mm` picker means on the record's day; in a correction, the stored instant itself while
       * the picker still shows it (a picker has no seconds, and an unchanged time must stay unchanged).
       */
      timeOnRecordDay(hhmm, stored) {
        if (this.data.amending && stored && time.hm(stored) === hhmm) return stored;
        return time.toIso(this.recordDay(), hhmm);
      },

      /** The latest time a picker offers: now on today's record, the end of the day on an earlier one's. */
      latestTime() {
        return this.recordDay() === time.today() ? time.hm(new Date()) : '23:59';
      },

      onReason(event) {
        this.setData({ reason: event.detail });
        this.clearError('reason');
      },

      /** The server's answer next to the fields it names; returns {field: message} of those shown. */
      showServerErrors(err) {
        const all = this.data.amending ? unwrapRecord(formUtil.fieldErrors(err)) : formUtil.fieldErrors(err);
        const rest = this.showRowErrors(Object.assign({}, all));
        const errors = {};
        shown.concat(this.data.amending ? ['reason'] : []).forEach((field) => {
          if (rest[field]) errors[field] = rest[field];
        });
        // A field the page placed on its rows is gone from what is left: it was shown too.
        const placed = Object.keys(all).some((field) => field.indexOf('.') < 0 && !(field in rest));
        const named = Object.keys(errors).length > 0 || placed;
        this.setData({
          refusal: { code: err.code, details: err.details || {} },
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

      /** A <switch> bound with `data-field`: on or off into `form.<field>`, its error cleared. */
      onSwitch(event) {
        const field = event.currentTarget.dataset.field;
        this.setData({ [`form.${field}`]: event.detail.value });
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
