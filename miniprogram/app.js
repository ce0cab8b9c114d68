/**
 * 明厨亮灶 mini-program. The app keeps only what several pages share: the invite a scan opened the app
 * with, and the signed-in user (kept in storage by utils/session).
 */
const invite = require('./utils/invite');

App({
  globalData: {
    // The invite scene from a scanned mini-program code, until the bind page uses it.
    pendingInvite: '',
  },

  onLaunch(options) {
    const scene = invite.sceneFromLaunch(options);
    if (scene) this.globalData.pendingInvite = scene;
  },

  onShow(options) {
    const scene = invite.sceneFromLaunch(options);
    if (scene) this.globalData.pendingInvite = scene;
  },
});
