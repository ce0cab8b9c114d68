/** 陪餐: who ate with the students and how they rated it; school leaders' records are entered here too. */
const time = require('../../../utils/time');
const labels = require('../../../utils/labels');
const { ledgerPage } = require('../../../behaviors/ledger-page');

const MEALS = labels.options(labels.MEALS);
const ROLES = [{ code: 'school_leader', label: '学校负责人' }, { code: 'parent', label: '家长代表' }];

function emptyForm() {
  return { companion_name: '', rating: 5, remarks: '', photo_upload_ids: [] };
}

Component({
  behaviors: [ledgerPage({ form: 'accompanied', segment: 'accompanied-meals', fields: ['companion_name'], blank: emptyForm })],
  data: {
    mealOptions: MEALS, mealIndex: MEALS.findIndex((m) => m.code === 'lunch'), roleOptions: ROLES, roleIndex: 0,
    photosBusy: false,
  },
  methods: {
    onMeal(event) {
      this.setData({ mealIndex: Number(event.detail.value) });
    },
    onRole(event) {
      this.setData({ roleIndex: Number(event.detail.value) });
    },
    onRate(event) {
      this.setData({ 'form.rating': event.detail });
    },
    onPhotos(event) {
      this.setData({ 'form.photo_upload_ids': event.detail.ids, photosBusy: event.detail.uploading });
    },

    validate() {
      const form = this.data.form;
      if (!form.companion_name.trim()) {
        this.setData({ errors: { companion_name: '请填写陪餐人姓名' } });
        return null;
      }
      if (this.data.photosBusy) {
        wx.showToast({ title: '照片还在上传，请稍候', icon: 'none' });
        return null;
      }
      return {
        service_date: time.today(), meal: MEALS[this.data.mealIndex].code, companion_name: form.companion_name.trim(),
        companion_role: ROLES[this.data.roleIndex].code, rating: form.rating, remarks: form.remarks.trim() || null,
        photo_upload_ids: form.photo_upload_ids,
      };
    },
  },
});
