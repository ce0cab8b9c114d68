/** The request layer, idempotency keys, Shanghai time, the record rules and invite parsing. */
const { boot, signIn, fixture, flush } = require('./helpers/mp');

describe('utils/request', () => {
  test('a 401 logs in again through wx.login once and repeats the request', async () => {
    const { server, wx } = boot();
    wx.setStorageSync('kitchen.session', { token: 'revoked-token', user: null });
    // The newest route answers first: the stale token meets the 401 before the recorded /me.
    server.serve('me_parent', { times: 1 });
    server.serve('auth_wechat_parent', { times: 1 });
    server.serve('me_unauthenticated', { times: 1 });
    const http = require('../utils/request');
    const user = await http.get('/me');
    expect(user.nickname).toBe('西湖实验小学家长');
    const calls = server.requests.map((r) => `${r.method} ${r.path} ${r.header.Authorization || '-'}`);
    expect(calls).toEqual([
      'GET /api/v1/me Bearer revoked-token',
      'POST /api/v1/auth/wechat -',
      'GET /api/v1/me Bearer test-session-token',
    ]);
    expect(wx.__state.loginCodes).toBe(1);
    expect(wx.__state.toasts).toEqual([]);
  });

  test('a second 401 is not retried again; the server\'s message is shown', async () => {
    const { server, wx } = boot();
    signIn('auth_wechat_parent');
    server.serve('me_unauthenticated');
    server.serve('auth_wechat_parent');
    const http = require('../utils/request');
    await expect(http.get('/me')).rejects.toMatchObject({ status: 401, code: 'unauthenticated' });
    expect(server.sent('/api/v1/me')).toHaveLength(2);
    expect(wx.__state.toasts).toEqual([fixture('me_unauthenticated').body.error.message]);
  });

  test('errors carry the code, the Chinese message and field details; silent calls show nothing', async () => {
    const { server, wx } = boot();
    signIn('auth_wechat_new_user');
    server.serve('redeem_details_missing');
    const http = require('../utils/request');
    const err = await http.post('/bindings/redeem', { code: 'K7M3Q9XP' }, { silent: true }).catch((e) => e);
    expect(err).toMatchObject({
      status: 422, code: 'parent_details_required', message: '请从学校的班级列表中选择孩子的班级，并选择您与孩子的关系', retryable: false,
    });
    expect(err.fields).toEqual({ class_id: ['请选择孩子的班级'], relation: ['请选择您与孩子的关系'] });
    expect(wx.__state.toasts).toEqual([]);
    server.serve('school_2_forbidden');
    await http.get('/schools/2').catch(() => null);
    // Another school's data: the server's words, as they are.
    expect(wx.__state.toasts).toEqual([fixture('school_2_forbidden').body.error.message]);
    wx.__state.toasts.length = 0;
    server.fail('GET', '/api/v1/schools', { times: 1 });
    const network = await http.get('/schools').catch((e) => e);
    expect(network).toMatchObject({ status: 0, code: 'network_error', retryable: true });
    expect(wx.__state.toasts).toEqual(['网络连接失败，请检查网络后重试']);
    server.fail('GET', '/api/v1/schools', { status: 502, times: 1 });
    await http.get('/schools').catch(() => null);
    expect(wx.__state.toasts.pop()).toBe('服务器开小差了（502），请稍后重试');
  });

  test('a binding still awaiting approval answers its own code and says so', async () => {
    const { server, wx } = boot();
    signIn('auth_wechat_new_user');
    server.serve('school_1_pending');
    const http = require('../utils/request');
    const err = await http.get('/schools/1').catch((e) => e);
    expect(err).toMatchObject({ status: 403, code: 'membership_pending', message: '等待学校审核' });
    expect(wx.__state.toasts).toEqual(['等待学校审核']);
  });

  test('concurrent requests without a token share one login', async () => {
    const { server, wx } = boot();
    server.serve('auth_wechat_parent');
    server.serve('schools_parent');
    server.serve('school_1');
    const http = require('../utils/request');
    await Promise.all([http.get('/schools'), http.get('/schools/1')]);
    expect(server.sent('/api/v1/auth/wechat')).toHaveLength(1);
    expect(wx.__state.loginCodes).toBe(1);
  });

  test('the develop version can log in as a seeded demo user (make demo), never a release', async () => {
    const { server, wx } = boot();
    const config = require('../config');
    config.DEV_LOGIN_OPENID = 'demo-parent-1';
    // POST /auth/dev-login answers the same LoginOut as /auth/wechat (development mode only).
    server.serve('auth_wechat_parent', { path: '/api/v1/auth/dev-login' });
    const http = require('../utils/request');
    const login = await http.login();
    expect(server.sent('/api/v1/auth/dev-login', 'POST')[0].data).toEqual({ openid: 'demo-parent-1' });
    expect(wx.__state.loginCodes).toBe(0);
    expect(login.user.nickname).toBe('西湖实验小学家长');
    wx.__state.envVersion = 'release';
    expect(config.devLoginOpenid()).toBe('');
    config.DEV_LOGIN_OPENID = '';
  });

  test('the query string and the base URL come from config', () => {
    boot();
    const http = require('../utils/request');
    expect(http.buildUrl('/canteens/1/receivings', { from: '2026-03-04', to: '2026-03-11', q: null }))
      .toBe('http://127.0.0.1:5000/api/v1/canteens/1/receivings?from=2026-03-04&to=2026-03-11');
    global.wx.__state.envVersion = 'release';
    expect(() => http.buildUrl('/me')).toThrow('未配置服务器地址，请联系管理员');
  });
});

