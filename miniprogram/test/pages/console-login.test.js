/** Scan to log in to the web console: the console's code opens the confirm page with its scene. */
const {
  boot, openPage, text, tap, find,
} = require('../helpers/mp');

const PAGE = 'pages/accounts/console-login/index';
const SCENE = 'consoleScene000000000001';

describe('console log-in confirm page', () => {
  test('the principal confirms and the console logs in as them', async () => {
    const { server } = boot({ launch: { path: PAGE, query: { scene: SCENE } } });
    server.serve('auth_wechat_principal');
    server.serve('me_principal');
    const page = await openPage(PAGE, { scene: SCENE });
    expect(text(find(page, '#ask'))).toContain('登录网页工作台');
    server.serve('console_login_confirm', { times: 1 });
    await tap(page, '#confirm');
    const sent = server.sent('/api/v1/auth/console-tickets/confirm', 'POST');
    expect(sent).toHaveLength(1);
    expect(sent[0].data).toEqual({ scene: SCENE });
    expect(sent[0].header.Authorization).toBe('Bearer test-session-token');
    expect(text(find(page, '#done'))).toContain('已确认登录');
    expect(server.unmatched()).toEqual([]);
  });

  test('a used or expired code shows the server message and stays on the page', async () => {
    const { server } = boot({ launch: { path: PAGE, query: { scene: SCENE } } });
    server.serve('auth_wechat_principal');
    server.serve('me_principal');
    const page = await openPage(PAGE, { scene: SCENE });
    server.serve('console_login_used', { times: 1 });
    await tap(page, '#confirm');
    expect(text(find(page, '#error'))).toBe('二维码已失效，请刷新后重新扫码');
    expect(text(page)).not.toContain('已确认登录');
  });
});
