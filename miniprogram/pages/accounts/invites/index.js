/**
 * Staff and the parents' committee invite parents (the principal also invites staff): a short code to
 * read out or copy, the mini-program code to print, or a WeChat share card that opens the bind page.
 */
const guard = require('../../../utils/guard');
const labels = require('../../../utils/labels');
const time = require('../../../utils/time');
const config = require('../../../config');
const accounts = require('../../../services/accounts');
const { confirmed } = require('../../../utils/prompt');

const EXPIRY = [{ hours: 72, label: '3 天' }, { hours: 168, label: '7 天' }, { hours: 720, label: '30 天' }, { hours: 24, label: '1 天' }];
const USES = [{ n: 50, label: '50 人（一个班）' }, { n: 1, label: '1 人' }, { n: 10, label: '10 人' }, { n: 200, label: '200 人' }];

function codeText(code) {
  return code ? `${code.slice(0, 4)} ${code.slice(4)}` : '';
}

function present(invite) {
  const expired = time.parse(invite.expires_at).getTime() <= Date.now();
  const usedUp = invite.uses >= invite.max_uses;
  let stateText = `${time.dateTime(invite.expires_at)} 到期`;
  if (invite.revoked) stateText = '已撤销';
  else if (expired) stateText = '已过期';
  else if (usedUp) stateText = '已用完';
  return Object.assign({}, invite, {
    codeText: codeText(invite.short_code), roleLabel: labels.label(labels.ROLES, invite.role),
    expiresText: time.dateTime(invite.expires_at), stateText, active: !invite.revoked && !expired && !usedUp,
  });
}

Component({
  data: {
    loading: true, loadError: '', schoolId: null, schoolName: '', roleOptions: [], roleIndex: 0,
    expiryOptions: EXPIRY, expiryIndex: 1, usesOptions: USES, usesIndex: 0, creating: false, created: null,
    codeImage: '', codeLoading: false, invites: [],
  },
  methods: {
    onLoad() {
      wx.showShareMenu({ menus: ['shareAppMessage'] });
      this.load();
    },

    load() {
      this.setData({ loading: true, loadError: '' });
      return guard.ready().then(({ user, schoolId, abilities }) => {
        if (!abilities.invite) throw new Error('只有学校管理人员和家委会可以邀请');
        const roleCodes = abilities.inviteStaff ? ['parent', 'committee', 'manager', 'staff'] : ['parent'];
        const membership = user.memberships.find((m) => m.school_id === schoolId);
        this.setData({
          schoolId, schoolName: membership ? membership.school_name : '',
          roleOptions: roleCodes.map((code) => ({ code, label: labels.ROLES[code] })),
        });
        return accounts.invites(schoolId);
      }).then((invites) => {
        this.setData({ loading: false, invites: invites.map(present) });
      }, guard.loadFailed(this));
    },

    onRole(event) {
      this.setData({ roleIndex: Number(event.detail.value) });
    },
    onExpiry(event) {
      this.setData({ expiryIndex: Number(event.detail.value) });
    },
    onUses(event) {
      this.setData({ usesIndex: Number(event.detail.value) });
    },

    onCreate() {
      const role = this.data.roleOptions[this.data.roleIndex].code;
      this.setData({ creating: true });
      return accounts.createInvite(this.data.schoolId, role, EXPIRY[this.data.expiryIndex].hours, USES[this.data.usesIndex].n)
        .then((invite) => {
          const shown = present(invite);
          this.setData({ creating: false, created: shown, codeImage: '', invites: [shown].concat(this.data.invites) });
        }, () => this.setData({ creating: false }));
    },

    onCopy() {
      wx.setClipboardData({ data: this.data.created.short_code });
    },

    onShowCode() {
      this.setData({ codeLoading: true });
      return accounts.inviteCodeImage(this.data.created.id, config.envVersion()).then((path) => {
        this.setData({ codeLoading: false, codeImage: path });
      }, (err) => {
        this.setData({ codeLoading: false });
        wx.showToast({ title: err.message, icon: 'none' });
      });
    },

    onPreviewCode() {
      wx.previewImage({ urls: [this.data.codeImage] });
    },

    onRevoke(event) {
      const id = event.currentTarget.dataset.id;
      return confirmed('撤销邀请', '撤销后该邀请码不能再使用，已提交的申请不受影响。').then((yes) => yes && accounts.revokeInvite(id)
        .then((invite) => {
          const shown = present(invite);
          this.setData({ invites: this.data.invites.map((i) => (i.id === id ? shown : i)) });
          wx.showToast({ title: '已撤销', icon: 'success' });
        }));
    },

    /** The share card opens the bind page with the invite's scene, like its mini-program code. */
    onShareAppMessage() {
      const created = this.data.created;
      if (!created) return { title: '明厨亮灶', path: '/pages/records/today/index' };
      return {
        title: `邀请您绑定${this.data.schoolName}，查看孩子的食堂`,
        path: `/pages/accounts/bind/index?scene=${encodeURIComponent(created.scene)}`,
      };
    },
  },
});
