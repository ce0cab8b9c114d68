/** Binding: type or scan an invite, choose the class, wait for approval. */
const {
  boot, openPage, text, tap, type, pick, find, query, fixture, env,
} = require('../helpers/mp');

const BIND = 'pages/accounts/bind/index';

describe('bind page', () => {
  test('a new parent logs in silently, types the short code, fixes the class and waits for approval', async () => {
    const { server, wx } = boot();
    server.serve('auth_wechat_new_user');
    server.serve('me_new_user');
    // First start on 今日厨房: wx.login, our own session token; no binding yet, so the bind page opens.
    await openPage('pages/records/today/index');
    expect(server.sent('/api/v1/auth/wechat', 'POST')[0].data).toEqual({ code: 'wx-login-code-1' });
    expect(wx.__state.navigations.pop()).toEqual({ kind: 'reLaunch', url: '/pages/accounts/bind/index', delta: null });
    const page = await openPage(BIND);
    // The token is kept: no second login.
    expect(server.sent('/api/v1/auth/wechat')).toHaveLength(1);
    expect(server.sent('/api/v1/me')[0].header.Authorization).toBe('Bearer test-session-token');
    expect(text(page)).toContain('绑定孩子的学校');

    await type(page, '#code', 'k7m3-q9xp');
    server.serve('invite_lookup', { times: 1 });
    await tap(page, '#lookup');
    expect(server.sent('/api/v1/bindings/lookup', 'POST')[0].data).toEqual({ code: 'K7M3Q9XP' });
    expect(text(find(page, '#invite-school'))).toContain('西湖实验小学');
    expect(text(find(page, '#invite-school'))).toContain('以家长身份申请绑定');
    await type(page, '#name', '王芳');
    server.serve('redeem_details_missing', { times: 1 });
    await tap(page, '#submit');
    const firstTry = server.sent('/api/v1/bindings/redeem', 'POST')[0];
    expect(firstTry.data).toEqual({ code: 'K7M3Q9XP', applicant_name: '王芳', relation: null, class_id: null });
    expect(firstTry.header.Authorization).toBe('Bearer test-session-token');
    // The server's Chinese messages, under the pickers they are about.
    expect(text(find(page, '#class-error'))).toBe('请选择孩子的班级');
    expect(text(find(page, '#relation-error'))).toBe('请选择您与孩子的关系');

    // The class comes from the school's own list.
    const classes = fixture('invite_lookup').body.classes;
    const third = classes.findIndex((c) => c.name === '三年级二班');
    await pick(page, '#class-picker', third);
    expect(text(find(page, '#class-value'))).toBe('三年级二班');
    expect(query(page, '#class-error')).toBeUndefined();
    await pick(page, '#relation-picker', 1);
    expect(text(find(page, '#relation-value'))).toBe('母亲');
    server.serve('redeem_parent', { times: 1 });
    server.serve('me_pending', { times: 1 });
    await tap(page, '#submit');
    expect(server.sent('/api/v1/bindings/redeem', 'POST')[1].data).toEqual({
      code: 'K7M3Q9XP', applicant_name: '王芳', relation: 'mother', class_id: classes[third].id,
    });
    expect(text(find(page, '#pending'))).toContain('等待学校审核');
    expect(text(find(page, '#pending'))).toContain('西湖实验小学 · 家长 · 三年级二班');
    expect(wx.__state.toasts).toContain('已提交，等待审核');

    // Still pending, then approved by the committee.
    server.serve('me_pending', { times: 1 });
    await tap(page, '#refresh');
    expect(wx.__state.toasts).toContain('仍在审核中');
    server.serve('me_approved', { times: 1 });
    await tap(page, '#refresh');
    expect(wx.__state.toasts).toContain('审核已通过');
    expect(env.wx.__state.navigations.pop()).toEqual({ kind: 'switchTab', url: '/pages/records/today/index', delta: null });
    expect(server.unmatched()).toEqual([]);
  });

  test('an invite for one class comes with that class chosen', async () => {
    const { server } = boot();
    server.serve('auth_wechat_new_user');
    server.serve('me_new_user');
    const page = await openPage(BIND);
    await type(page, '#code', 'K7M3Q9XP');
    const lookup = server.serve('invite_lookup', { times: 1 });
    const [only] = lookup.body.classes.filter((c) => c.name === '一年级二班');
    Object.assign(lookup.body, { class_id: only.id, classes: [only] });
    await tap(page, '#lookup');
    expect(text(find(page, '#class-value'))).toBe('一年级二班');
  });

  test('opening the invite code prefills the scanned scene and a wrong code shows the server message', async () => {
    const { server } = boot({ launch: { path: BIND, query: { scene: 'inviteScene0000000000001' } } });
    server.serve('auth_wechat_new_user');
    server.serve('me_new_user');
    server.serve('invite_lookup', { times: 1 });
    const page = await openPage(BIND, { scene: 'inviteScene0000000000001' });
    // The scanned scene is looked up at once, as it is (case matters), not upper-cased like a typed code.
    expect(server.sent('/api/v1/bindings/lookup')[0].data).toEqual({ code: 'inviteScene0000000000001' });
    expect(text(page)).toContain('已识别邀请码');

    await type(page, '#name', '李强');
    await pick(page, '#relation-picker', 2);
    await pick(page, '#class-picker', 0);
    server.serve('redeem_parent_scene', { times: 1 });
    server.serve('me_pending', { times: 1 });
    await tap(page, '#submit');
    const classId = fixture('invite_lookup').body.classes[0].id;
    expect(server.sent('/api/v1/bindings/redeem')[0].data).toEqual({
      code: 'inviteScene0000000000001', applicant_name: '李强', relation: 'paternal_grandfather', class_id: classId,
    });
    expect(text(page)).toContain('等待学校审核');

    await tap(page, '#bind-another');
    await type(page, '#code', 'zzzzzzzz');
    server.serve('invite_lookup_not_found', { times: 1 });
    await tap(page, '#lookup');
    expect(text(page)).toContain('邀请码不存在，请核对后重新输入');
  });

  test('scanning inside the app reads the scene from the code path', async () => {
    const { server, wx } = boot();
    server.serve('auth_wechat_new_user');
    server.serve('me_new_user');
    const page = await openPage(BIND);
    wx.__state.scanResult = { scanType: 'QR_CODE', result: 'https://example.com/not-ours' };
    await tap(page, '#scan');
    expect(wx.__state.toasts).toContain('这不是学校的邀请码');
    wx.__state.scanResult = { scanType: 'WX_CODE', path: 'pages/accounts/bind/index?scene=inviteScene0000000000001' };
    server.serve('invite_lookup', { times: 1 });
    await tap(page, '#scan');
    expect(page.data.codeText).toBe('inviteScene0000000000001');
    expect(text(page)).toContain('已识别邀请码');
    expect(text(find(page, '#invite-school'))).toContain('西湖实验小学');
  });
});
