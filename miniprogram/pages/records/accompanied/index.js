/** 陪餐: who ate with the students and how they rated it; school leaders' records are entered here too. */
const time = require('../../../utils/time');
const labels = require('../../../utils/labels');
const records = require('../../../services/records');
const recordForm = require('../../../behaviors/record-form');
const { listPage } = require('../../../behaviors/list-page');

const MEALS = labels.options(labels.MEALS);
const ROLES = [{ code: 'school_leader', label: '学校负责人' }, { code: 'parent', label: '家长代表' }];

function emptyForm() {
  return { companion_name: '', rating: 5, remarks: '', photo_upload_ids: [] };
}

Component({
  behaviors: [
    listPage({ pageSize: 20 }),
    recordForm({ form: 'accompanied', segment: 'accompanied-meals', fields: ['companion_name'] }),
  ],
  data: {
    canWrite: false, canteenId: 0, showForm: false,
    mealOptions: MEALS, mealIndex: MEALS.findIndex((m) => m.code === 'lunch'), roleOptions: ROLES, roleIndex: 0,
    form: emptyForm(), photosBusy: false,
  },
  methods: {
    fetchPage(cursor) {
      return this.listedCanteen(cursor).then((canteenId) => records.accompanied(canteenId, cursor))
        .then((page) => ({ items: page.items, next: page.next_cursor }));
    },

    onToggleForm() {
      this.setData({ showForm: !this.data.showForm });
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

    onRecorded(record) {
      wx.showToast({ title: '已登记', icon: 'success' });
      this.setData({ showForm: false, form: emptyForm(), items: [record].concat(this.data.items) });
    },
  },
});
