/**
 * Idempotency keys for creates sent from a flaky phone network.
 *
 * A key belongs to one form and one content: retrying the same content (after a timeout, a dropped
 * connection or a 5xx, even after the app was killed) sends the same key, so the server makes the
 * record once; changing the content makes a new key. The key is forgotten once the server confirmed.
 */
const PREFIX = 'kitchen.idem.';

function fingerprint(payload) {
  const text = JSON.stringify(payload, Object.keys(flatten(payload)).sort());
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${text.length}-${hash.toString(16)}`;
}

function flatten(value, out) {
  const keys = out || {};
  if (value && typeof value === 'object') {
    Object.keys(value).forEach((key) => {
      keys[key] = true;
      flatten(value[key], keys);
    });
  }
  return keys;
}

function newKey() {
  const random = () => Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return `${Date.now().toString(16)}-${random()}-${random()}-${random()}`;
}

/** The key to send for this form and payload: the stored one if the payload is unchanged. */
function keyFor(form, payload) {
  const print = fingerprint(payload);
  const stored = wx.getStorageSync(PREFIX + form);
  if (stored && stored.fingerprint === print) return stored.key;
  const key = newKey();
  wx.setStorageSync(PREFIX + form, { fingerprint: print, key });
  return key;
}

/** The server has answered for good (created, or refused the content): the next submit is a new one. */
function settle(form) {
  wx.removeStorageSync(PREFIX + form);
}

module.exports = { keyFor, settle, fingerprint };
