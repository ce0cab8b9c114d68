/**
 * What every page needs before it loads data: a session, the user's bindings, the school being viewed
 * and what the user may do there. A user without an active binding is sent to the bind page.
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

/**
 * Which server action each part of the app needs. `/me` answers the actions the user may take in each school
 * (`capabilities.schools[id]`), as regulator and as admin; the server decides for real on every call, this only
 * hides what cannot work. No role names here: who may do what is the server's permission module alone.
 */
const NEEDS = {
  uploadRecords: 'records.write',
  answerViolation: 'violation.rectify',
  reviewViolation: 'violation.review',
  approveBindings: 'approve.parent',
  invite: 'invite.parent',
  inviteStaff: 'invite.staff',
  inbox: 'violation.read',
  violationDetails: 'violation.read',
  playback: 'recording.read',
};

/** The actions `/me` says the user may take in a school (an admin may take all). */
function capabilitiesIn(schoolId, user) {
  const capabilities = (user && user.capabilities) || {};
  if (capabilities.admin) return Object.keys(NEEDS).map((what) => NEEDS[what]);
  return (capabilities.schools || {})[String(schoolId)] || [];
}

function can(actions, what) {
  return (actions || []).indexOf(NEEDS[what]) >= 0;
}

/** Permission flags for templates, {uploadRecords: true, ...}, from the actions of `capabilitiesIn`. */
function abilities(actions) {
  const flags = {};
  Object.keys(NEEDS).forEach((what) => {
    flags[what] = can(actions, what);
  });
  return flags;
}

/**
 * Make sure the user is signed in and bound. Resolves {user, schoolId, abilities}; with
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
    return { user, schoolId, abilities: abilities(schoolId ? capabilitiesIn(schoolId, user) : []) };
  });
}

/**
 * The rejection handler of a page's load: the failure's message on the page, except for a user not bound to
 * a school (`ready` has already sent them to bind).
 */
function loadFailed(page) {
  return (err) => {
    if (err instanceof NotBound) return;
    page.setData({ loading: false, loadError: err.message });
  };
}

module.exports = { ready, can, abilities, capabilitiesIn, loadFailed, NotBound, BIND_PAGE };
