/**
 * Binding: a parent (or a new staff member) redeems an invite — scanned mini-program code or typed short
 * code — names the child's class, and then waits for the school's approval.
 */
const guard = require('../../../utils/guard');
const invite = require('../../../utils/invite');
const labels = require('../../../utils/labels');
const bindings = require('../../../services/bindings');
const auth = require('../../../services/auth');

const GRADES = ['一年级', '二年级', '三年级', '四年级', '五年级', '六年级', '七年级', '八年级', '九年级', '高一', '高二', '高三'];
const CLASS_NAMES = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十', '十一', '十二', '十三', '十四', '十五', '十六']
  .map((n) => `${n}班`);
const HOME = '/pages/kitchen/home/index';

function pendingOf(user) {
  return (user.memberships || []).filter((m) => m.status === 'pending')
    .map((m) => Object.assign({}, m, { roleLabel: labels.label(labels.ROLES, m.role) }));
}

Component({
  data: {
    loading: true, loadError: '', pending: [], showForm: false, refreshing: false, submitting: false,
    codeText: '', fromScan: false, childClass: '', classRange: [GRADES, CLASS_NAMES], classIndex: [0, 0],
    errors: {}, formError: '',
  },
  methods: {
    onLoad(query) {
      const app = getApp();
      const scene = (query && query.scene && invite.sceneFromLaunch({ query })) || app.globalData.pendingInvite;
      if (scene) {
        app.globalData.pendingInvite = '';
        this.setData({ codeText: scene, fromScan: true, showForm: true });
      }
      this.load();
    },

    load() {
      this.setData({ loading: true, loadError: '' });
      return guard.ready({ bound: false }).then(({ user }) => {
        this.setData({ loading: false, pending: pendingOf(user) });
      }, (err) => {
        this.setData({ loading: false, loadError: err.message });
      });
    },

    onCode(event) {
      this.setData({ codeText: event.detail, fromScan: false, 'errors.code': '' });
    },

    onScan() {
      wx.scanCode({
        onlyFromCamera: false,
        scanType: ['wxCode', 'qrCode'],
        success: (res) => {
          const scene = invite.sceneFromScan(res);
          if (!scene) {
            wx.showToast({ title: '这不是学校的邀请码', icon: 'none' });
            return;
          }
          this.setData({ codeText: scene, fromScan: true, 'errors.code': '' });
        },
      });
    },

    onClass(event) {
      const [grade, klass] = event.detail.value;
      this.setData({ classIndex: [grade, klass], childClass: GRADES[grade] + CLASS_NAMES[klass], 'errors.child_class': '' });
    },

    onShowForm() {
      this.setData({ showForm: true });
    },

    onSubmit() {
      const code = this.data.fromScan ? this.data.codeText.trim() : invite.normaliseShortCode(this.data.codeText);
      if (!code) {
        this.setData({ errors: { code: '请输入邀请码或扫码' } });
        return null;
      }
      this.setData({ submitting: true, errors: {}, formError: '' });
      return bindings.redeem(code, this.data.childClass)
        .then(() => auth.me())
        .then((user) => {
          this.setData({ submitting: false, showForm: false, pending: pendingOf(user) });
          wx.showToast({ title: '已提交，等待审核', icon: 'success' });
        }, (err) => {
          const errors = {};
          if (err.code === 'child_class_required') errors.child_class = err.message;
          else if (/^invite_/.test(err.code)) errors.code = err.message;
          this.setData({ submitting: false, errors, formError: Object.keys(errors).length ? '' : err.message });
        });
    },

    onRefresh() {
      this.setData({ refreshing: true });
      return auth.me().then((user) => {
        this.setData({ refreshing: false, pending: pendingOf(user) });
        if ((user.memberships || []).some((m) => m.status === 'active') && !pendingOf(user).length) {
          wx.showToast({ title: '审核已通过', icon: 'success' });
          wx.switchTab({ url: HOME });
        } else if (!pendingOf(user).length) {
          this.setData({ showForm: true });
          wx.showToast({ title: '申请未通过，请联系学校', icon: 'none' });
        } else {
          wx.showToast({ title: '仍在审核中', icon: 'none' });
        }
      }, () => this.setData({ refreshing: false }));
    },
  },
});
