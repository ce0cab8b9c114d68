/**
 * 反映问题: anyone bound to the school (a parent watching the live view, a member of staff) reports what they
 * saw in a canteen: what kind of problem, what happened, photos. The school is told at once and answers it
 * like any violation; the reporter follows it on 我反映的问题 (pages/violations/reports), where this page goes
 * once sent. A parent's text is checked by WeChat on the server; retried sends reuse their Idempotency-Key.
 *
 * Query (all optional): `canteen`, `camera` — from the live view, the canteen and camera being watched.
 */
const guard = require('../../../utils/guard');
const labels = require('../../../utils/labels');
const schools = require('../../../services/schools');
const violations = require('../../../services/violations');
const recordForm = require('../../../behaviors/record-form');
const { photoField } = require('../../../behaviors/photo-field');

const KINDS = labels.options(labels.REPORT_KINDS);
const MIN_DESCRIPTION = 5;

Component({
  behaviors: [recordForm({
    send: (page, body) => violations.report(page.data.schoolId, body),
    fields: ['canteen_id', 'kind', 'description', 'photos'],
  }), photoField({ path: 'photoKeys', error: 'photos' })],
  data: {
    loading: true, loadError: '', schoolId: 0, canteens: [], canteenIndex: 0, kinds: KINDS, kindIndex: 0,
    cameraId: null, form: { description: '' }, photoKeys: [],
  },
  methods: {
    onLoad(query) {
      this.query = query || {};
      return this.load();
    },

    load() {
      this.setData({ loading: true, loadError: '' });
      return guard.ready().then(({ schoolId, abilities }) => {
        if (!abilities.report) throw new Error('绑定学校并通过审核后才能反映问题');
        this.setData({ schoolId });
        return schools.canteens(schoolId);
      }).then((canteens) => {
        if (!canteens.length) throw new Error('学校尚未登记食堂');
        const wanted = canteens.findIndex((c) => c.id === Number(this.query.canteen));
        this.setData({
          loading: false, canteens, canteenIndex: Math.max(0, wanted),
          cameraId: wanted >= 0 && Number(this.query.camera) ? Number(this.query.camera) : null,
        });
      }, guard.loadFailed(this));
    },

    onCanteen(event) {
      // Another canteen: the camera watched belongs to the first one.
      this.setData({ canteenIndex: Number(event.detail.value), cameraId: null });
      this.clearError('canteen_id');
    },

    onKind(event) {
      this.setData({ kindIndex: Number(event.detail.value) });
      this.clearError('kind');
    },

    /** The report to send, or null after showing what is missing. */
    validate() {
      const errors = {};
      const description = this.data.form.description.trim();
      if (description.length < MIN_DESCRIPTION) errors.description = '请描述看到的问题（至少 5 个字）';
      if (this.photosPending()) errors.photos = this.photosPending();
      this.setData({ errors });
      if (Object.keys(errors).length) return null;
      return {
        canteen_id: this.data.canteens[this.data.canteenIndex].id, kind: KINDS[this.data.kindIndex].code,
        description, photos: this.data.photoKeys, camera_id: this.data.cameraId,
      };
    },

    onRecorded(report) {
      wx.showToast({ title: '已提交，学校会尽快处理', icon: 'none' });
      wx.redirectTo({ url: `/pages/violations/reports/index?id=${report.id}` });
    },
  },
});
