/** Violations: the parents' page, the committee's list and detail, answering, reviewing, 通知我. */
const {
  as, openPage, text, tap, type, find, findAll, fixture, query, flush,
} = require('../helpers/mp');

describe('violations tab', () => {
  test('parents see the figures and the closed violations with parent-safe evidence, never the open ones', async () => {
    const { server } = as('parent');
    server.serve('transparency_parent');
    const page = await openPage('pages/violations/list/index');
    expect(server.unmatched()).toEqual([]);
    expect(server.sent('/api/v1/schools/1/violations')).toEqual([]);
    expect(text(find(page, '#summary'))).toBe('近 30 天 02-10 至 03-11 2 发现问题 1 已整改 1 整改中 整改率 50%');
    const closed = text(find(page, '#closed-1'));
    expect(closed).toContain('切配区厨师未戴帽子 已整改');
    expect(closed).toContain('整改措施：已对全体厨师重新培训着装规范，切配区入口加装镜子自查，当班主管每餐检查。');
    expect(closed).toContain('整改通过 2026-03-11 10:00');
    // The rejected rodent problem is still open: not on the parents' page.
    expect(text(page)).not.toContain('储藏间发现鼠迹');
    // No names, no internal reasons.
    expect(text(page)).not.toContain('食堂负责人');
  });

  test('the committee lists the school\'s violations, filters them, and asks to be notified', async () => {
    const { server, wx } = as('committee');
    server.serve('transparency_parent');
    server.serve('violations_committee');
    const page = await openPage('pages/violations/list/index');
    const rows = findAll(page, '.van-cell').map((cell) => text(cell));
    expect(rows).toEqual([
      '储藏间发现鼠迹 发现鼠患 · 2026-03-11 10:00 待通知',
      '切配区厨师未戴帽子 发现鼠患 · 2026-03-11 10:00 待通知'.replace('发现鼠患', '未佩戴厨师帽'),
    ]);
    server.serve('violations_manager_submitted', { path: '/api/v1/schools/1/violations' });
    await tap(page, '#filter-submitted');
    expect(server.sent('/api/v1/schools/1/violations').pop().query).toEqual({ status: 'submitted', limit: '20' });
    expect(text(page)).toContain('没有符合条件的问题');

    server.serve('notice_templates');
    server.serve('subscriptions_report');
    wx.__state.subscribeResult = { 'tmpl-violation-0001': 'accept', 'tmpl-progress-0001': 'reject' };
    await tap(page, '#notify-me');
    expect(wx.__state.subscribeAsks).toEqual([['tmpl-violation-0001', 'tmpl-progress-0001']]);
    expect(server.sent('/api/v1/me/subscriptions', 'POST')[0].data).toEqual({
      results: { 'tmpl-violation-0001': 'accept', 'tmpl-progress-0001': 'reject' },
    });
    expect(wx.__state.toasts).toContain('已开启微信通知');
  });
});

