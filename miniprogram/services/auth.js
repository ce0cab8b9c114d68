/** Login, the caller's account and phone binding. */
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

/** Confirm that the web console showing the scanned code may log in as the caller. */
function confirmConsoleLogin(scene) {
  return http.post('/auth/console-tickets/confirm', { scene });
}

module.exports = { login, me, bindPhone, logout, confirmConsoleLogin };
