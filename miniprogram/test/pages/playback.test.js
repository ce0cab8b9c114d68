/** Playback for staff: the day's bar and marks, playing from a violation's moment, speed, a time with no recording. */
const {
  boot, signIn, openPage, text, tap, find, findAll, fixture, fire, query,
} = require('../helpers/mp');

const PLAYBACK = 'pages/live/playback/index';
const LIVE = 'pages/live/watch/index';

function asStaff() {
  const env = boot();
  signIn('auth_wechat_staff');
  env.server.serve('me_staff');
  return env;
}

describe('playback', () => {
  test('staff reach playback from the live page for the camera on screen', async () => {
    const { server, wx } = asStaff();
    server.serve('canteens_school_1');
    server.serve('live_lobby_staff');
    server.serve('live_play_offline', { path: '/api/v1/live/cameras/1/play' });
    const page = await openPage(LIVE);
    await tap(page, '#playback');
    expect(wx.__state.navigations).toEqual([{ kind: 'navigateTo', url: '/pages/live/playback/index?camera_id=1', delta: null }]);
  });

  test('parents get no playback entry on the live page', async () => {
    const env = boot();
    signIn('auth_wechat_parent');
    env.server.serve('me_parent');
    env.server.serve('canteens_school_1');
    env.server.serve('live_lobby_parent');
    env.server.serve('live_play_parent');
    const page = await openPage(LIVE);
    expect(query(page, '#playback')).toBeUndefined();
  });

  test('the day shows recordings, gaps and marks; a violation plays from its moment; speed changes', async () => {
    const { server, wx } = asStaff();
    server.serve('playback_day_staff');
    server.serve('playback_play_staff');
    const page = await openPage(PLAYBACK, { camera_id: '1', day: '2026-03-11' });
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#camera-name'))).toBe('热菜烹饪区摄像头');
    expect(findAll(page, '.rec')).toHaveLength(3);
    expect(findAll(page, '.gap')).toHaveLength(3);
    expect(text(find(page, '#mark-violation-3'))).toBe('09:07:00 未规范佩戴口罩');
    expect(text(find(page, '#mark-health-0'))).toBe('09:12:00 离线');
    expect(findAll(page, '.row').map((row) => text(row)).slice(2)).toEqual(
      ['录像 09:00:00–09:05:00', '录像 09:05:00–09:10:00', '录像 09:20:00–09:25:00']);

    await tap(page, '#mark-violation-3');
    const answer = fixture('playback_play_staff').body;
    expect(server.sent('/api/v1/live/cameras/1/playback/play', 'POST')[0].data).toEqual({ at: '2026-03-11T09:07:00+08:00' });
    const player = find(page, '#player');
    expect(player.dom.tagName).toBe('WX-VIDEO');
    expect(page.data.src).toBe(answer.url);
    expect(answer.offset_seconds).toBe(120);
    const context = wx.__state.players.find((p) => p.kind === 'video');
    expect(context.calls).toEqual(['seek:120', 'playbackRate:1', 'play']);
    await fire(page, '#player', 'timeupdate', { currentTime: 121 });
    expect(text(find(page, '#position'))).toBe('09:07:01');

    await tap(page, '#speed-2');
    expect(wx.__state.players.some((p) => p.calls.includes('playbackRate:2'))).toBe(true);
    expect(page.data.speed).toBe(2);
  });

  test('a moment without recording says so and plays nothing', async () => {
    const { server } = asStaff();
    server.serve('playback_day_staff');
    server.serve('playback_play_gap', { path: '/api/v1/live/cameras/1/playback/play' });
    const page = await openPage(PLAYBACK, { camera_id: '1', day: '2026-03-11' });
    await tap(page, '#recording-0');
    expect(text(find(page, '#message'))).toBe('该时间没有录像');
    expect(query(page, '#player')).toBeUndefined();
  });
});
