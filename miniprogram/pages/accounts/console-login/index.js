/**
 * Scan to log in to the web console: the console's mini-program code opens this page with the ticket's
 * `scene`; confirming lets that browser log in as the current user (it polls and receives its own session).
 */
const guard = require('../../../utils/guard');
const invite = require('../../../utils/invite');
const accounts = require('../../../services/accounts');

Component({
  data: { loading: true, loadError: '', scene: '', nickname: '', submitting: false, done: false, error: '' },
  methods: {
    onLoad(query) {
      this.setData({ scene: invite.sceneFromLaunch({ query }) });
      this.load();
    },

    load() {
      this.setData({ loading: true, loadError: '' });
      return guard.ready({ bound: false }).then(({ user }) => {
        this.setData({ loading: false, nickname: user.nickname || '' });
      }, (err) => {
        this.setData({ loading: false, loadError: err.message });
      });
    },

    onConfirm() {
      if (!this.data.scene) {
        this.setData({ error: '二维码无效，请在电脑上刷新后重新扫码' });
        return null;
      }
      this.setData({ submitting: true, error: '' });
      return accounts.confirmConsoleLogin(this.data.scene).then(() => {
        this.setData({ submitting: false, done: true });
      }, (err) => {
        this.setData({ submitting: false, error: err.message });
      });
    },

    onCancel() {
      wx.reLaunch({ url: '/pages/kitchen/home/index' });
    },
  },
});
