/** The live view: area tabs, signed play URLs, the closed window, a camera that is not publishing. */
const {
  boot, signIn, openPage, text, tap, find, findAll, fixture, fire, query,
} = require('../helpers/mp');

const LIVE = 'pages/live/watch/index';

function asParent() {
  const env = boot();
  signIn('auth_wechat_parent');
  env.server.serve('me_parent');
  env.server.serve('canteens_school_1');
  return env;
}

describe('live view', () => {
  test('a parent watches the hot kitchen over RTMP, switches area, and reconnects after a drop', async () => {
    const { server, wx } = asParent();
    server.serve('live_lobby_parent');
    server.serve('live_play_parent', { times: 1 });
    const page = await openPage(LIVE);
    expect(server.unmatched()).toEqual([]);
    // One tab per public area; the private sample room is not offered to parents.
    expect(findAll(page, '.van-tab').map((tab) => text(tab))).toEqual(['热菜烹饪区', '切配区']);
    const play = fixture('live_play_parent').body;
    expect(server.sent('/api/v1/live/cameras/1/play', 'POST')).toHaveLength(1);
    const player = find(page, '#player');
    expect(player.dom.tagName).toBe('WX-LIVE-PLAYER');
    expect(page.querySelector('#live-view').data.play.rtmp_url).toBe(play.rtmp_url);
    expect(play.rtmp_url).toBe('rtmp://127.0.0.1:1935/live/cam-1?token=test-play-token');
    expect(text(find(page, '#status'))).toBe('连接中…');
    await fire(page, '#player', 'statechange', { code: 2004 });
    expect(text(find(page, '#status'))).toBe('直播中');
    expect(text(find(page, '#closes-at'))).toBe('本时段 13:30 结束');
    expect(text(find(page, '#hours'))).toBe('周一至周五 06:30–13:30、16:30–19:00');

    // The connection drops: 重新连接 asks the API for fresh signed URLs.
    await fire(page, '#player', 'statechange', { code: -2301 });
    expect(text(find(page, '#broken'))).toContain('直播连接已断开');
    server.serve('live_play_parent', { times: 1 });
    await tap(page, '#reconnect');
    expect(server.sent('/api/v1/live/cameras/1/play', 'POST')).toHaveLength(2);
    expect(query(page, '#broken')).toBeUndefined();

    // The prep area's camera is not publishing: the server's words, no player.
    server.serve('live_play_offline', { times: 1 });
    await tap(page, findAll(page, '.van-tab')[1]);
    expect(server.sent('/api/v1/live/cameras/2/play', 'POST')).toHaveLength(1);
    expect(text(find(page, '#live-message'))).toBe('摄像头暂未开播，请稍后再试');
    expect(query(page, '#player')).toBeUndefined();
    expect(wx.__state.toasts).toEqual([]);

    // 反映问题 about what is on screen carries the canteen and the camera watched.
    await tap(page, '#report');
    expect(wx.__state.navigations.pop().url).toBe('/pages/violations/report/index?canteen=1&camera=2');
  });

  test('outside the published hours a parent sees when the kitchen opens next', async () => {
    const { server } = asParent();
    server.serve('live_lobby_parent_closed');
    server.serve('live_play_closed');
    const page = await openPage(LIVE);
    expect(query(page, '#player')).toBeUndefined();
    expect(text(find(page, '#closed'))).toBe('厨房直播暂未开放 当前不在直播开放时间，下次开放时间：3月11日（周三）16:30');
  });

  test('HLS plays in <video> when there is no RTMP URL', async () => {
    const { server } = asParent();
    server.serve('live_lobby_parent');
    server.serve('live_play_parent');
    const page = await openPage(LIVE);
    const view = page.querySelector('#live-view');
    view.setData({ prefer: 'hls' });
    await fire(page, '#player', 'play');
    expect(find(page, '#player').dom.tagName).toBe('WX-VIDEO');
    expect(view.data.play.hls_url).toBe('http://127.0.0.1:8080/hls/test-play-token/cam-1.m3u8');
    expect(text(find(page, '#status'))).toBe('直播中');
  });

  test('staff see every area, also outside the hours', async () => {
    const env = boot();
    signIn('auth_wechat_staff');
    env.server.serve('me_staff');
    env.server.serve('canteens_school_1');
    env.server.serve('live_lobby_staff');
    env.server.serve('live_play_offline', { path: '/api/v1/live/cameras/1/play' });
    const page = await openPage(LIVE);
    expect(findAll(page, '.van-tab').map((tab) => text(tab))).toEqual(['热菜烹饪区', '切配区', '留样间']);
    expect(text(find(page, '#hours'))).toBe('您可随时观看全部区域');
  });
});