describe('utils/idempotency', () => {
  test('the same content keeps its key until settled; other content gets a new one', () => {
    boot();
    const idempotency = require('../utils/idempotency');
    const first = idempotency.keyFor('sample', { dish_id: 5, weight_g: 125, photos: [1] });
    expect(first).toMatch(/^[0-9a-f]+-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/);
    expect(idempotency.keyFor('sample', { weight_g: 125, dish_id: 5, photos: [1] })).toBe(first);
    const changed = idempotency.keyFor('sample', { dish_id: 5, weight_g: 130, photos: [1] });
    expect(changed).not.toBe(first);
    idempotency.settle('sample');
    expect(idempotency.keyFor('sample', { dish_id: 5, weight_g: 130, photos: [1] })).not.toBe(changed);
  });
});

describe('utils/time', () => {
  test('UTC from the API shows in Shanghai whatever the phone\'s zone', () => {
    const time = require('../utils/time');
    expect(time.dateTime('2026-03-11T02:00:00+00:00')).toBe('2026-03-11 10:00');
    expect(time.dateTime('2026-03-10T16:30:00Z')).toBe('2026-03-11 00:30');
    expect(time.hm('2026-03-11T13:30:00+08:00')).toBe('13:30');
    expect(time.today()).toBe('2026-03-11');
    expect(time.dayLabel('2026-03-09')).toBe('3月9日 周一');
    expect(time.shiftDay('2026-03-01', -1)).toBe('2026-02-28');
    expect(time.toIso('2026-03-11', '09:55')).toBe('2026-03-11T01:55:00Z');
    expect(time.hoursBetween('2026-03-09T11:50:00+08:00', '2026-03-11T11:49:00+08:00')).toBeCloseTo(47.983, 3);
  });
});

