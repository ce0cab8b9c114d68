/**
 * A fake API behind the mocked wx.request / wx.uploadFile. It answers only with fixtures recorded from
 * the real API (test/fixtures/*.json, written by tests/contract/test_miniprogram_fixtures.py), and records
 * every request so a test can assert what the app sent.
 */
const fs = require('fs');
const path = require('path');

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const cache = {};

function fixture(name) {
  if (!cache[name]) {
    const file = path.join(FIXTURES, `${name}.json`);
    if (!fs.existsSync(file)) throw new Error(`fixture ${name} is missing: run UPDATE_CONTRACT=1 pytest tests/contract`);
    cache[name] = JSON.parse(fs.readFileSync(file, 'utf8'));
  }
  // Pages may change what they get; every use starts from the recorded answer.
  return JSON.parse(JSON.stringify(cache[name]));
}

function splitUrl(url) {
  const parsed = new URL(url, 'http://api.test');
  const query = {};
  parsed.searchParams.forEach((value, key) => {
    query[key] = value;
  });
  return { path: parsed.pathname, query };
}

function sameQuery(a, b) {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((key, i) => key === kb[i] && String(a[key]) === String(b[key]));
}

class FixtureServer {
  constructor() {
    this.routes = [];
    this.requests = [];
  }

  /**
   * Answer the fixture's request with its recorded response. Options: times (how many answers, default
   * unlimited), path (answer a different concrete path, e.g. an id the page builds), query (match
   * these query parameters instead of the recorded ones, null = any).
   */
  serve(name, options = {}) {
    const fx = fixture(name);
    const recorded = splitUrl(fx.request.path);
    this.routes.unshift({
      name,
      method: fx.request.method,
      path: options.path || recorded.path,
      query: options.query === undefined ? recorded.query : options.query,
      times: options.times === undefined ? Infinity : options.times,
      status: fx.status,
      header: fx.headers || {},
      body: fx.body,
    });
    return fx;
  }

  /** Fail the next matching request(s) without an answer (network) or with a bare status. */
  fail(method, urlPath, options = {}) {
    this.routes.unshift({
      name: `fail ${method} ${urlPath}`, method, path: urlPath, query: null, times: options.times || 1,
      network: !options.status, status: options.status, body: options.body || '',
    });
  }

  handle(method, url, data, header) {
    const { path: urlPath, query } = splitUrl(url);
    const request = { method, url, path: urlPath, query, data, header: header || {} };
    this.requests.push(request);
    const route = this.routes.find((r) => r.times > 0 && r.method === method && r.path === urlPath
      && (r.query === null || sameQuery(r.query, query)));
    if (!route) {
      request.unmatched = true;
      return { statusCode: 599, body: { error: { code: 'no_fixture', message: `测试未提供 ${method} ${urlPath}` } } };
    }
    route.times -= 1;
    request.fixture = route.name;
    if (route.network) return { network: true };
    return { statusCode: route.status, header: route.header, body: JSON.parse(JSON.stringify(route.body)) };
  }

  /** Requests sent to a path (optionally with a method). */
  sent(urlPath, method) {
    return this.requests.filter((r) => r.path === urlPath && (!method || r.method === method));
  }

  unmatched() {
    return this.requests.filter((r) => r.unmatched);
  }
}

module.exports = { FixtureServer, fixture };
