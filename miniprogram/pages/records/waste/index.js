/**
 * 餐厨废弃物台账: food waste and waste oil handed over to the licensed collector (company, collector, licence or
 * agreement number), how many kilograms, when, and which person of the staff register handed it over. The
 * server refuses a disposal dated in the future; its refusal is shown next to the time. A record is corrected
 * (更正) from its row.
 */
const time = require('../../../utils/time');
const records = require('../../../services/records');
const { ledgerPage } = require('../../../behaviors/ledger-page');
const { photoField } = require('../../../behaviors/photo-field');

// The kinds of backend/records/models.py WasteKind.
const KINDS = [{ code: 'food_waste', label: '餐厨垃圾' }, { code: 'waste_oil', label: '废弃油脂' }, { code: 'other', label: '其他' }];
const MAX_KG = 10000;

/** A record as the list shows it: with the time it was handed over. */
function view(record) {
  return Object.assign({ when: time.dateTime(record.disposed_at) }, record);
}

function emptyForm() {
  return { quantity_kg: '', collector_company: '', collector_name: '', collector_licence: '', remarks: '', photo_upload_ids: [] };
}

Component({
  behaviors: [ledgerPage({
    form: 'waste', segment: 'waste-disposals', blank: emptyForm,
    fields: ['disposed_at', 'quantity_kg', 'collector_company', 'collector_name', 'collector_licence', 'staff_id'],
  }), photoField({ path: 'form.photo_upload_ids', error: 'photo_upload_ids' })],
  data: { kindOptions: KINDS, kindIndex: 0, staffOptions: [], staffIndex: -1, disposedTime: '', initialPhotos: [] },
  methods: {
    view,

    /** The time defaults to now; the staff register is loaded the first time the form opens. */
    formOpened() {
      this.setData({ disposedTime: time.hm(Date.now()) });
      if (this.data.staffOptions.length) return null;
      return records.staff(this.data.canteenId).then((page) => this.setData({ staffOptions: page.items }),
        (err) => this.setData({ formError: err.message }));
    },

    /**
     * The form as the record to correct holds it. A handover person who has left is not on the register the
     * picker lists: they are offered too, so the correction may keep them (the server allows that).
     */
    fillDraft(draft) {
      const record = draft.record;
      let staff = this.data.staffOptions;
      if (!staff.some((member) => member.id === record.staff_id)) {
        const row = this.data.items.find((item) => item.id === draft.record_id);
        staff = staff.concat({ id: record.staff_id, name: `${row ? row.handover_name : '原交接人'}（已离职）` });
      }
      this.storedTime = record.disposed_at;
      this.setData({
        staffOptions: staff, staffIndex: staff.findIndex((member) => member.id === record.staff_id),
        kindIndex: KINDS.findIndex((k) => k.code === record.waste_kind), disposedTime: time.hm(record.disposed_at),
        form: {
          quantity_kg: String(record.quantity_kg), collector_company: record.collector_company,
          collector_name: record.collector_name, collector_licence: record.collector_licence || '',
          remarks: record.remarks || '', photo_upload_ids: record.photo_upload_ids,
        },
        initialPhotos: draft.files.photo_upload_ids,
      });
    },
    onKind(event) {
      this.setData({ kindIndex: Number(event.detail.value) });
    },
    onStaff(event) {
      this.setData({ staffIndex: Number(event.detail.value) });
      this.clearError('staff_id');
    },
    onTime(event) {
      this.setData({ disposedTime: event.detail.value });
      this.clearError('disposed_at');
    },
    validate() {
      const form = this.data.form;
      const errors = {};
      const kg = Number(form.quantity_kg);
      if (!form.quantity_kg || !(kg > 0) || kg > MAX_KG) errors.quantity_kg = `数量应大于 0 且不超过 ${MAX_KG} 千克`;
      if (!form.collector_company.trim()) errors.collector_company = '请填写收运单位';
      if (!form.collector_name.trim()) errors.collector_name = '请填写收运人';
      if (this.data.staffIndex < 0) errors.staff_id = '请选择交接人';
      if (Object.keys(errors).length) {
        this.setData({ errors });
        return null;
      }
      if (this.photosPending()) {
        wx.showToast({ title: this.photosPending(), icon: 'none' });
        return null;
      }
      return {
        disposed_at: this.timeOnRecordDay(this.data.disposedTime, this.storedTime), waste_kind: KINDS[this.data.kindIndex].code,
        quantity_kg: kg, collector_company: form.collector_company.trim(), collector_name: form.collector_name.trim(),
        collector_licence: form.collector_licence.trim() || null, staff_id: this.data.staffOptions[this.data.staffIndex].id,
        remarks: form.remarks.trim() || null, photo_upload_ids: form.photo_upload_ids,
      };
    },

    formCleared() {
      return { staffIndex: -1 };
    },
  },
});
