/**
 * The login session kept on the phone: our own API token (never WeChat's session_key), the user it
 * belongs to, and the school the user is looking at.
 */
const SESSION_KEY = 'kitchen.session';
const SCHOOL_KEY = 'kitchen.schoolId';

function read() {
  try {
    return wx.getStorageSync(SESSION_KEY) || null;
  } catch (err) {
    return null;
  }
}

function token() {
  const current = read();
  if (!current || !current.token) return '';
  if (current.expiresAt && Date.parse(current.expiresAt) <= Date.now()) return '';
  return current.token;
}

function save(login) {
  wx.setStorageSync(SESSION_KEY, { token: login.token, expiresAt: login.expires_at, user: login.user });
}

function saveUser(user) {
  const current = read() || {};
  wx.setStorageSync(SESSION_KEY, Object.assign({}, current, { user }));
}

function user() {
  const current = read();
  return current ? current.user || null : null;
}

function clear() {
  wx.removeStorageSync(SESSION_KEY);
}

function activeMemberships(currentUser) {
  return ((currentUser || user() || {}).memberships || []).filter((m) => m.status === 'active');
}

/** The school the user last chose, if still an active binding; else the first active binding. */
function currentSchoolId(currentUser) {
  const memberships = activeMemberships(currentUser);
  const chosen = wx.getStorageSync(SCHOOL_KEY);
  if (chosen && memberships.some((m) => m.school_id === chosen)) return chosen;
  return memberships.length ? memberships[0].school_id : null;
}

function chooseSchool(schoolId) {
  wx.setStorageSync(SCHOOL_KEY, schoolId);
}

module.exports = {
  read, token, save, saveUser, user, clear, activeMemberships, currentSchoolId, chooseSchool,
};
