/**
 * The behaviour of a ledger page (餐厨废弃物, 食品添加剂采购 and 使用, 陪餐, 从业人员, 供应商): one kind of the canteen's records,
 * newest first and paged (behaviors/list-page.js), with the form that adds one (behaviors/record-form.js) shown
 * under a toggle (`showForm`) to those who may record there (`canWrite`; reading is for every member).
 *
 * A page calls `ledgerPage({ form, segment, fields, blank, reload })`: `form`, `segment` and `fields` are those of
 * `recordForm`, and the records are listed from the same segment; `blank()` is the empty `form`; `reload` lists
 * again after recording (the page shows figures the record changes, such as the stock) instead of putting the
 * new record on top. The page implements `validate()` and may implement `view(record)` (a row as the list shows
 * it), `listQuery()` (the list's filters, e.g. 在职 or 离职 on the staff register), `firstPage(canteenId)` (what else to
 * load with the first page; resolves when shown), `formOpened()` and `formCleared()` (more to reset once a record is
 * in, as setData changes).
 *
 * 更正: each row offers a correction to those who may record (components/amend-row, bound to `onAmendRow`). The form opens
 * as a correction (record-form's `startAmend`) after `formOpened()` has resolved, and the page's `fillDraft(draft)`
 * fills it from the stored record; once corrected, the row shows the new version. A corrected row has `corrected`.
 */
const guard = require('../utils/guard');
const records = require('../services/records');
const schools = require('../services/schools');
const recordForm = require('./record-form');
const { listPage } = require('./list-page');

const PAGE_SIZE = 20;

function ledgerPage(options) {
  return Behavior({
    behaviors: [
      listPage({ pageSize: PAGE_SIZE }),
      recordForm({ form: options.form, segment: options.segment, fields: options.fields }),
    ],
    data: { canWrite: false, canteenId: 0, showForm: false, form: options.blank() },
    methods: {
      fetchPage(cursor) {
        return this.listedCanteen(cursor).then((canteenId) => (cursor ? null : this.firstPage(canteenId)))
          .then(() => records.list(this.data.canteenId, options.segment, Object.assign({ cursor }, this.listQuery())))
          .then((page) => ({ items: page.items.map((record) => this.row(record)), next: page.next_cursor }));
      },

      /** A record as the list shows it, and whether it was corrected. */
      row(record) {
        return Object.assign(this.view(record), { corrected: record.version_id !== record.id });
      },

      /**
       * The canteen (the school's first, looked up with the first page only) and whether the user may record
       * there (`canWrite`): resolves with `canteenId`.
       */
      listedCanteen(cursor) {
        return guard.ready().then(({ schoolId, abilities }) => {
          this.setData({ canWrite: abilities.uploadRecords });
          return cursor ? null : schools.canteens(schoolId);
        }).then((canteens) => {
          if (canteens && !canteens.length) throw new Error('学校尚未登记食堂');
          if (canteens) this.setData({ canteenId: canteens[0].id });
          return this.data.canteenId;
        });
      },

      firstPage() {
        return null;
      },

      listQuery() {
        return {};
      },

      view(record) {
        return record;
      },

      onToggleForm() {
        const opening = !this.data.showForm;
        // Closing leaves a correction: the form opens empty next time, its photo pickers too.
        this.setData(opening ? { showForm: true } : { showForm: false, amending: null, reason: '', form: options.blank(),
          errors: {}, formError: '' });
        if (opening) this.formOpened();
        else this.formClosed();
      },

      /** The form is gone: what its photo pickers said goes with it (behaviors/photo-field.js, when the page has it). */
      formClosed() {
        if (this.resetPhotos) this.resetPhotos();
      },

      /** 更正 on a row (components/amend-row): the form, opened on the stored record as a correction. */
      onAmendRow(event) {
        const id = event.detail.id;
        return this.startAmend(id).then((draft) => {
          // Closed first, so the form's photo picker starts again from the record's photos.
          this.setData({ showForm: false });
          this.formClosed();
          this.setData({ showForm: true, form: options.blank(), reason: '', errors: {}, formError: '' });
          return Promise.resolve(this.formOpened()).then(() => this.fillDraft(draft));
        }, (err) => wx.showToast({ title: err.message, icon: 'none' }));
      },

      /** A refusal naming the record that exists already (该食堂已登记…): open that record's correction instead. */
      onAmendExisting() {
        return this.onAmendRow({ detail: { id: this.data.refusal.details.record_id } });
      },

      formOpened() {
        return null;
      },

      formCleared() {
        return {};
      },

      /** A record is in: say so, close and empty the form, and show the record (or list again). */
      onRecorded(record) {
        const corrected = !!this.data.amending;
        wx.showToast({ title: corrected ? '已更正' : '已登记', icon: 'success' });
        const changes = Object.assign({ showForm: false, form: options.blank(), amending: null, reason: '' },
          this.formCleared());
        if (!options.reload) {
          changes.items = corrected ? this.data.items.map((item) => (item.id === record.id ? this.row(record) : item))
            : [this.row(record)].concat(this.data.items);
        }
        this.setData(changes);
        this.formClosed();
        if (options.reload) this.load();
        return record;
      },
    },
  });
}

module.exports = { ledgerPage };
