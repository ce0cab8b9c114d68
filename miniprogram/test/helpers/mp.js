/**
 * Loads the real app, pages and components into miniprogram-simulate and drives them like a person:
 * taps, typing, pickers. Pages are built with the Component constructor (a documented way to build a
 * page), so the simulator renders them; the page lifecycle (onLoad/onShow/...) is called the way the
 * WeChat runtime calls it.
 */
const path = require('path');
const fs = require('fs');
const simulate = require('miniprogram-simulate');
const { FixtureServer, fixture } = require('./server');
const { createWx } = require('./wx');

const ROOT = path.resolve(__dirname, '..', '..');
const APP_JSON = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'));
const BASE_WX = global.wx;

/** app.json's global components, resolved the way WeChat resolves npm paths (miniprogram_npm). */
function globalComponents() {
  const map = {};
  Object.keys(APP_JSON.usingComponents || {}).forEach((tag) => {
    const target = APP_JSON.usingComponents[tag];
    map[tag] = target.startsWith('/') ? target : `/miniprogram_npm/${target}`;
  });
  return map;
}

const COMPONENTS = globalComponents();

const env = { server: null, wx: null, app: null, pages: [] };

/** A fresh runtime: empty storage, a fixture server, the App instance created from app.js. */
function boot(options = {}) {
  env.server = new FixtureServer();
  env.wx = createWx(BASE_WX, env.server);
  global.wx = env.wx;
  env.pages = [];
  global.getCurrentPages = () => env.pages.map((p) => p.instance);
  let appDef = null;
  global.App = (def) => {
    appDef = def;
  };
  jest.isolateModules(() => {
    require(path.join(ROOT, 'app.js'));
  });
  env.app = Object.assign({}, appDef, { globalData: JSON.parse(JSON.stringify(appDef.globalData || {})) });
  global.getApp = () => env.app;
  if (env.app.onLaunch) env.app.onLaunch(Object.assign({ path: 'pages/records/today/index', query: {}, scene: 1001 }, options.launch || {}));
  return env;
}

/** Put a recorded login (token + user) into storage, as if the user had logged in before. */
function signIn(loginFixture) {
  const body = fixture(loginFixture).body;
  env.wx.setStorageSync('kitchen.session', { token: body.token, expiresAt: null, user: body.user });
  return body.user;
}

/** A fresh runtime signed in as the demo user of a role (auth_wechat_<role>), whose /me answers me_<role>. */
function as(role) {
  const runtime = boot();
  signIn(`auth_wechat_${role}`);
  runtime.server.serve(`me_${role}`);
  return runtime;
}

async function flush(rounds = 6) {
  for (let i = 0; i < rounds; i += 1) {
    await simulate.sleep(0);
  }
}

function mount(componentPath, properties) {
  const id = simulate.load(path.join(ROOT, componentPath), {
    rootPath: ROOT, usingComponents: Object.assign({}, COMPONENTS),
  });
  const comp = simulate.render(id, properties);
  comp.attach(document.createElement('parent-wrapper'));
  return comp;
}

/** Open a page the way navigateTo does: onLoad(query), onShow, onReady. */
async function openPage(route, query = {}) {
  const comp = mount(route);
  env.pages.push(comp);
  const page = comp.instance;
  page.route = route;
  page.options = query;
  if (page.onLoad) page.onLoad(query);
  if (page.onShow) page.onShow();
  if (page.onReady) page.onReady();
  await flush();
  return comp;
}

/** Render a component by itself with properties. */
async function renderComponent(componentPath, properties) {
  const comp = mount(componentPath, properties);
  await flush();
  return comp;
}

/** What a person reads on the screen: the text of every node, separated by spaces, whitespace collapsed. */
function text(node) {
  const parts = [];
  const walk = (dom) => {
    dom.childNodes.forEach((child) => {
      if (child.nodeType === 3) {
        const value = child.textContent.replace(/\s+/g, ' ').trim();
        if (value) parts.push(value);
      } else {
        walk(child);
      }
    });
  };
  walk(node.dom || node);
  return parts.join(' ');
}

/** Every shadow root below a rendered component: its own, and those of the components it contains. */
function shadowRoots(exparserNode) {
  const roots = [];
  const walk = (node) => {
    (node.childNodes || []).forEach((child) => {
      if (child.shadowRoot) {
        roots.push(child.shadowRoot);
        walk(child.shadowRoot);
      }
      walk(child);
    });
  };
  if (exparserNode.shadowRoot) {
    roots.push(exparserNode.shadowRoot);
    walk(exparserNode.shadowRoot);
  }
  return roots;
}

function wrap(comp, exparserNode) {
  if (exparserNode.__componentNode__) return exparserNode.__componentNode__;
  const Wrapper = Object.getPrototypeOf(comp.constructor.prototype).constructor === Object
    ? comp.constructor : Object.getPrototypeOf(comp.constructor.prototype).constructor;
  return new Wrapper(exparserNode);
}

/** The first element matching a selector anywhere on the page, inside its components too. */
function query(comp, selector) {
  for (const root of shadowRoots(comp._exparserNode)) {
    const found = root.querySelector(selector);
    if (found) return wrap(comp, found);
  }
  return undefined;
}

function find(comp, selector) {
  const node = query(comp, selector);
  if (!node) throw new Error(`nothing matches ${selector} in: ${text(comp).slice(0, 300)}`);
  return node;
}

function findAll(comp, selector) {
  return shadowRoots(comp._exparserNode).reduce((all, root) => all.concat(
    (root.querySelectorAll(selector) || []).map((node) => wrap(comp, node))), []);
}

/** Tap an element; on a van-button or van-cell, tap the element inside it that listens. */
async function tap(comp, selector, detail) {
  const node = typeof selector === 'string' ? find(comp, selector) : selector;
  const tag = node.dom.tagName.toLowerCase();
  let target = node;
  if (tag === 'van-button') target = node.querySelector('.van-button');
  else if (tag === 'van-cell') target = node.querySelector('.van-cell');
  else if (tag === 'van-tag') target = node.querySelector('.van-tag');
  target.dispatchEvent('tap', { detail: detail || {} });
  await flush();
}

/** Type into a van-field, an <input> or a <textarea>. */
async function type(comp, selector, value) {
  const node = find(comp, selector);
  const tag = node.dom.tagName.toLowerCase();
  let target = node;
  if (tag === 'van-field') {
    target = node.querySelectorAll('.van-field__control').find((n) => /WX-(INPUT|TEXTAREA)/.test(n.dom.tagName));
  }
  target.dispatchEvent('input', { detail: { value: String(value) } });
  await flush();
}

/** Type into several fields in turn: {selector: value}. */
async function fill(comp, values) {
  for (const selector of Object.keys(values)) await type(comp, selector, values[selector]);
}

/** Choose a value in a <picker> (index for selector pickers, 'YYYY-MM-DD' / 'HH:mm' for date/time ones). */
async function pick(comp, selector, value) {
  find(comp, selector).dispatchEvent('change', { detail: { value } });
  await flush();
}

/** Trigger any event with a detail on an element (e.g. a live-player's statechange). */
async function fire(comp, selector, eventName, detail) {
  find(comp, selector).dispatchEvent(eventName, { detail: detail || {} });
  await flush();
}

module.exports = {
  ROOT, env, boot, signIn, as, openPage, renderComponent, text, find, findAll, query, tap, type, fill, pick, fire, flush,
  fixture,
};
