/**
 * 提交整改: the canteen manager (or staff) writes the measures and adds after-photos; the principal is
 * notified to review. A violation not yet taken on is taken on first (start → submit).
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const violations = require('../../../services/violations');
const { photoField } = require('../../../behaviors/photo-field');

Component({
  behaviors: [photoField({ path: 'photoKeys', error: 'photos' })],
  data: {
    loading: true, loadError: '', v: {}, dueText: '', measures: '', photoKeys: [], errors: {}, formError: '', submitting: false,
  },
  methods: {
    onLoad(query) {
      this.violationId = Number(query.id);
      this.load();
    },

    load() {
      this.setData({ loading: true, loadError: '' });
      return guard.ready().then(({ abilities }) => {
        if (!abilities.answerViolation) throw new Error('只有食堂负责人和食品安全管理员可以提交整改');
        return violations.detail(this.violationId, { silent: true });
      }).then((v) => {
        this.setData({ loading: false, v, dueText: time.dateTime(v.due_at) });
      }, guard.loadFailed(this));
    },

    onMeasures(event) {
      this.setData({ measures: event.detail, 'errors.measures': '' });
    },

    check() {
      const errors = {};
      if (this.data.measures.trim().length < 5) errors.measures = '请写明整改措施（至少 5 个字）';
      const pending = this.photosPending();
      if (pending) errors.photos = pending;
      else if (!this.data.photoKeys.length) errors.photos = '请上传整改后的照片';
      this.setData({ errors });
      return !Object.keys(errors).length;
    },

    onSubmit() {
      if (!this.check()) return null;
      this.setData({ submitting: true, formError: '' });
      const started = this.data.v.status === 'rectifying' ? Promise.resolve() : violations.start(this.violationId);
      return started.then(() => violations.submitRectification(this.violationId, this.data.measures.trim(), this.data.photoKeys))
        .then(() => {
          this.setData({ submitting: false });
          wx.showToast({ title: '已提交，等待验收', icon: 'success' });
          wx.navigateBack({ delta: 1 });
        }, (err) => {
          const fields = err.fields || {};
          this.setData({
            submitting: false,
            errors: { measures: (fields.measures || [])[0] || '', photos: (fields.photos || [])[0] || '' },
            formError: fields.measures || fields.photos ? '' : err.message,
          });
          // A lost answer to a submit that did go through: the violation moved on; show it.
          if (err.code === 'invalid_transition') this.load();
        });
    },
  },
});
