/** Every shared component renders on its own and does what it promises. */
const {
  boot, renderComponent, text, tap, find, findAll, fire, query, fixture, flush,
} = require('../helpers/mp');

beforeEach(() => {
  boot();
});

test('kc-state: loading, an error with 重试, empty, and the content', async () => {
  const loading = await renderComponent('components/state/index', { loading: true });
  expect(text(loading)).toBe('加载中…');
  const failed = await renderComponent('components/state/index', { error: '网络连接失败，请检查网络后重试' });
  const retries = [];
  failed.addEventListener('retry', () => retries.push(1));
  expect(text(failed)).toBe('网络连接失败，请检查网络后重试 重试');
  await tap(failed, '#retry');
  expect(retries).toEqual([1]);
  const empty = await renderComponent('components/state/index', { empty: '暂无消息' });
  expect(text(empty)).toBe('暂无消息');
});

test('kc-stats: the three figures and the rectification rate', async () => {
  const stats = await renderComponent('components/stats/index', { found: 12, rectified: 9, inProgress: 3, rate: 0.75 });
  expect(text(stats)).toBe('12 发现问题 9 已整改 3 整改中 整改率 75%');
  stats.setData({ rate: null });
  await flush();
  expect(text(stats)).toBe('12 发现问题 9 已整改 3 整改中');
});

test('kc-meal-badges: colours follow the server\'s statuses', async () => {
  const records = require('../../services/records');
  const canteen = fixture('today_parent').body.canteens[0];
  const badges = await renderComponent('components/meal-badges/index', { items: records.mealSummaries(canteen) });
  expect(text(badges)).toBe('早餐 留样 0/1 消毒 已完成 午餐 留样 1/3 消毒 待完成 晚餐 留样 无需 消毒 无需');
  const colours = findAll(badges, '.van-tag').map((tag) => tag.dom.className.match(/--(danger|success|primary|default)\b/)[1]);
  expect(colours).toEqual(['danger', 'success', 'primary', 'primary', 'default', 'default']);
});

test('kc-timeline: newest first with photos that open a preview', async () => {
  const violations = require('../../services/violations');
  const items = violations.timeline(fixture('violation_detail_principal').body);
  const timeline = await renderComponent('components/timeline/index', { items });
  expect(text(timeline).startsWith('提交整改 已对全体厨师重新培训着装规范')).toBe(true);
  expect(text(timeline).endsWith('发现问题 2026-03-11 10:00 · 西湖实验小学学校食品安全管理员')).toBe(true);
  await tap(timeline, findAll(timeline, '.photo')[0]);
  expect(global.wx.__state.previews).toHaveLength(1);
});

test('kc-date-bar: previous and next day, never past the last allowed day', async () => {
  const bar = await renderComponent('components/date-bar/index', { date: '2026-03-10', max: '2026-03-11' });
  const changes = [];
  bar.addEventListener('change', (event) => changes.push(event.detail.date));
  expect(text(find(bar, '#date-label'))).toBe('2026-03-10（周二）');
  await tap(bar, '#prev-day');
  await tap(bar, '#next-day');
  bar.setData({ date: '2026-03-11' });
  await flush();
  await tap(bar, '#next-day');
  await fire(bar, '#date-picker', 'change', { value: '2026-02-28' });
  expect(changes).toEqual(['2026-03-09', '2026-03-11', '2026-02-28']);
});

test('kc-live-view: RTMP player, HLS video, the closed card, and a reconnect request', async () => {
  const play = fixture('live_play_parent').body;
  const view = await renderComponent('components/live-view/index', { play });
  expect(find(view, '#player').dom.tagName).toBe('WX-LIVE-PLAYER');
  const reconnects = [];
  view.addEventListener('reconnect', () => reconnects.push(1));
  // RTMP refused (no live-player permission): the same signed stream plays as HLS.
  await fire(view, '#player', 'error', {});
  expect(find(view, '#player').dom.tagName).toBe('WX-VIDEO');
  expect(text(find(view, '#status'))).toBe('已切换到备用线路…');
  // HLS fails too: the person is told and may reconnect (the page asks for fresh URLs).
  await fire(view, '#player', 'error', {});
  expect(text(find(view, '#broken'))).toBe('直播画面加载失败 重新连接');
  await tap(view, '#reconnect');
  expect(reconnects).toEqual([1]);

  const hls = await renderComponent('components/live-view/index', { play: Object.assign({}, play, { rtmp_url: null }) });
  expect(find(hls, '#player').dom.tagName).toBe('WX-VIDEO');
  await fire(hls, '#player', 'waiting');
  expect(text(find(hls, '#status'))).toBe('缓冲中…');

  const closed = await renderComponent('components/live-view/index', {
    closed: { message: fixture('live_play_closed').body.error.message },
  });
  expect(query(closed, '#player')).toBeUndefined();
  expect(text(find(closed, '#closed-text'))).toBe('当前不在直播开放时间，下次开放时间：3月11日（周三）16:30');
});

