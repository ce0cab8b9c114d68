/**
 * 我的: bindings and the school being viewed, phone binding, each role's work entries, and a regulator's pages
 * when `/me` says the user regulates a region; everyone's 通知方式 (WeChat messages, SMS, quiet hours).
 *
 * The entries that wait on the person say how much (消息通知: unread; 绑定审核: bindings waiting; 监督整改通知: orders
 * not yet answered), counted after the page shows; a count that cannot be read leaves its entry plain.
 */
const guard = require('../../../utils/guard');
const { confirmed } = require('../../../utils/prompt');
const session = require('../../../utils/session');
const labels = require('../../../utils/labels');
const accounts = require('../../../services/accounts');
const notices = require('../../../services/notices');
const regulators = require('../../../services/regulators');

const ENTRIES = [
  { key: 'inbox', title: '消息通知', icon: 'bell', url: '/pages/notices/inbox/index', ability: 'inbox' },
  { key: 'approvals', title: '绑定审核', icon: 'friends-o', url: '/pages/accounts/approvals/index', ability: 'approveBindings' },
  { key: 'invites', title: '邀请家长', icon: 'qr', url: '/pages/accounts/invites/index', ability: 'invite' },
  { key: 'records', title: '台账填报', icon: 'records', url: '/pages/records/hub/index', ability: 'uploadRecords' },
  { key: 'orders', title: '监督整改通知', icon: 'description', url: '/pages/regulators/orders/index', ability: 'readOrders' },
  { key: 'reports', title: '我反映的问题', icon: 'chat-o', url: '/pages/violations/reports/index', ability: 'report' },
  { key: 'meals', title: '陪餐记录', icon: 'smile-comment-o', url: '/pages/records/accompanied/index', ability: null },
];

// A regulator's pages, each shown when /me's regulator capabilities allow it (utils/guard REGULATOR_NEEDS).
const REGULATOR_ENTRIES = [
  { key: 'overview', title: '监管总览', icon: 'chart-trending-o', url: '/pages/regulators/overview/index', ability: 'overview' },
  { key: 'review', title: '告警审核', icon: 'warning-o', url: '/pages/regulators/review/index', ability: 'reviewAlarms' },
  { key: 'inspections', title: '检查走访', icon: 'guide-o', url: '/pages/regulators/inspections/index', ability: 'inspect' },
];

// What waits on the person behind an entry, as its badge: each resolves with the count.
const WAITING = {
  inbox: { count: () => notices.inbox({ limit: 1 }, { silent: true }).then((page) => page.unread), unit: '条未读' },
  approvals: { count: (schoolId) => accounts.pending(schoolId, { silent: true }).then((list) => list.length), unit: '待审核' },
  orders: {
    count: (schoolId) => regulators.orders(schoolId, { silent: true }).then((orders) => orders.filter((o) => o.status === 'issued').length),
    unit: '待答复',
  },
};

Component({
  data: { loading: true, loadError: '', user: {}, phoneText: '', memberships: [], menu: [], regulatorMenu: [], regionsText: '' },
  methods: {
    onLoad() {
      this.load();
    },

    onShow() {
      if (!this.data.loading) this.load();
    },

    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh());
    },

    load() {
      this.setData({ loading: !this.data.user.id, loadError: '' });
      return guard.ready({ bound: false }).then(({ user, schoolId, abilities, regulator }) => {
        this.setData({
          regulatorMenu: REGULATOR_ENTRIES.filter((e) => regulator[e.ability]),
          regionsText: (user.regulator_scopes || []).map((s) => s.region_name).join('、'),
        });
        this.show(user, schoolId, abilities);
      },
        (err) => this.setData({ loading: false, loadError: err.message }));
    },

    show(user, schoolId, abilities) {
      const memberships = (user.memberships || []).map((m) => Object.assign({}, m, {
        roleLabel: labels.label(labels.ROLES, m.role),
        statusLabel: labels.label(labels.MEMBERSHIP_STATUS, m.status),
        current: m.status === 'active' && m.school_id === schoolId,
      }));
      const menu = schoolId ? ENTRIES.filter((e) => !e.ability || abilities[e.ability]) : [];
      this.setData({
        loading: false, user, memberships, menu, phoneText: user.phone_bound ? '已绑定手机号' : '未绑定手机号',
      });
      return this.countWaiting(schoolId);
    },

    /** Each shown entry's badge: how much waits behind it (nothing shown when none, or when it cannot be read). */
    countWaiting(schoolId) {
      return Promise.all(this.data.menu.map((entry, index) => {
        const waiting = WAITING[entry.key];
        if (!waiting) return null;
        return waiting.count(schoolId).then((n) => {
          const current = this.data.menu[index];
          if (current && current.key === entry.key) this.setData({ [`menu[${index}].badge`]: n ? `${n} ${waiting.unit}` : '' });
        }, () => null);
      }));
    },

    onChooseSchool(event) {
      const { id, status } = event.currentTarget.dataset;
      if (status !== 'active') return;
      session.chooseSchool(id);
      const user = session.user();
      this.show(user, id, guard.abilities(guard.capabilitiesIn(id, user)));
      wx.showToast({ title: '已切换学校', icon: 'success' });
    },

    onPhone(event) {
      const code = event.detail && event.detail.code;
      if (!code) {
        wx.showToast({ title: '未授权手机号', icon: 'none' });
        return null;
      }
      return accounts.bindPhone(code).then((res) => {
        wx.showToast({ title: `已绑定 ${res.phone}`, icon: 'none' });
        this.setData({ 'user.phone_bound': true, phoneText: `已绑定 ${res.phone}` });
      });
    },

    onLogout() {
      return confirmed('退出登录', '退出后需要重新登录才能查看学校信息').then((yes) => yes && accounts.logout()
        .then(() => wx.reLaunch({ url: '/pages/records/today/index' })));
    },

    /** 退出所有设备: for a lost or shared phone; told how many sessions ended, or why none did. */
    onLogoutAll() {
      const warning = '将退出本账号在所有手机和电脑（管理后台）上的登录。手机丢失或借给他人后请尽快操作。';
      return confirmed('退出所有设备', warning).then((yes) => yes && accounts.logoutAll().then((revoked) => {
        wx.showToast({ title: `已退出 ${revoked} 处登录`, icon: 'none' });
        wx.reLaunch({ url: '/pages/records/today/index' });
      }, (err) => wx.showToast({ title: err.message, icon: 'none' })));
    },
  },
});
