/** School staff and the committee: binding approvals and invites; everyone: 我的. */
const {
  as, boot, signIn, openPage, text, tap, pick, find, fixture, query,
} = require('../helpers/mp');

describe('binding approvals', () => {
  test('the committee approves one parent and rejects another with a reason', async () => {
    const { server, wx } = as('committee');
    server.serve('memberships_pending', { query: { status: 'pending' } });
    const page = await openPage('pages/accounts/approvals/index');
    const pending = fixture('memberships_pending').body;
    const [second, first, seeded] = pending;  // newest first; the demo seed's parent has waited longest
    expect(text(find(page, `#request-${first.id}`))).toContain('王芳 （孩子的母亲）');
    expect(text(find(page, `#request-${first.id}`))).toContain('孩子班级：三年级二班');
    expect(text(find(page, `#request-${first.id}`))).toContain('申请时间：2026-03-11 10:00');
    expect(text(find(page, `#request-${second.id}`))).toContain('李强 （孩子的爷爷）');
    expect(text(find(page, `#request-${second.id}`))).toContain('孩子班级：一年级一班');

    server.serve('membership_approve', { times: 1 });
    await tap(page, `#approve-${first.id}`);
    expect(server.sent(`/api/v1/memberships/${first.id}/decision`, 'POST')[0].data).toEqual({ approve: true, reason: null });
    expect(wx.__state.toasts).toContain('已通过');
    expect(query(page, `#request-${first.id}`)).toBeUndefined();

    wx.__state.modalAnswers.push({ confirm: true, content: '班级信息不符' });
    server.serve('membership_reject', { times: 1 });
    await tap(page, `#reject-${second.id}`);
    expect(server.sent(`/api/v1/memberships/${second.id}/decision`, 'POST')[0].data).toEqual({ approve: false, reason: '班级信息不符' });
    expect(query(page, `#request-${second.id}`)).toBeUndefined();
    expect(text(find(page, `#request-${seeded.id}`))).toContain('王小明妈妈 （孩子的母亲）');
  });

  test('a binding someone else decided first disappears with the server\'s message', async () => {
    const { server, wx } = as('committee');
    server.serve('memberships_pending', { query: { status: 'pending' } });
    const page = await openPage('pages/accounts/approvals/index');
    const first = fixture('memberships_pending').body[1];
    server.serve('membership_already_decided', { times: 1 });
    await tap(page, `#approve-${first.id}`);
    expect(wx.__state.toasts).toEqual(['该绑定申请已处理']);
    expect(query(page, `#request-${first.id}`)).toBeUndefined();
  });

  test('parents may not approve', async () => {
    const { server } = as('parent');
    const page = await openPage('pages/accounts/approvals/index');
    expect(text(page)).toContain('只有学校管理人员和家委会可以审核绑定');
    expect(server.unmatched()).toEqual([]);
  });
});

describe('invites', () => {
  test('staff create a parent invite, copy its short code, show its mini-program code and share it', async () => {
    const { server, wx } = as('staff');
    server.serve('invites_list');
    const page = await openPage('pages/accounts/invites/index');
    expect(query(page, '#role-picker')).toBeUndefined();
    expect(text(find(page, '#invite-1'))).toContain('K7M3 Q9XP · 家长');
    await pick(page, '#expiry-picker', 1);
    await pick(page, '#uses-picker', 0);
    server.serve('invite_create_parent', { times: 1 });
    await tap(page, '#create');
    expect(server.sent('/api/v1/schools/1/invites', 'POST')[0].data).toEqual({ role: 'parent', expires_in_hours: 168, max_uses: 50 });
    expect(text(find(page, '#short-code'))).toBe('K7M3 Q9XP');
    expect(text(find(page, '#created'))).toContain('家长邀请 · 2026-03-18 10:00 前有效 · 可使用 50 次');
    await tap(page, '#copy');
    expect(wx.__state.clipboard).toEqual(['K7M3Q9XP']);

    server.serve('invite_wxacode', { query: null });
    await tap(page, '#show-code');
    const download = server.sent('/api/v1/invites/1/wxacode')[0];
    expect(download.query).toEqual({ env_version: 'develop' });
    expect(download.header.Authorization).toBe('Bearer test-session-token');
    expect(find(page, '#code-image')).toBeTruthy();

    const share = page.instance.onShareAppMessage();
    expect(share).toEqual({
      title: '邀请您绑定西湖实验小学，查看孩子的食堂', path: '/pages/accounts/bind/index?scene=inviteScene0000000000001',
    });
  });

  test('the principal may invite staff roles too', async () => {
    const env = boot();
    signIn('auth_wechat_principal');
    env.server.serve('me_principal');
    env.server.serve('invites_list');
    const page = await openPage('pages/accounts/invites/index');
    await pick(page, '#role-picker', 2);
    expect(text(find(page, '#role-value'))).toBe('食堂负责人');
  });
});

