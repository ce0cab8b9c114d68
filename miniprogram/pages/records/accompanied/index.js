/**
 * 陪餐: who ate with the students and how they rated it; school leaders' records are entered here too, and
 * corrected (更正) from their row.
 */
const labels = require('../../../utils/labels');
const { ledgerPage } = require('../../../behaviors/ledger-page');
const { photoField } = require('../../../behaviors/photo-field');

const MEALS = labels.options(labels.MEALS);
const ROLES = [{ code: 'school_leader', label: '学校负责人' }, { code: 'parent', label: '家长代表' }];

function emptyForm() {
  return { companion_name: '', rating: 5, remarks: '', photo_upload_ids: [] };
}

Component({
  behaviors: [
    ledgerPage({ form: 'accompanied', segment: 'accompanied-meals', fields: ['companion_name'], blank: emptyForm }),
    photoField({ path: 'form.photo_upload_ids', error: 'photo_upload_ids' }),
  ],
  data: {
    mealOptions: MEALS, mealIndex: MEALS.findIndex((m) => m.code === 'lunch'), roleOptions: ROLES, roleIndex: 0,
    initialPhotos: [],
  },
  methods: {
    /** The form as the record to correct holds it. */
    fillDraft(draft) {
      const record = draft.record;
      this.setData({
        mealIndex: MEALS.findIndex((m) => m.code === record.meal),
        roleIndex: ROLES.findIndex((r) => r.code === record.companion_role),
        form: {
          companion_name: record.companion_name, rating: record.rating, remarks: record.remarks || '',
          photo_upload_ids: record.photo_upload_ids,
        },
        initialPhotos: draft.files.photo_upload_ids,
      });
    },

    onMeal(event) {
      this.setData({ mealIndex: Number(event.detail.value) });
    },
    onRole(event) {
      this.setData({ roleIndex: Number(event.detail.value) });
    },
    onRate(event) {
      this.setData({ 'form.rating': event.detail });
    },
    validate() {
      const form = this.data.form;
      if (!form.companion_name.trim()) {
        this.setData({ errors: { companion_name: '请填写陪餐人姓名' } });
        return null;
      }
      if (this.photosPending()) {
        wx.showToast({ title: this.photosPending(), icon: 'none' });
        return null;
      }
      return {
        service_date: this.recordDay(), meal: MEALS[this.data.mealIndex].code, companion_name: form.companion_name.trim(),
        companion_role: ROLES[this.data.roleIndex].code, rating: form.rating, remarks: form.remarks.trim() || null,
        photo_upload_ids: form.photo_upload_ids,
      };
    },
  },
});