describe('violation detail', () => {
  test('the committee reads it with parent-safe evidence and no actions', async () => {
    const { server } = as('committee');
    server.serve('violation_detail_committee');
    const page = await openPage('pages/violations/detail/index', { id: '1' });
    expect(text(find(page, '#title'))).toBe('切配区厨师未戴帽子');
    expect(text(find(page, '#status'))).toBe('待通知');
    expect(text(page)).toContain('未佩戴厨师帽 · 举报反映');
    expect(text(page)).toContain('地点：学生食堂');
    expect(text(find(page, '#due'))).toBe('整改期限：2026-03-13 10:00');
    expect(text(find(page, '#found'))).toBe('发现时间：2026-03-11 10:00');
    expect(query(page, '#occurred')).toBeUndefined(); // happened and found in the same minute
    expect(text(page)).toContain('为保护隐私，画面中的人脸已做模糊处理');
    expect(text(page)).toContain('发现问题 2026-03-11 10:00 · 西湖实验小学学校食品安全管理员');
    ['#start', '#answer', '#accept', '#reject'].forEach((selector) => expect(query(page, selector)).toBeUndefined());
  });

  test('the canteen manager takes it on and answers with measures and a photo', async () => {
    const { server, wx } = as('manager');
    server.serve('violation_detail_manager_open', { times: 1 });
    const detail = await openPage('pages/violations/detail/index', { id: '1' });
    expect(detail.data.v.evidence.photos).toEqual(['/api/v1/files/violation-photos/test-report.jpg?expires=1773194700&sig=test-signature']);
    expect(query(detail, '#answer')).toBeUndefined();
    server.serve('violation_start', { times: 1 });
    await tap(detail, '#start');
    expect(server.sent('/api/v1/violations/1/start', 'POST')[0].data).toEqual({ note: null });
    expect(text(find(detail, '#status'))).toBe('整改中');
    expect(wx.__state.toasts).toContain('已受理');
    await tap(detail, '#answer');
    expect(wx.__state.navigations.pop().url).toBe('/pages/violations/answer/index?id=1');

    server.serve('violation_detail_manager_rectifying', { times: 1 });
    const answer = await openPage('pages/violations/answer/index', { id: '1' });
    await type(answer, '#measures', '已整改');
    await tap(answer, '#submit');
    expect(text(find(answer, '#measures'))).toContain('请写明整改措施（至少 5 个字）');
    expect(text(answer)).toContain('请上传整改后的照片');
    expect(server.sent('/api/v1/violations/1/rectifications')).toEqual([]);

    const measures = '已对全体厨师重新培训着装规范，切配区入口加装镜子自查，当班主管每餐检查。';
    await type(answer, '#measures', measures);
    wx.__state.media = [{ tempFilePath: 'wxfile://tmp/after.jpg', size: 300000 }];
    server.serve('violation_photo', { times: 1 });
    await tap(answer, '#add-photo');
    expect(server.sent('/api/v1/schools/1/violation-photos', 'POST')).toHaveLength(1);
    server.serve('violation_submit', { times: 1 });
    await tap(answer, '#submit');
    expect(server.sent('/api/v1/violations/1/rectifications', 'POST')[0].data).toEqual({
      measures, photos: ['violation-photos/test-after.jpg'],
    });
    expect(wx.__state.toasts).toContain('已提交，等待验收');
    expect(wx.__state.navigations.pop()).toEqual({ kind: 'navigateBack', url: null, delta: 1 });
  });

  test('the server refuses too short measures with its own words', async () => {
    const { server, wx } = as('manager');
    server.serve('violation_detail_manager_rectifying');
    const answer = await openPage('pages/violations/answer/index', { id: '1' });
    // Five characters pass the client check; the server counts the same way and names the field.
    await type(answer, '#measures', '已整改完毕');
    wx.__state.media = [{ tempFilePath: 'wxfile://tmp/after.jpg' }];
    server.serve('violation_photo', { times: 1 });
    await tap(answer, '#add-photo');
    server.serve('violation_submit_too_short', { times: 1 });
    await tap(answer, '#submit');
    expect(text(find(answer, '#measures'))).toContain('长度应在 5 到 2000 之间');
  });

  test('the principal reviews: accepts one, rejects another with a reason', async () => {
    const { server, wx } = as('principal');
    server.serve('violation_detail_principal');
    const page = await openPage('pages/violations/detail/index', { id: '1' });
    expect(text(page)).toContain('提交整改 已对全体厨师重新培训着装规范');
    expect(page.data.steps[0].photos).toEqual(['/api/v1/files/violation-photos/test-after.jpg?expires=1773194700&sig=test-signature']);
    server.serve('violation_accept', { times: 1 });
    await tap(page, '#accept');
    expect(server.sent('/api/v1/violations/1/review', 'POST')[0].data).toEqual({ approve: true, reason: null });
    expect(text(find(page, '#status'))).toBe('已办结');
    expect(query(page, '#accept')).toBeUndefined();

    server.serve('violation_detail_principal_2');
    const second = await openPage('pages/violations/detail/index', { id: '2' });
    wx.__state.modalAnswers.push({ confirm: true, content: '' });
    await tap(second, '#reject');
    expect(wx.__state.toasts).toContain('驳回时必须填写原因');
    wx.__state.modalAnswers.push({ confirm: true, content: '未说明防鼠设施的排查结果，请补充挡鼠板照片' });
    server.serve('violation_reject', { times: 1 });
    await tap(second, '#reject');
    expect(server.sent('/api/v1/violations/2/review', 'POST')[0].data).toEqual({
      approve: false, reason: '未说明防鼠设施的排查结果，请补充挡鼠板照片',
    });
    expect(text(second)).toContain('整改驳回 未说明防鼠设施的排查结果，请补充挡鼠板照片');
  });

  test('parents are refused by the server and see its message', async () => {
    const { server } = as('parent');
    server.serve('violation_forbidden_parent');
    const page = await openPage('pages/violations/detail/index', { id: '1' });
    expect(text(page)).toContain(fixture('violation_forbidden_parent').body.error.message);
  });
});

