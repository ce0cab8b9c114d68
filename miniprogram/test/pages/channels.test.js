/** 通知方式: WeChat messages, SMS (own number or the bound phone), the classes worth an SMS, quiet hours. */
const {
  as, openPage, text, tap, type, pick, fire, find, query, fixture,
} = require('../helpers/mp');

const URL = '/api/v1/me/notice-channels';

describe('我的 → 通知方式', () => {
  test('everyone finds it on 我的', async () => {
    const { wx } = as('parent');
    const page = await openPage('pages/accounts/me/index');
    expect(text(find(page, '#settings'))).toBe('设置 通知方式 微信消息、短信、免打扰时段');
    await tap(page, '#menu-channels');
    expect(wx.__state.navigations.pop().url).toBe('/pages/notices/channels/index');
  });
});

describe('通知方式', () => {
  test('the defaults; a staff member turns WeChat off, SMS on to their own number for every class, quiet hours through midnight', async () => {
    const { server, wx } = as('staff');
    server.serve('channels_defaults', { times: 1 });
    const page = await openPage('pages/notices/channels/index');
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#updated'))).toBe('尚未设置，以下为默认方式');
    expect(page.data.form).toMatchObject({ wechat: true, sms: false, sms_classes: [1, 2], quiet: false });
    expect(query(page, '#sms-settings')).toBeUndefined();
    // Class 1 ignores quiet hours, and the page says so even before they are set.
    expect(text(find(page, '#urgent-hint'))).toBe('一类风险问题（如鼠患、变质食品）不受免打扰限制，随时提醒。');

    await fire(page, '#wechat', 'change', { value: false });
    await fire(page, '#sms', 'change', { value: true });
    // No phone bound to the account: the bound phone cannot be chosen, a number must be typed.
    expect(text(find(page, '#phone-mode'))).toContain('使用已绑定的手机号 （未绑定）');
    expect(page.data.form.phoneMode).toBe('own');
    await tap(page, '#submit');
    expect(server.sent(URL, 'PUT')).toEqual([]);
    expect(text(find(page, '#phone'))).toContain('开启短信通知需要填写手机号码');
    await type(page, '#phone', '12800138000');
    await tap(page, '#submit');
    expect(server.sent(URL, 'PUT')).toEqual([]);
    expect(text(find(page, '#phone'))).toContain('请填写正确的11位手机号码');

    await type(page, '#phone', '139 0013 9000');
    await fire(page, '#classes', 'change', { value: ['3', '1', '2'] });
    await fire(page, '#quiet', 'change', { value: true });
    expect(text(find(page, '#quiet-text'))).toBe(
      '每天 22:00 至次日 07:00（北京时间）：二类、三类风险的微信消息和短信推迟到时段结束后发送。');
    await pick(page, '#quiet-end', '22:00');
    await tap(page, '#submit');
    expect(server.sent(URL, 'PUT')).toEqual([]);
    expect(text(find(page, '#quiet-end-error'))).toBe('免打扰时段的开始和结束时间不能相同');
    await pick(page, '#quiet-end', '07:00');

    server.serve('channels_saved', { times: 1 });
    await tap(page, '#submit');
    expect(server.sent(URL, 'PUT').map((r) => r.data)).toEqual([{
      wechat: false, sms: true, phone: '13900139000', sms_classes: [1, 2, 3], quiet_start: '22:00', quiet_end: '07:00',
    }]);
    expect(wx.__state.toasts).toContain('通知方式已保存');
    expect(text(find(page, '#updated'))).toBe('上次保存 2026-03-11 10:00');
    expect(text(find(page, '#sms-phone'))).toBe('当前短信发送至：139****9000');
    expect(page.data.classes.map((c) => c.checked)).toEqual([true, true, true]);
  });

  test('the server\'s refusals are shown next to the field they name', async () => {
    const { server } = as('staff');
    server.serve('channels_defaults');
    const page = await openPage('pages/notices/channels/index');
    await fire(page, '#sms', 'change', { value: true });
    await type(page, '#phone', '13900139000');
    server.serve('channels_phone_required', { times: 1 });
    await tap(page, '#submit');
    expect(page.data.errors.phone).toBe(fixture('channels_phone_required').body.error.message);
    expect(text(find(page, '#phone'))).toContain('开启短信通知需要填写手机号码');
    expect(query(page, '#form-error')).toBeUndefined();

    server.serve('channels_phone_invalid', { times: 1 });
    await tap(page, '#submit');
    expect(text(find(page, '#phone'))).toContain('请填写正确的11位手机号码');

    await fire(page, '#quiet', 'change', { value: true });
    server.serve('channels_quiet_empty', { times: 1 });
    await tap(page, '#submit');
    expect(page.data.errors).toEqual({ phone: '请填写正确的11位手机号码', quiet_end: '免打扰时段的开始和结束时间不能相同' });
    expect(text(find(page, '#quiet-end-error'))).toBe('免打扰时段的开始和结束时间不能相同');
    // Changing the times clears the message.
    await pick(page, '#quiet-start', '21:30');
    expect(query(page, '#quiet-end-error')).toBeUndefined();
  });

  test('a manager with a bound phone sends SMS there for class 1 only, without quiet hours', async () => {
    const { server, wx } = as('manager');
    server.serve('channels_bound_phone', { times: 1 });
    const page = await openPage('pages/notices/channels/index');
    await fire(page, '#sms', 'change', { value: true });
    expect(page.data.form.phoneMode).toBe('bound');
    expect(text(find(page, '#phone-mode'))).toContain('使用已绑定的手机号 138****8000');
    expect(query(page, '#phone')).toBeUndefined();
    expect(text(find(page, '#sms-phone'))).toBe('当前短信发送至：138****8000');
    await fire(page, '#classes', 'change', { value: ['1'] });
    server.serve('channels_use_bound_phone', { times: 1 });
    await tap(page, '#submit');
    expect(server.sent(URL, 'PUT').map((r) => r.data)).toEqual([{
      wechat: true, sms: true, phone: null, sms_classes: [1], quiet_start: null, quiet_end: null,
    }]);
    expect(wx.__state.toasts).toContain('通知方式已保存');
    expect(page.data.form).toMatchObject({ sms: true, phoneMode: 'bound', sms_classes: [1] });

    // Choosing another number shows the field; no classes at all is refused before sending.
    await fire(page, '#phone-mode', 'change', { value: 'own' });
    expect(find(page, '#phone')).toBeTruthy();
    await fire(page, '#classes', 'change', { value: [] });
    await tap(page, '#submit');
    expect(server.sent(URL, 'PUT')).toHaveLength(1);
    expect(text(page)).toContain('请至少选择一个风险等级');
  });
});
