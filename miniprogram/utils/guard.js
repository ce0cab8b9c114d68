/**
 * What every page needs before it loads data: a session, the user's bindings, the school being viewed
 * and the user's roles there. A user without an active binding is sent to the bind page.
 */
const http = require('./request');
const session = require('./session');

const BIND_PAGE = '/pages/accounts/bind/index';

class NotBound extends Error {
  constructor() {
    super('尚未绑定学校');
    this.name = 'NotBound';
  }
}

/** Who may use which part of the app; the server decides for real, this only hides what cannot work. */
const CAN = {
  uploadRecords: ['manager', 'staff', 'principal'],
  answerViolation: ['manager', 'staff'],
  reviewViolation: ['principal'],
  approveBindings: ['committee', 'staff', 'principal'],
  invite: ['committee', 'staff', 'principal'],
  inbox: ['committee', 'manager', 'staff', 'principal'],
  violationDetails: ['committee', 'manager', 'staff', 'principal'],
};

function can(roles, what) {
  return (roles || []).some((role) => CAN[what].indexOf(role) >= 0);
}

/** Permission flags for templates: {uploadRecords: true, ...}. */
function abilities(roles) {
  const flags = {};
  Object.keys(CAN).forEach((what) => {
    flags[what] = can(roles, what);
  });
  return flags;
}

/**
 * Make sure the user is signed in and bound. Resolves {user, schoolId, roles, abilities}; with
 * `{bound: false}` it also resolves for users without a binding (the bind and me pages).
 */
function ready(options = {}) {
  const needBinding = options.bound !== false;
  const start = session.token() ? http.get('/me') : http.login().then((result) => result.user);
  return start.then((user) => {
    session.saveUser(user);
    const schoolId = session.currentSchoolId(user);
    if (needBinding && !schoolId) {
      wx.reLaunch({ url: BIND_PAGE });
      throw new NotBound();
    }
    const roles = schoolId ? session.rolesIn(schoolId, user) : [];
    return { user, schoolId, roles, abilities: abilities(roles) };
  });
}

module.exports = { ready, can, abilities, NotBound, BIND_PAGE };