describe('inbox', () => {
  test('unread notices, opening one marks it read and goes to its violation; all read', async () => {
    const { server, wx } = as('manager');
    server.serve('inbox_manager', { query: { limit: '50' } });
    const page = await openPage('pages/notices/inbox/index');
    const inbox = fixture('inbox_manager').body;
    expect(text(find(page, '#unread'))).toBe(`${inbox.unread} 条未读`);
    const first = inbox.items[0];
    expect(text(find(page, `#notice-${first.id}`))).toContain(first.title);
    server.serve('inbox_read', { times: 1 });
    await tap(page, `#notice-${first.id}`);
    expect(server.sent(`/api/v1/inbox/${first.id}/read`, 'POST')).toHaveLength(1);
    expect(wx.__state.navigations.pop().url).toBe('/pages/violations/detail/index?id=2');
    expect(text(find(page, '#unread'))).toBe(`${inbox.unread - 1} 条未读`);
    server.serve('inbox_read_all', { times: 1 });
    await tap(page, '#read-all');
    expect(text(find(page, '#unread'))).toBe('全部已读');
  });

  test('a list page loads once, refreshes on pull-down and pages on reaching the bottom', async () => {
    const { server, wx } = as('manager');
    server.serve('inbox_manager', { query: { limit: '50' }, times: 1 });
    const page = await openPage('pages/notices/inbox/index');
    const all = fixture('inbox_manager').body.items;
    // A full first page would have a next one: four notices fit in a page of 50.
    expect(query(page, '#load-more')).toBeUndefined();

    // Three at a time: the refresh starts over from the first page, the bottom brings the rest.
    page.instance.setData({ pageSize: 3 });
    server.serve('inbox_manager_page_1', { times: 1 });
    await page.instance.onPullDownRefresh();
    await flush();
    expect(wx.__state.pullDownStops).toBe(1);
    expect(findAll(page, '.notice')).toHaveLength(3);
    expect(find(page, '#load-more')).toBeTruthy();
    server.serve('inbox_manager_page_2', { times: 1 });
    await page.instance.onReachBottom();
    await flush();
    const last = all[3];
    expect(server.sent('/api/v1/inbox').pop().query).toEqual({ before_id: String(all[2].id), limit: '3' });
    all.forEach((n) => expect(find(page, `#notice-${n.id}`)).toBeTruthy());
    expect(findAll(page, '.notice')).toHaveLength(4);
    expect(text(find(page, `#notice-${last.id}`))).toContain(last.title);
    // The last page was not full: nothing more to ask for.
    expect(query(page, '#load-more')).toBeUndefined();
    await page.instance.onReachBottom();
    expect(server.sent('/api/v1/inbox')).toHaveLength(3);
    expect(server.unmatched()).toEqual([]);
  });
});