describe('我的', () => {
  test('a parent sees the binding and only what parents use', async () => {
    const { server } = as('parent');
    const page = await openPage('pages/accounts/me/index');
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#nickname'))).toBe('西湖实验小学家长');
    expect(text(find(page, '#membership-1'))).toContain('西湖实验小学 家长 · 三年级二班 当前');
    expect(find(page, '#menu-meals')).toBeTruthy();
    ['#menu-inbox', '#menu-approvals', '#menu-invites', '#menu-records'].forEach((selector) => {
      expect(query(page, selector)).toBeUndefined();
    });
  });

  test('staff see their work entries; a phone number is bound through getPhoneNumber', async () => {
    const { server, wx } = as('staff');
    const page = await openPage('pages/accounts/me/index');
    const entries = ['#menu-inbox', '#menu-approvals', '#menu-invites', '#menu-records', '#menu-meals'];
    entries.forEach((selector) => expect(find(page, selector)).toBeTruthy());
    expect(text(find(page, '#phone-state'))).toBe('未绑定手机号');
    server.serve('phone_bind', { times: 1 });
    await page.instance.onPhone({ detail: { code: 'phone-code-1' } });
    expect(server.sent('/api/v1/me/phone', 'POST')[0].data).toEqual({ code: 'phone-code-1' });
    expect(wx.__state.toasts).toEqual([`已绑定 ${fixture('phone_bind').body.phone}`]);
    await tap(page, '#menu-approvals');
    expect(wx.__state.navigations.pop().url).toBe('/pages/accounts/approvals/index');
  });

  test('the entries follow what /me says the user may do in the school, not role names', async () => {
    const { server } = boot();
    signIn('auth_wechat_staff');
    const me = server.serve('me_staff');
    const allowed = me.body.capabilities.schools['1'];
    me.body.capabilities.schools['1'] = allowed.filter((action) => ['approve.parent', 'records.write'].indexOf(action) < 0);
    const page = await openPage('pages/accounts/me/index');
    expect(find(page, '#menu-inbox')).toBeTruthy();
    expect(find(page, '#menu-invites')).toBeTruthy();
    expect(query(page, '#menu-approvals')).toBeUndefined();
    expect(query(page, '#menu-records')).toBeUndefined();
  });

  test('退出所有设备 ends every session after a warning; a failure says the sessions still work', async () => {
    const { server, wx } = as('manager');
    const page = await openPage('pages/accounts/me/index');
    wx.__state.modalAnswers.push({ confirm: false });
    await tap(page, '#logout-all');
    expect(wx.__state.modals.pop().content).toContain('所有手机和电脑');
    expect(server.sent('/api/v1/auth/logout-all', 'POST')).toEqual([]);

    server.fail('POST', '/api/v1/auth/logout-all');
    await tap(page, '#logout-all');
    expect(wx.__state.toasts.pop()).toMatch(/网络/);
    expect(wx.getStorageSync('kitchen.session').token).toBeTruthy();

    server.serve('logout_all', { times: 1 });
    await tap(page, '#logout-all');
    expect(wx.__state.toasts.pop()).toBe(`已退出 ${fixture('logout_all').body.revoked} 处登录`);
    expect(wx.getStorageSync('kitchen.session')).toBeFalsy();
    expect(wx.__state.navigations.pop()).toMatchObject({ kind: 'reLaunch', url: '/pages/records/today/index' });
  });

  test('the entries that wait on the person say how much: unread notices, bindings to approve, orders to answer', async () => {
    const { server } = as('principal');
    server.serve('inbox_manager', { query: { limit: '1' } });
    server.serve('memberships_pending');
    server.serve('orders_school');
    const page = await openPage('pages/accounts/me/index');
    expect(text(find(page, '#menu-inbox'))).toContain(`${fixture('inbox_manager').body.unread} 条未读`);
    expect(text(find(page, '#menu-approvals'))).toContain(`${fixture('memberships_pending').body.length} 待审核`);
    const waiting = fixture('orders_school').body.filter((order) => order.status === 'issued').length;
    expect(waiting).toBeGreaterThan(0);
    expect(text(find(page, '#menu-orders'))).toContain(`${waiting} 待答复`);
    // Nothing waits behind 邀请家长.
    expect(text(find(page, '#menu-invites'))).toBe('邀请家长');
  });

  test('a count that cannot be read leaves its entry plain, without a message', async () => {
    const { server, wx } = as('principal');
    server.fail('GET', '/api/v1/inbox');
    server.serve('memberships_pending');
    const page = await openPage('pages/accounts/me/index');
    expect(text(find(page, '#menu-inbox'))).toBe('消息通知');
    expect(text(find(page, '#menu-approvals'))).toContain('待审核');
    expect(wx.__state.toasts).toEqual([]);
  });

  test('a declined phone authorisation says so', async () => {
    const { wx } = as('manager');
    const page = await openPage('pages/accounts/me/index');
    await page.instance.onPhone({ detail: { errMsg: 'getPhoneNumber:fail user deny' } });
    expect(wx.__state.toasts).toEqual(['未授权手机号']);
  });
});
