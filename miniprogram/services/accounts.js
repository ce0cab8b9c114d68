/** The accounts feature: login, the caller's account and phone binding, invites, binding requests and their approval. */
const http = require('../utils/request');
const session = require('../utils/session');

/** Log in (wx.login → our token) and return the user with bindings. */
function login() {
  return http.login().then((result) => result.user);
}

/** The caller with bindings, refreshed from the server and kept in the session. */
function me(extra) {
  return http.get('/me', null, extra).then((user) => {
    session.saveUser(user);
    return user;
  });
}

/** Bind the phone number behind a getPhoneNumber button's code; returns the masked number. */
function bindPhone(code) {
  return http.post('/me/phone', { code });
}

function logout() {
  return http.post('/auth/logout', {}, { silent: true }).catch(() => null).then(() => session.clear());
}

/**
 * 退出所有设备 (a lost phone): every session of the account is revoked, the console's included; resolves with how many.
 * Unlike a plain log-out, a failure is not swallowed: the person must know their other sessions still work.
 */
function logoutAll() {
  return http.post('/auth/logout-all', {}, { silent: true }).then((answer) => {
    session.clear();
    return answer.revoked;
  });
}

/** The school, role and class list behind a scanned scene or typed short code. */
function lookup(code) {
  return http.post('/bindings/lookup', { code }, { silent: true });
}

/** Redeem a scanned scene or a typed short code: who asks and, for parents, the relation and the child's class. */
function redeem(code, applicant) {
  return http.post('/bindings/redeem', {
    code,
    applicant_name: applicant.name,
    relation: applicant.relation || null,
    class_id: applicant.classId || null,
  }, { silent: true });
}

function pending(schoolId, extra) {
  return http.get(`/schools/${schoolId}/memberships`, { status: 'pending' }, extra);
}

function decide(membershipId, approve, reason) {
  return http.post(`/memberships/${membershipId}/decision`, { approve, reason: reason || null });
}

function createInvite(schoolId, role, expiresInHours, maxUses) {
  return http.post(`/schools/${schoolId}/invites`, { role, expires_in_hours: expiresInHours, max_uses: maxUses });
}

function invites(schoolId) {
  return http.get(`/schools/${schoolId}/invites`);
}

function revokeInvite(inviteId) {
  return http.post(`/invites/${inviteId}/revoke`, {});
}

/** Download the invite's mini-program code (a PNG behind our auth header) to a temp file. */
function inviteCodeImage(inviteId, envVersion) {
  // wx.downloadFile cannot re-login on 401 by itself: make sure the token is fresh first.
  return (session.token() ? Promise.resolve() : http.login()).then(() => new Promise((resolve, reject) => {
    wx.downloadFile({
      url: http.buildUrl(`/invites/${inviteId}/wxacode`, { env_version: envVersion || 'release' }),
      header: { Authorization: `Bearer ${session.token()}` },
      success: (res) => (res.statusCode === 200 ? resolve(res.tempFilePath)
        : reject(new http.ApiError(res.statusCode, 'wxacode_failed', '小程序码生成失败，请稍后重试'))),
      fail: () => reject(new http.ApiError(0, 'network_error', '网络连接失败，请检查网络后重试')),
    });
  }));
}

/** Confirm that the web console showing the scanned code may log in as the caller. */
function confirmConsoleLogin(scene) {
  return http.post('/auth/console-tickets/confirm', { scene });
}

module.exports = {
  login, me, bindPhone, logout, logoutAll, lookup, redeem, pending, decide, createInvite, invites, revokeInvite, inviteCodeImage,
  confirmConsoleLogin,
};
