/**
 * The behaviour of the forms whose certificate photo can fill them (供应商证照, 健康证): the first photo is read
 * on the server (offline OCR), what was found fills `form` (number, issuer, validity) with the fields read with
 * little confidence marked for checking, and the record is sent with `form.reading_id` so the suggestion and
 * what the person confirmed are both kept. Removing the photo drops its reading.
 *
 * The record is about a holder picked from a list (a supplier, a staff member): the page loads with that list,
 * once the caller may record (`recordingCanteen` of behaviors/record-form.js), and the holder's name is compared
 * with the name on the photo.
 *
 * A page calls `certificateReading({ what, holders, holderField })`: `what` completes "只有…可以" for those who
 * may not record, `holders(canteenId)` resolves with the page of holders, `holderField` is the form's field of the
 * holder's id. Its template shows `holders` in a picker bound to `onHolder` with `holderIndex`. The page keeps
 * `form.scan_upload_ids` and `form.reading_id`, and implements `readingKind()` (the kind to read, or '' for a
 * kind the server cannot read).
 *
 * Opened with `?holder=<id>` (登记健康证 on the staff register), the form starts with that holder picked.
 *
 * Opened with `?amend=<record id>`, the form corrects that certificate (更正, behaviors/record-form.js): it starts
 * from the stored fields and photos, names no reading (a correction is typed by a person), and calls the page's
 * `draftFilled(draft)` for what only the page shows (the certificate's kind).
 */
const records = require('../services/records');

// A suggestion read with less confidence than this is marked for checking.
const SURE = 0.9;
const FILLED = ['number', 'issuer', 'valid_from', 'valid_until'];

function certificateReading(options) {
  const field = options.holderField;
  return Behavior({
    data: {
      loading: true, loadError: '', holders: [], holderIndex: -1, initialPhotos: [],
      photosBusy: false, reading: false, readError: '', suggested: null, unsure: {}, readNote: '',
    },
    methods: {
      onLoad(query) {
        this.amendOf(query);
        this.holderOf = query && query.holder ? Number(query.holder) : null;
        this.load();
      },

      /** The holders to pick from, once the caller may record for the canteen (and the record to correct). */
      load() {
        return this.loadRecordForm(options.what, options.holders, (page) => this.showHolders(page.items));
      },

      /** The holders, with the one the page was opened for (`?holder=<id>`) picked while none is. */
      showHolders(holders) {
        const changes = { holders };
        const index = this.holderOf ? holders.findIndex((holder) => holder.id === this.holderOf) : -1;
        if (index >= 0 && this.data.holderIndex < 0 && !this.amendId) {
          Object.assign(changes, { holderIndex: index, [`form.${field}`]: this.holderOf });
        }
        this.setData(changes);
      },

      /** The form as the certificate to correct holds it. */
      fillDraft(draft) {
        const record = draft.record;
        const form = Object.assign({}, this.data.form);
        Object.keys(form).forEach((key) => {
          if (key in record) form[key] = record[key] === null ? '' : record[key];
        });
        form.reading_id = null;
        this.setData({
          form, holderIndex: this.data.holders.findIndex((holder) => holder.id === record[field]),
          initialPhotos: draft.files.scan_upload_ids,
        });
        this.draftFilled(draft);
        if (this.data.holderIndex < 0 && record[field]) return this.addHolder(record[field]);
        return null;
      },

      /**
       * The holder of the certificate being corrected when the list to pick from leaves them out (someone who left
       * keeps their certificate, and it can still be corrected): read from their record and picked.
       */
      addHolder(id) {
        return records.detail(id).then((holder) => {
          const holders = this.data.holders.concat([{ id, name: holder.name }]);
          this.setData({ holders, holderIndex: holders.length - 1 });
        }, (err) => this.setData({ formError: err.message }));
      },

      draftFilled() {},

      /** Whom the record is about, to compare with the name on the photo ('' before one is picked). */
      holderName() {
        const holder = this.data.holders[this.data.holderIndex];
        return holder ? holder.name : '';
      },

      onHolder(event) {
        const index = Number(event.detail.value);
        this.setData({ holderIndex: index, [`form.${field}`]: this.data.holders[index].id, [`errors.${field}`]: '' });
        this.noteReading();
      },

      onPhotos(event) {
        const ids = event.detail.ids;
        const changes = { 'form.scan_upload_ids': ids, photosBusy: event.detail.uploading, 'errors.scan_upload_ids': '' };
        if (this.data.suggested && !ids.includes(this.data.suggested.upload_id)) Object.assign(changes, this.noReading());
        this.setData(changes);
      },

      /** Read the first photo and prefill what was found; the person checks every field before saving. */
      onRead() {
        const photo = this.data.form.scan_upload_ids[0];
        if (!photo || this.data.reading || !this.readingKind()) return null;
        this.setData({ reading: true, readError: '' });
        return records.readCertificate(photo, this.readingKind()).then((answer) => {
          const found = answer.suggested;
          const form = Object.assign({}, this.data.form, { reading_id: answer.id });
          const unsure = {};
          FILLED.forEach((field) => {
            if (!found[field]) return;
            form[field] = found[field];
            const score = (found.scores || {})[field === 'valid_from' ? 'valid_until' : field];
            unsure[field] = score !== undefined && score < SURE;
          });
          this.setData({ reading: false, form, unsure, suggested: Object.assign({ upload_id: photo }, found), errors: {} });
          this.noteReading();
        }, (err) => this.setData({ reading: false, readError: err.message }));
      },

      /** What the person should know about the reading: a long-term licence, a name other than the record's. */
      noteReading() {
        const found = this.data.suggested;
        if (!found) return;
        const holder = this.holderName();
        const notes = ['已按照片预填，请逐项核对后提交'];
        if (found.long_term) notes.push('照片显示营业期限为“长期”，请填写有效期截止日期');
        if (found.holder && holder && found.holder !== holder) notes.push(`照片上的名称为“${found.holder}”，与所选的“${holder}”不一致`);
        this.setData({ readNote: notes.join('；') });
      },

      /** The changes that forget the reading (another kind chosen, its photo removed). */
      noReading() {
        return { 'form.reading_id': null, suggested: null, unsure: {}, readNote: '', readError: '' };
      },

      /** A text field edited by hand (data-field): its error and its doubt go. */
      onField(event) {
        const field = event.currentTarget.dataset.field;
        this.setData({ [`form.${field}`]: event.detail, [`errors.${field}`]: '', [`unsure.${field}`]: false });
      },
      /** A date picked (data-field): its error and its doubt go. */
      onDate(event) {
        const field = event.currentTarget.dataset.field;
        this.setData({ [`form.${field}`]: event.detail.value, [`errors.${field}`]: '', [`unsure.${field}`]: false });
      },

      /** The errors of what every certificate needs: its number, its end of validity after its start, a photo
       * uploaded (`numberMissing` and `photoMissing` say it in the page's words). */
      certificateErrors(numberMissing, photoMissing) {
        const form = this.data.form;
        const errors = {};
        if (!form.number.trim()) errors.number = numberMissing;
        if (!form.valid_until) errors.valid_until = '请选择有效期截止日期';
        if (form.valid_from && form.valid_until && form.valid_from > form.valid_until) errors.valid_from = '起始日期不能晚于截止日期';
        if (this.data.photosBusy) errors.scan_upload_ids = '照片还在上传，请稍候';
        else if (!form.scan_upload_ids.length) errors.scan_upload_ids = photoMissing;
        return errors;
      },
    },
  });
}

module.exports = certificateReading;
