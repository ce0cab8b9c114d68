/**
 * What every page needs before it loads data: a session, the user's bindings, the school being viewed
 * and what the user may do there. A user without an active binding is sent to the bind page, a regulator
 * without one to 我的 (their pages).
 */
const http = require('./request');
const session = require('./session');

const BIND_PAGE = '/pages/accounts/bind/index';
const ME_PAGE = '/pages/accounts/me/index';

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
  joinParentMeals: 'parent_meal.join',
  manageParentMeals: 'parent_meal.manage',
  readSeals: 'seals.read',
  seal: 'records.seal',
  report: 'violation.report',
  readOrders: 'supervision.read',
  answerOrder: 'supervision.respond',
};

/**
 * The regulator's pages and the action each needs of `capabilities.regulator` (what a regulator may do in
 * every school of the regions in `regulator_scopes`).
 */
const REGULATOR_NEEDS = {
  overview: 'stats.read',
  inspect: 'inspect',
  reviewAlarms: 'alarm.review',
  seal: 'records.seal',
  closeOrder: 'supervision.issue',
};

/** Flags of the regulator's pages, {overview: true, ...}: all for an admin, none for a school member. */
function regulatorAbilities(user) {
  const capabilities = (user && user.capabilities) || {};
  const actions = capabilities.admin ? Object.values(REGULATOR_NEEDS) : capabilities.regulator || [];
  const flags = {};
  Object.keys(REGULATOR_NEEDS).forEach((what) => {
    flags[what] = actions.indexOf(REGULATOR_NEEDS[what]) >= 0;
  });
  flags.any = Object.keys(REGULATOR_NEEDS).some((what) => flags[what]);
  return flags;
}

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
 * Make sure the user is signed in and bound. Resolves {user, schoolId, abilities, regulator} (`regulator`:
 * the flags of `regulatorAbilities`); with `{bound: false}` it also resolves for users without a binding (the
 * bind and me pages), with `{regulator: true}` for regulators without one (the pages they read too).
 */
function ready(options = {}) {
  const needBinding = options.bound !== false;
  const start = session.token() ? http.get('/me') : http.login().then((result) => result.user);
  return start.then((user) => {
    session.saveUser(user);
    const schoolId = session.currentSchoolId(user);
    const regulator = regulatorAbilities(user);
    if (needBinding && !schoolId && !(options.regulator && regulator.any)) {
      // A regulator has no school to bind: their pages are on 我的.
      if (regulator.any) wx.switchTab({ url: ME_PAGE });
      else wx.reLaunch({ url: BIND_PAGE });
      throw new NotBound();
    }
    return { user, schoolId, abilities: abilities(schoolId ? capabilitiesIn(schoolId, user) : []), regulator };
  });
}

/**
 * The regulator's pages: signed in with the page's ability (`what` of REGULATOR_NEEDS). Resolves the context of
 * `ready` with `regions`, the regions regulated ([{region_id, region_name}]); refuses anyone else in words.
 */
function readyAsRegulator(what) {
  return ready({ bound: false }).then((ctx) => {
    if (!ctx.regulator[what]) throw new Error('该功能仅对监管部门开放');
    return Object.assign({}, ctx, { regions: ctx.user.regulator_scopes || [] });
  });
}

/**
 * The rejection handler of a page's load: the failure's message on the page, except for a user not bound to
 * a school (`ready` has already sent them to bind, or a regulator to 我的).
 */
function loadFailed(page) {
  return (err) => {
    if (err instanceof NotBound) return;
    page.setData({ loading: false, loadError: err.message });
  };
}

module.exports = {
  ready, readyAsRegulator, regulatorAbilities, can, abilities, capabilitiesIn, loadFailed, NotBound, BIND_PAGE,
};
