/**
 * Invites reach the app three ways: the invite's mini-program code (WeChat opens the bind page with
 * `scene`), a scan from inside the app (wx.scanCode answers the page path with `scene=`), or the short
 * code typed by hand.
 */
function decode(value) {
  try {
    return decodeURIComponent(value || '');
  } catch (err) {
    return value || '';
  }
}

/** The scene of the launch options when the app was opened by an invite code. */
function sceneFromLaunch(options) {
  const query = (options && options.query) || {};
  return query.scene ? decode(query.scene).trim() : '';
}

/** The invite scene inside a scanned result (path "pages/accounts/bind/index?scene=..."), or ''. */
function sceneFromScan(result) {
  const text = decode((result && (result.path || result.result)) || '');
  const match = /[?&]scene=([^&]+)/.exec(text);
  if (match) return decode(match[1]).trim();
  return '';
}

/** A typed short code: upper case, separators removed ("7kq3-mx2p" → "7KQ3MX2P"). */
function normaliseShortCode(text) {
  return (text || '').replace(/[\s-]/g, '').toUpperCase();
}

module.exports = { sceneFromLaunch, sceneFromScan, normaliseShortCode };