describe('utils/rules mirror the server', () => {
  const rules = require('../utils/rules');
  const base = { dish_id: 5, weight_g: '125', fridge_temperature_c: '4', sealed: true, sampler_name: '李秀英' };

  test('125 g passes, 124 g is refused with the server\'s message', () => {
    expect(rules.checkSample(base)).toEqual({});
    expect(rules.checkSample(Object.assign({}, base, { weight_g: '124' })).weight_g)
      .toBe(fixture('sample_weight_too_low').body.error.message);
    expect(rules.checkSample(Object.assign({}, base, { fridge_temperature_c: '8.1' })).fridge_temperature_c)
      .toBe('留样冰箱温度应在 0–8°C 之间');
    expect(rules.checkSample(Object.assign({}, base, { sealed: false })).sealed).toBe('留样须密封保存');
  });

  test('a disposal at 47 h 59 min is refused, at 48 h it is allowed', () => {
    expect(rules.checkDisposal('2026-03-09T11:50:00+08:00', '2026-03-11T11:49:00+08:00'))
      .toBe('留样须保存 48 小时以上，2026-03-11 11:50 后才能处置');
    expect(rules.checkDisposal('2026-03-09T11:50:00+08:00', '2026-03-11T11:50:00+08:00')).toBe('');
    // The server agrees on the recorded fixtures: the same sample at 10:00 on Wednesday is too early.
    expect(fixture('disposal_too_early').status).toBe(422);
    expect(fixture('disposal_create').status).toBe(201);
  });

  test('disinfection minimums and expired deliveries', () => {
    const steam = { meal: 'lunch', target: 'tableware', method: 'steam', temperature_c: '100', minutes: '9.9', item_count: '10', operator_name: '赵' };
    expect(rules.checkDisinfection(steam)).toEqual({ minutes: '消毒时长不足：至少 10 分钟' });
    expect(fixture('disinfection_insufficient').body.error.message).toBe('消毒时长不足：至少 10 分钟');
    expect(rules.checkDisinfection(Object.assign({}, steam, { minutes: '10' }))).toEqual({});
    expect(rules.expiryOf({ production_date: '2026-03-10', shelf_life_days: '3' })).toBe('2026-03-12');
    const milk = { ingredient: '牛奶', category: 'dairy', batch: 'N', quantity: '1', unit: '箱', production_date: '2026-03-01', shelf_life_days: '7' };
    expect(rules.checkItem(milk, '2026-03-07')).toEqual({});
    expect(rules.checkItem(milk, '2026-03-08').shelf_life_days).toBe(fixture('receiving_item_expired').body.error.message);
    expect(rules.checkItem({ ingredient: '西兰花', category: 'vegetable', batch: 'X', quantity: '8', unit: 'kg' }, '2026-03-11')).toEqual({});
  });
});

describe('utils/invite', () => {
  test('scenes from launch options and scans; typed codes normalised', () => {
    const invite = require('../utils/invite');
    expect(invite.sceneFromLaunch({ query: { scene: 'inviteScene%3D1' } })).toBe('inviteScene=1');
    expect(invite.sceneFromScan({ path: 'pages/accounts/bind/index?scene=abc123' })).toBe('abc123');
    expect(invite.sceneFromScan({ result: 'https://example.com/' })).toBe('');
    expect(invite.normaliseShortCode(' k7m3-q9xp ')).toBe('K7M3Q9XP');
  });
});

test('the guard sends a user without an active binding to the bind page', async () => {
  const { server, wx } = boot();
  signIn('auth_wechat_new_user');
  server.serve('me_pending');
  const guard = require('../utils/guard');
  await expect(guard.ready()).rejects.toBeInstanceOf(guard.NotBound);
  await flush();
  expect(wx.__state.navigations).toEqual([{ kind: 'reLaunch', url: '/pages/accounts/bind/index', delta: null }]);
});

describe('services/violations rows', () => {
  test('已超期 is the server\'s flag (a fix waiting for review past its due time is not overdue); a region\'s rows name the school', () => {
    boot();
    const { rows } = require('../services/violations');
    const past = '2026-03-01T10:00:00+08:00';
    const items = [
      { id: 1, status: 'rectifying', overdue: true, due_at: past, kind_label: '未佩戴口罩', created_at: past, school_name: '西湖实验小学' },
      { id: 2, status: 'submitted', overdue: false, due_at: past, kind_label: '发现鼠患', created_at: past, school_name: '文三路中学' },
    ];
    expect(rows(items).map((r) => r.meta)).toEqual(['未佩戴口罩 · 2026-03-01 10:00 · 已超期', '发现鼠患 · 2026-03-01 10:00']);
    expect(rows(items, { school: true }).map((r) => r.meta)).toEqual([
      '西湖实验小学 · 未佩戴口罩 · 2026-03-01 10:00 · 已超期', '文三路中学 · 发现鼠患 · 2026-03-01 10:00']);
  });
});

describe('services/violations times', () => {
  test('发生时间 shows only where it reads differently from 发现时间 (the deadline runs from it)', () => {
    boot();
    const { times } = require('../services/violations');
    expect(times({ occurred_at: '2026-03-11T10:00:20+08:00', created_at: '2026-03-11T10:00:50+08:00' }))
      .toEqual({ foundText: '2026-03-11 10:00', occurredText: '' });
    // A record rule's finding: the sample deadline passed at 13:30, the rule ran at 13:35.
    expect(times({ occurred_at: '2026-03-11T05:30:00Z', created_at: '2026-03-11T05:35:00Z' }))
      .toEqual({ foundText: '2026-03-11 13:35', occurredText: '2026-03-11 13:30' });
  });
});