describe('反映问题', () => {
  test('a parent reports what they saw from 问题整改: refusals next to the field, then the report with its photo', async () => {
    const { server, wx } = as('parent');
    server.serve('transparency_parent');
    const list = await openPage('pages/violations/list/index');
    await tap(list, '#report');
    expect(wx.__state.navigations.pop().url).toBe('/pages/violations/report/index');
    await tap(list, '#my-reports');
    expect(wx.__state.navigations.pop().url).toBe('/pages/violations/reports/index');

    server.serve('canteens_school_1');
    const page = await openPage('pages/violations/report/index');
    expect(server.unmatched()).toEqual([]);
    // One canteen: nothing to choose; the kinds a person can see, the catch-all last.
    expect(query(page, '#canteen-picker')).toBeUndefined();
    expect(page.data.kinds.map((k) => k.label)).toEqual(['未佩戴口罩', '未佩戴厨师帽', '未穿工作服', '后厨吸烟', '操作时使用手机',
      '发现鼠患', '群众反映问题']);
    expect(query(page, '#camera-note')).toBeUndefined();

    await tap(page, '#submit');
    expect(text(find(page, '#description'))).toContain('请描述看到的问题（至少 5 个字）');
    expect(server.sent('/api/v1/schools/1/violations', 'POST')).toEqual([]);

    // The server's own limit, shown next to the field.
    page.instance.setData({ 'form.description': '没戴 口罩' });
    server.serve('report_too_short', { times: 1 });
    await tap(page, '#submit');
    expect(text(find(page, '#description'))).toContain(fixture('report_too_short').body.error.details.fields.description[0]);

    // WeChat's content check refuses a parent's text: the server's word above the button.
    await type(page, '#description', '食堂可以代开发票吗，请联系我');
    server.serve('report_risky', { times: 1 });
    await tap(page, '#submit');
    expect(text(find(page, '#form-error'))).toBe('内容含有违规信息，请修改后再提交');

    wx.__state.media = [{ tempFilePath: 'wxfile://tmp/seen.jpg', size: 300000 }];
    server.serve('report_photo', { times: 1 });
    await tap(page, '#add-photo');
    const description = '直播里看到打饭窗口的阿姨没有戴口罩，边说话边打菜。';
    await type(page, '#description', description);
    server.serve('report_create', { times: 1 });
    await tap(page, '#submit');
    const sent = server.sent('/api/v1/schools/1/violations', 'POST');
    expect(sent[sent.length - 1].data).toEqual({
      canteen_id: 1, kind: 'no_mask', description, photos: [fixture('report_photo').body.key], camera_id: null,
    });
    // Each content its own key; the same content retried keeps it (services/records send).
    const keys = sent.map((r) => r.header['Idempotency-Key']);
    expect(new Set(keys).size).toBe(3);
    expect(wx.__state.toasts).toContain('已提交，学校会尽快处理');
    const id = fixture('report_create').body.id;
    expect(wx.__state.navigations.pop()).toEqual({ kind: 'redirectTo', url: `/pages/violations/reports/index?id=${id}`, delta: null });

    server.serve('my_reports', { query: { limit: '20' } });
    const mine = await openPage('pages/violations/reports/index', { id: String(id) });
    expect(text(find(mine, `#report-${id}`))).toContain('未佩戴口罩 待通知');
    expect(findAll(mine, `#report-${id} .photo`)).toHaveLength(1);
  });

  test('from the live view the camera watched goes with the report', async () => {
    const { server } = as('parent');
    server.serve('canteens_school_1');
    const page = await openPage('pages/violations/report/index', { canteen: '1', camera: '2' });
    expect(find(page, '#camera-note')).toBeTruthy();
    await type(page, '#description', '直播里看到打饭窗口的阿姨没有戴口罩，边说话边打菜。');
    server.serve('report_create', { times: 1, query: null });
    await tap(page, '#submit');
    expect(server.sent('/api/v1/schools/1/violations', 'POST')[0].data.camera_id).toBe(2);
  });

  test('我反映的问题: the report as its reporter follows it, the one a message opened marked', async () => {
    const { server, wx } = as('parent');
    server.serve('my_reports_started', { query: { limit: '20' } });
    const report = fixture('my_reports_started').body[0];
    const page = await openPage('pages/violations/reports/index', { id: String(report.id) });
    expect(server.unmatched()).toEqual([]);
    const card = find(page, `#report-${report.id}`);
    expect(card.dom.className).toContain('report--focus');
    expect(text(card)).toBe('未佩戴口罩 整改中 西湖实验小学 · 未佩戴口罩 · 反映于 2026-03-11 10:00 '
      + '直播里看到打饭窗口的阿姨没有戴口罩，边说话边打菜。 整改情况：尚未提交整改 开始整改 2026-03-11 10:00 发现问题 2026-03-11 10:00');
    await tap(page, '#report');
    expect(wx.__state.navigations.pop().url).toBe('/pages/violations/report/index');
  });

  test('nothing reported yet says so', async () => {
    const { server } = as('committee');
    server.serve('my_reports_none', { query: { limit: '20' } });
    const page = await openPage('pages/violations/reports/index');
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#empty'))).toContain('您还没有反映过问题');
    expect(find(page, '#report')).toBeTruthy();
  });

  test('the message telling the reporter of progress opens 我反映的问题 on the report; old ones too', async () => {
    const { server, wx } = as('parent');
    server.serve('inbox_reporter', { query: { limit: '50' } });
    const page = await openPage('pages/notices/inbox/index');
    const [notice] = fixture('inbox_reporter').body.items;
    expect(text(find(page, `#notice-${notice.id}`))).toContain('您反映的问题“未佩戴口罩”学校已开始整改。');
    server.serve('inbox_read', { times: 1, path: `/api/v1/inbox/${notice.id}/read` });
    await tap(page, `#notice-${notice.id}`);
    expect(wx.__state.navigations.pop().url).toBe(`/pages/violations/reports/index?id=${notice.subject_id}`);

    await openPage('pages/notices/inbox/index', { report: '8' });
    expect(wx.__state.navigations.pop()).toEqual({ kind: 'redirectTo', url: '/pages/violations/reports/index?id=8', delta: null });
  });
});
