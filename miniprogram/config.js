/**
 * Where the API lives for each WeChat environment version.
 *
 * develop: WeChat DevTools against `make demo` on this computer (勾选「不校验合法域名」).
 * trial / release: the HTTPS domain registered in the mini-program console (服务器域名 → request、uploadFile、
 * downloadFile 合法域名). Fill them in before uploading a trial or release build.
 */
const API_BASES = {
  develop: 'http://127.0.0.1:5000',
  trial: '',
  release: '',
};

/**
 * Demo only: in the develop version, log in as this seeded user through POST /api/v1/auth/dev-login
 * (the route exists only when the api runs with APP_ENV=development), e.g. 'demo-parent-1',
 * 'demo-committee-1', 'demo-manager-1', 'demo-staff-1'. Empty: the normal wx.login flow.
 */
const DEV_LOGIN_OPENID = '';

function envVersion() {
  try {
    return wx.getAccountInfoSync().miniProgram.envVersion || 'release';
  } catch (err) {
    return 'develop';
  }
}

module.exports = {
  API_BASES,
  DEV_LOGIN_OPENID,
  envVersion,
  apiBase() {
    return module.exports.API_BASES[envVersion()] || '';
  },
  devLoginOpenid() {
    return envVersion() === 'develop' ? module.exports.DEV_LOGIN_OPENID : '';
  },
  REQUEST_TIMEOUT_MS: 15000,
  UPLOAD_TIMEOUT_MS: 60000,
};
