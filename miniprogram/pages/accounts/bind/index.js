/**
 * Binding: a parent (or a new staff member) enters an invite — scanned mini-program code or typed short
 * code —, sees which school it is for, gives their name and, as a parent, picks the relation to the child and
 * the child's class from the school's class list; then waits for the school's approval.
 */
const guard = require('../../../utils/guard');
const invite = require('../../../utils/invite');
const labels = require('../../../utils/labels');
const form = require('../../../utils/form');
const accounts = require('../../../services/accounts');

const HOME = '/pages/records/today/index';
const RELATION_CODES = Object.keys(labels.RELATIONS);

function pendingOf(user) {
  return (user.memberships || []).filter((m) => m.status === 'pending')
    .map((m) => Object.assign({}, m, { roleLabel: labels.label(labels.ROLES, m.role) }));
}

function codeError(err) {
  return /^invite_/.test(err.code) ? { code: err.message } : {};
}

Component({
  data: {
    loading: true, loadError: '', pending: [], showForm: false, refreshing: false, submitting: false, looking: false,
    codeText: '', fromScan: false, invite: null, isParent: false, roleLabel: '',
    applicantName: '', relationLabels: RELATION_CODES.map((code) => labels.RELATIONS[code]), relationIndex: -1,
    classNames: [], classIndex: -1, errors: {}, formError: '',
  },
  methods: {
    onLoad(query) {
      const app = getApp();
      const scene = (query && query.scene && invite.sceneFromLaunch({ query })) || app.globalData.pendingInvite;
      if (scene) {
        app.globalData.pendingInvite = '';
        this.setData({ codeText: scene, fromScan: true, showForm: true });
      }
      return this.load().then(() => (scene ? this.lookup() : null));
    },

    load() {
      this.setData({ loading: true, loadError: '' });
      return guard.ready({ bound: false }).then(({ user }) => {
        this.setData({ loading: false, pending: pendingOf(user) });
      }, (err) => {
        this.setData({ loading: false, loadError: err.message });
      });
    },

    code() {
      return this.data.fromScan ? this.data.codeText.trim() : invite.normaliseShortCode(this.data.codeText);
    },

    onCode(event) {
      this.setData({ codeText: event.detail, fromScan: false, invite: null, 'errors.code': '' });
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
          this.lookup();
        },
      });
    },

    /** Which school and role the code is for, and the school's classes to pick from. */
    lookup() {
      const code = this.code();
      if (!code) {
        this.setData({ errors: { code: '请输入邀请码或扫码' } });
        return null;
      }
      this.setData({ looking: true, errors: {}, formError: '' });
      return accounts.lookup(code).then((found) => {
        this.setData({
          looking: false, invite: found, isParent: found.role === 'parent',
          roleLabel: labels.label(labels.ROLES, found.role),
          // An invite for one class lists only that class, already chosen.
          classNames: found.classes.map((c) => c.name),
          classIndex: found.class_id ? found.classes.findIndex((c) => c.id === found.class_id) : -1,
        });
      }, (err) => {
        const errors = codeError(err);
        this.setData({ looking: false, errors, formError: form.formError(err, errors) });
      });
    },

    onName(event) {
      this.setData({ applicantName: event.detail, 'errors.applicant_name': '' });
    },

    onRelation(event) {
      this.setData({ relationIndex: Number(event.detail.value), 'errors.relation': '' });
    },

    onClass(event) {
      this.setData({ classIndex: Number(event.detail.value), 'errors.class_id': '' });
    },

    onShowForm() {
      this.setData({ showForm: true });
    },

    onChangeCode() {
      this.setData({ invite: null, codeText: '', fromScan: false, errors: {}, formError: '' });
    },

    onSubmit() {
      const { invite: found, relationIndex, classIndex } = this.data;
      const applicant = {
        name: this.data.applicantName.trim(),
        relation: this.data.isParent && relationIndex >= 0 ? RELATION_CODES[relationIndex] : null,
        classId: this.data.isParent && classIndex >= 0 ? found.classes[classIndex].id : null,
      };
      this.setData({ submitting: true, errors: {}, formError: '' });
      return accounts.redeem(this.code(), applicant)
        .then(() => accounts.me())
        .then((user) => {
          this.setData({ submitting: false, showForm: false, invite: null, pending: pendingOf(user) });
          wx.showToast({ title: '已提交，等待审核', icon: 'success' });
        }, (err) => {
          const errors = Object.assign(form.fieldErrors(err), codeError(err));
          this.setData({ submitting: false, errors, formError: form.formError(err, errors) });
        });
    },

    onRefresh() {
      this.setData({ refreshing: true });
      return accounts.me().then((user) => {
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
