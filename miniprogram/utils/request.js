/**
 * The one way the mini-program talks to the API.
 *
 * - base URL from config.js, paths under /api/v1;
 * - the session token from storage as a Bearer header;
 * - on 401, one silent re-login through wx.login and one retry of the request;
 * - errors become ApiError carrying the server's code and its Chinese message, which is shown to the
 *   user (a toast) unless the caller shows it itself (`silent: true`, e.g. inline under a form field);
 * - `idempotencyKey` is sent as the Idempotency-Key header so a retried create never makes two records.
 * - `getPage` reads a list route's page with its total (`X-Total-Count`): {items, total}.
 */
const config = require('../config');
const session = require('./session');

const API_PREFIX = '/api/v1';
const NETWORK_MESSAGE = '网络连接失败，请检查网络后重试';

class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details || {};
  }

  /** A network failure or a 5xx: the server may or may not have done it, so a retry must reuse the key. */
  get retryable() {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }

  /** Per-field messages of a 422, e.g. {weight_grams: ['不能小于 125']}. */
  get fields() {
    return (this.details && this.details.fields) || {};
  }
}

function buildUrl(path, query) {
  const base = config.apiBase();
  if (!base) throw new ApiError(0, 'no_api_base', '未配置服务器地址，请联系管理员');
  let url = base + (path.indexOf('/api/') === 0 ? path : API_PREFIX + path);
  const pairs = Object.keys(query || {})
    .filter((key) => query[key] !== undefined && query[key] !== null && query[key] !== '')
    .map((key) => `${encodeURIComponent(key)}=${encodeURIComponent(query[key])}`);
  if (pairs.length) url += (url.indexOf('?') >= 0 ? '&' : '?') + pairs.join('&');
  return url;
}

function errorFrom(statusCode, body) {
  const error = body && typeof body === 'object' && body.error;
  if (error && error.message) return new ApiError(statusCode, error.code, error.message, error.details);
  if (statusCode === 413) return new ApiError(413, 'too_large', '文件太大，请压缩后重试');
  if (statusCode >= 500) return new ApiError(statusCode, 'server_error', `服务器开小差了（${statusCode}），请稍后重试`);
  return new ApiError(statusCode, 'http_error', `请求失败（${statusCode}）`);
}

function showError(err) {
  wx.showToast({ title: err.message, icon: 'none', duration: 3000 });
}

let loginInFlight = null;

/** wx.login → POST /auth/wechat (or the development-only dev login) → our own session token. */
function login() {
  if (loginInFlight) return loginInFlight;
  const devOpenid = config.devLoginOpenid();
  loginInFlight = new Promise((resolve, reject) => {
    if (devOpenid) {
      resolve({ path: '/auth/dev-login', data: { openid: devOpenid } });
      return;
    }
    wx.login({
      success: (res) => (res.code ? resolve({ path: '/auth/wechat', data: { code: res.code } })
        : reject(new ApiError(0, 'wx_login_failed', '微信登录失败，请重试'))),
      fail: () => reject(new ApiError(0, 'wx_login_failed', '微信登录失败，请重试')),
    });
  })
    .then((call) => send({ method: 'POST', path: call.path, data: call.data, auth: false, silent: true }))
    .then((result) => {
      session.save(result);
      return result;
    })
    .finally(() => {
      loginInFlight = null;
    });
  return loginInFlight;
}

function authHeader(options) {
  const header = Object.assign({}, options.header || {});
  if (options.auth !== false && session.token()) header.Authorization = `Bearer ${session.token()}`;
  if (options.idempotencyKey) header['Idempotency-Key'] = options.idempotencyKey;
  return header;
}

function transport(options) {
  return new Promise((resolve, reject) => {
    let url;
    try {
      url = buildUrl(options.path, options.query);
    } catch (err) {
      reject(err);
      return;
    }
    const header = authHeader(options);
    const done = (res) => {
      let body = res.data;
      if (typeof body === 'string' && body) {
        try {
          body = JSON.parse(body);
        } catch (err) {
          // A proxy's HTML error page: keep the status, drop the body.
          body = null;
        }
      }
      resolve({ statusCode: res.statusCode, body, header: res.header || {} });
    };
    const fail = (res) => {
      const timeout = res && res.errMsg && res.errMsg.indexOf('timeout') >= 0;
      reject(new ApiError(0, timeout ? 'timeout' : 'network_error', timeout ? '网络超时，请稍后重试' : NETWORK_MESSAGE));
    };
    if (options.filePath) {
      wx.uploadFile({
        url, filePath: options.filePath, name: options.name || 'file', formData: options.formData || {}, header,
        timeout: config.UPLOAD_TIMEOUT_MS, success: done, fail,
      });
    } else {
      wx.request({
        url, method: options.method || 'GET', data: options.data, header, timeout: config.REQUEST_TIMEOUT_MS,
        success: done, fail,
      });
    }
  });
}

/**
 * How many rows a list route says match its filters (`X-Total-Count`; header names may arrive in any case);
 * null when it does not say.
 */
function totalOf(header) {
  const name = Object.keys(header || {}).find((key) => key.toLowerCase() === 'x-total-count');
  const total = name ? Number(header[name]) : NaN;
  return Number.isFinite(total) ? total : null;
}

/** One request, with the 401 → re-login → retry-once rule; resolves with the response body. */
function send(options) {
  return transport(options).then(({ statusCode, body, header }) => {
    if (statusCode >= 200 && statusCode < 300) {
      const answer = body === '' ? null : body;
      return options.withTotal ? { items: answer || [], total: totalOf(header) } : answer;
    }
    if (statusCode === 401 && options.auth !== false && !options.retried) {
      session.clear();
      return login().then(() => send(Object.assign({}, options, { retried: true })));
    }
    throw errorFrom(statusCode, body);
  }).catch((err) => {
    const apiError = err instanceof ApiError ? err : new ApiError(0, 'client_error', err.message || NETWORK_MESSAGE);
    if (!options.silent && !apiError.shown) {
      apiError.shown = true;
      showError(apiError);
    }
    throw apiError;
  });
}

function request(options) {
  if (options.auth !== false && !session.token()) {
    // No token yet (first start, expired): log in before the call instead of earning a 401 first.
    return login().then(() => send(options), (err) => {
      if (!options.silent) showError(err);
      err.shown = true;
      throw err;
    });
  }
  return send(options);
}

module.exports = {
  ApiError,
  request,
  login,
  buildUrl,
  get: (path, query, extra) => request(Object.assign({ method: 'GET', path, query }, extra)),
  /** A page of a list route with its total: resolves with {items, total} (total from X-Total-Count). */
  getPage: (path, query, extra) => request(Object.assign({ method: 'GET', path, query, withTotal: true }, extra)),
  post: (path, data, extra) => request(Object.assign({ method: 'POST', path, data }, extra)),
  put: (path, data, extra) => request(Object.assign({ method: 'PUT', path, data }, extra)),
  patch: (path, data, extra) => request(Object.assign({ method: 'PATCH', path, data }, extra)),
  del: (path, extra) => request(Object.assign({ method: 'DELETE', path }, extra)),
  upload: (path, filePath, extra) => request(Object.assign({ method: 'POST', path, filePath }, extra)),
};
