/**
 * 问题详情: what was found, where and when, the evidence this reader may see (parent-safe for the
 * committee), the timeline with rectification measures and photos, and the reader's next step:
 * managers and staff take it on and answer it, the principal accepts or rejects the answer.
 * Reading it is a natural moment to offer "通知我" (WeChat one-time subscriptions).
 */
const guard = require('../../../utils/guard');
const time = require('../../../utils/time');
const labels = require('../../../utils/labels');
const { askText } = require('../../../utils/prompt');
const violations = require('../../../services/violations');
const notices = require('../../../services/notices');
const { loadedPage } = require('../../../behaviors/loaded-page');


Component({
  behaviors: [loadedPage],
  data: {
    v: {}, steps: [], tagType: 'default', sourceLabel: '', foundText: '', dueText: '',
    canStart: false, canAnswer: false, canReview: false, fullEvidence: false, busy: false,
  },
  methods: {
    onLoad(query) {
      this.violationId = Number(query.id);
      return this.load();
    },

    // Shown again after the answer page (see loadedPage): the new state is fetched.
    fetch() {
      return guard.ready({ regulator: true }).then((ctx) => {
        this.ctx = ctx;
        return violations.detail(this.violationId, { silent: true });
      });
    },

    show(v) {
      const { abilities } = this.ctx;
      const status = v.status;
      this.setData(Object.assign({
        loading: false,
        v,
        steps: violations.timeline(v),
        tagType: labels.tagType(labels.VIOLATION_STATUS_TAGS, status),
        sourceLabel: labels.label(labels.VIOLATION_SOURCES, v.source),
        dueText: time.dateTime(v.due_at),
        canStart: abilities.answerViolation && ['open', 'notified', 'rejected'].indexOf(status) >= 0,
        canAnswer: abilities.answerViolation && status === 'rectifying',
        canReview: abilities.reviewViolation && status === 'submitted' && v.reviewer === 'principal',
        fullEvidence: abilities.answerViolation || abilities.reviewViolation || this.ctx.regulator.any,
      }, violations.times(v)));
    },

    onPreview(event) {
      wx.previewImage({ urls: [event.currentTarget.dataset.url] });
    },

    onStart() {
      this.setData({ busy: true });
      return violations.start(this.violationId).then((v) => {
        this.setData({ busy: false });
        this.show(v);
        wx.showToast({ title: '已受理', icon: 'success' });
      }, () => this.setData({ busy: false }));
    },

    onAnswer() {
      wx.navigateTo({ url: `/pages/violations/answer/index?id=${this.violationId}` });
    },

    onAccept() {
      this.setData({ busy: true });
      return violations.review(this.violationId, true, null).then((v) => {
        this.setData({ busy: false });
        this.show(v);
        wx.showToast({ title: '已通过验收', icon: 'success' });
      }, () => this.setData({ busy: false }));
    },

    onReject() {
      return askText({
        title: '驳回整改', placeholder: '请写明驳回原因（必填）', confirmText: '驳回', danger: true,
        required: '驳回时必须填写原因',
      }).then((reason) => {
        if (reason === null) return null;
        return violations.review(this.violationId, false, reason).then((v) => {
          this.show(v);
          wx.showToast({ title: '已驳回', icon: 'none' });
        });
      });
    },

    onNotifyMe() {
      return notices.subscribe(null).then((accepted) => {
        wx.showToast({ title: accepted ? '有进展时会通过微信通知您' : '未开启通知，可在消息中心查看', icon: 'none' });
      });
    },
  },
});