test('kc-photo-picker: uploads what the camera took, reports ids, removes and previews', async () => {
  const { server, wx } = boot();
  wx.setStorageSync('kitchen.session', { token: 'test-session-token', user: fixture('me_manager').body });
  const picker = await renderComponent('components/photo-picker/index', { label: '留样照片', ownerId: 1, max: 2 });
  const events = [];
  picker.addEventListener('change', (event) => events.push(event.detail));
  expect(text(picker)).toBe('留样照片 拍照/相册');
  wx.__state.media = [{ tempFilePath: 'wxfile://tmp/a.jpg', size: 1000 }, { tempFilePath: 'wxfile://tmp/b.jpg', size: 11 * 1024 * 1024 }];
  server.serve('upload_photo');
  await tap(picker, '#add-photo');
  // The 11 MB photo is refused on the phone, like the server would (413).
  expect(wx.__state.toasts).toEqual(['照片超过 10MB，请重新拍摄']);
  expect(server.sent('/api/v1/uploads')).toHaveLength(1);
  expect(server.sent('/api/v1/uploads')[0].data.filePath).toBe('wxfile://tmp/a.jpg');
  expect(events[events.length - 1]).toEqual({ ids: [1], uploading: false, failed: false });
  await tap(picker, '#photo-0');
  expect(wx.__state.previews[0]).toEqual({ urls: ['wxfile://tmp/a.jpg'], current: 'wxfile://tmp/a.jpg' });
  await tap(picker, '#remove-0');
  expect(events[events.length - 1]).toEqual({ ids: [], uploading: false, failed: false });
  // The camera is cancelled: nothing happens.
  wx.__state.media = [];
  await tap(picker, '#add-photo');
  expect(events[events.length - 1]).toEqual({ ids: [], uploading: false, failed: false });
});

test('kc-photo-picker with documents: a PDF from a WeChat chat is uploaded, shown by name and opened', async () => {
  const { server, wx } = boot();
  wx.setStorageSync('kitchen.session', { token: 'test-session-token', user: fixture('me_manager').body });
  const picker = await renderComponent('components/photo-picker/index', {
    label: '检验检测报告', ownerId: 1, max: 3, documents: true });
  const events = [];
  picker.addEventListener('change', (event) => events.push(event.detail));
  expect(text(picker)).toBe('检验检测报告 拍照/相册/PDF');
  // 添加 asks where from; the second choice opens the chat's files, PDFs only, within the room left.
  wx.__state.actionSheetIndex = 1;
  wx.__state.messageFiles = [{ path: 'wxfile://tmp/report.pdf', name: '检验报告.pdf', size: 1854 },
    { path: 'wxfile://tmp/big.pdf', name: '扫描件.pdf', size: 11 * 1024 * 1024 }];
  server.serve('upload_pdf');
  await tap(picker, '#add-photo');
  expect(wx.__state.toasts).toEqual(['文件超过 10MB，请压缩后再选']);
  expect(server.sent('/api/v1/uploads').map((r) => r.data.filePath)).toEqual(['wxfile://tmp/report.pdf']);
  expect(events[events.length - 1]).toEqual({ ids: [fixture('upload_pdf').body.id], uploading: false, failed: false });
  expect(text(find(picker, '#photo-0'))).toBe('检验报告.pdf ×');
  // A PDF just chosen opens from the phone; no picture preview is attempted.
  await tap(picker, '#photo-0');
  expect(wx.__state.documents).toEqual([{ filePath: 'wxfile://tmp/report.pdf', fileType: 'pdf', showMenu: true,
    success: expect.any(Function), fail: expect.any(Function) }]);
  expect(wx.__state.previews).toEqual([]);
  // The first choice still takes photos.
  wx.__state.actionSheetIndex = 0;
  wx.__state.media = [{ tempFilePath: 'wxfile://tmp/a.jpg', size: 1000 }];
  server.serve('upload_photo');
  await tap(picker, '#add-photo');
  expect(events[events.length - 1].ids).toEqual([fixture('upload_pdf').body.id, fixture('upload_photo').body.id]);
  await tap(picker, '#photo-1');
  expect(wx.__state.previews).toEqual([{ urls: ['wxfile://tmp/a.jpg'], current: 'wxfile://tmp/a.jpg' }]);
});

test('kc-documents: a stored PDF is downloaded from its signed URL, then opened', async () => {
  const { server, wx } = boot();
  const records = require('../../services/records');
  const day = fixture('today_pdf_report').body;
  const dinner = day.canteens[0].meals.find((m) => m.meal === 'dinner');
  const receiving = day.receivings[dinner.menu.dishes[0].ingredients[0].receiving_id];
  const items = records.pdfs(receiving.files);
  expect(items.map((i) => i.label)).toEqual(['检验报告 · 1 页']);
  const list = await renderComponent('components/documents/index', { items });
  expect(text(list)).toBe('检验报告 · 1 页 PDF ›');
  server.serve('file_pdf', { path: new URL(items[0].url).pathname, query: null });
  await tap(list, `#document-${items[0].key}`);
  expect(server.unmatched()).toEqual([]);
  expect(server.sent(new URL(items[0].url).pathname)).toHaveLength(1);
  expect(wx.__state.documents.map((d) => [d.fileType, d.filePath.startsWith('wxfile://tmp/')])).toEqual([['pdf', true]]);
  expect(wx.__state.loading).toBe(0);
  // The download fails: the person is told, nothing opens.
  server.fail('GET', new URL(items[0].url).pathname);
  await tap(list, `#document-${items[0].key}`);
  expect(wx.__state.toasts).toEqual(['文件打开失败，请稍后重试']);
  expect(wx.__state.documents).toHaveLength(1);
  expect(wx.__state.loading).toBe(0);
});

test('morning check text: counts only, and nothing on a day without meals', () => {
  const records = require('../../services/records');
  expect(records.morningCheckText({ status: 'done', status_label: '已完成', checked: 5, passed: 4, failed: 1 }))
    .toBe('晨检 5 人，合格 4 人，1 人不合格已调离食品岗位');
  expect(records.morningCheckText({ status: 'done', status_label: '已完成', checked: 3, passed: 3, failed: 0 }))
    .toBe('晨检 3 人，合格 3 人');
  expect(records.morningCheckText({ status: 'pending', status_label: '待完成', checked: 0, passed: 0, failed: 0 }))
    .toBe('晨检 待完成');
  expect(records.morningCheckText({ status: 'not_applicable', status_label: '无需' })).toBe('');
});
