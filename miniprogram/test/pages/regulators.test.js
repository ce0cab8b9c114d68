/** A regulator on the phone: the entries on 我的, 监管总览 and the lists behind its figures, 检查走访, 告警审核. */
const {
  as, openPage, text, tap, type, find, findAll, query, pick, fixture,
} = require('../helpers/mp');

const REGION_STATS = { query: { region_id: '3' } };
const PERIOD = { from: '2026-02-10', to: '2026-03-11' };

/** The page a navigation opens and its query, as WeChat hands it to onLoad (values still encoded). */
function opened(navigation) {
  const [route, search] = navigation.url.slice(1).split('?');
  const q = {};
  (search || '').split('&').filter(Boolean).forEach((pair) => {
    const [key, value] = pair.split('=');
    q[key] = value;
  });
  return { route, query: q };
}

describe('我的', () => {
  test('a regulator sees the regulator\'s pages for their region, and is not sent to bind a school', async () => {
    const { server, wx } = as('regulator');
    const page = await openPage('pages/accounts/me/index');
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#regulator-menu'))).toBe('监管工作（西湖区） 监管总览 告警审核 检查走访');
    expect(wx.__state.navigations).toEqual([]);
    await tap(page, '#menu-overview');
    expect(wx.__state.navigations.pop().url).toBe('/pages/regulators/overview/index');
    await tap(page, '#menu-review');
    expect(wx.__state.navigations.pop().url).toBe('/pages/regulators/review/index');
    await tap(page, '#menu-inspections');
    expect(wx.__state.navigations.pop().url).toBe('/pages/regulators/inspections/index');
  });

  test('the school tabs send a regulator without a school to 我的, not to bind a school', async () => {
    const { server, wx } = as('regulator');
    await openPage('pages/records/today/index');
    expect(wx.__state.navigations).toEqual([{ kind: 'switchTab', url: '/pages/accounts/me/index', delta: null }]);
    expect(server.unmatched()).toEqual([]);
  });

  test('a principal does not', async () => {
    as('principal');
    const page = await openPage('pages/accounts/me/index');
    expect(query(page, '#regulator-menu')).toBeUndefined();
    expect(text(page)).not.toContain('监管总览');
  });
});

describe('监管总览', () => {
  test('the county\'s figures, cameras, kinds, weekly trend, ranking and schools to drill into: one /stats', async () => {
    const { server, wx } = as('regulator');
    server.serve('stats_region', REGION_STATS);
    const page = await openPage('pages/regulators/overview/index');
    expect(server.unmatched()).toEqual([]);
    expect(server.sent('/api/v1/stats').map((r) => r.query)).toEqual([{ region_id: '3' }]);
    expect(server.sent('/api/v1/schools')).toEqual([]);
    expect(wx.__state.titles).toContain('西湖区监管总览');
    expect(text(find(page, '#figures'))).toBe('西湖区 近 30 天 2026-02-10 至 2026-03-11 3 发现问题 1 已整改 2 整改中 0 已超期 '
      + '整改率 33.3% 整改用时中位数 0 小时 摄像头在线率 0% 在线 0 / 启用 6');
    expect(text(find(page, '#kinds'))).toBe('按问题类型 未佩戴厨师帽 已整改 1 · 整改中 0 1 项 未佩戴口罩 已整改 0 · 整改中 1 1 项 '
      + '发现鼠患 已整改 0 · 整改中 1 1 项');
    expect(findAll(page, '.week').map((w) => text(w))).toEqual([
      '02-10 至 02-15 0 / 0', '02-16 至 02-22 0 / 0', '02-23 至 03-01 0 / 0', '03-02 至 03-08 0 / 0', '03-09 至 03-11 3 / 1']);
    // The ranking is the server's: schools with problems, most still open first.
    expect(text(find(page, '#ranking'))).toBe('学校排名（按整改中问题） 1. 西湖实验小学 发现 3 · 整改率 33.3% 整改中 2');
    // A county has no region below it: its schools, each with its figures (zero rows too).
    expect(findAll(page, '.child').map((c) => text(c))).toEqual([
      '文三路中学 › 发现 0 整改中 0 超期 0 整改率 —', '西湖实验小学 › 发现 3 整改中 2 超期 0 整改率 33.3%']);
    // The top of what the regulator may open: no breadcrumbs to go up.
    expect(query(page, '#crumbs')).toBeUndefined();
  });

  test('a city\'s regulator drills into the county below it, and comes back up by the breadcrumbs', async () => {
    const { server, wx } = as('regulator_city');
    server.serve('stats_city', { query: { region_id: '2' } });
    const city = await openPage('pages/regulators/overview/index');
    expect(server.unmatched()).toEqual([]);
    expect(findAll(city, '.child').map((c) => text(c))).toEqual(['西湖区 › 发现 7 整改中 5 超期 0 整改率 16.7%']);
    expect(text(find(city, '#ranking'))).toBe(
      '学校排名（按整改中问题） 1. 西湖实验小学 发现 6 · 整改率 20% 整改中 4 2. 文三路中学 发现 1 · 整改率 0% 整改中 1');
    await tap(city, '#drill-region-3');
    const drill = opened(wx.__state.navigations.pop());
    expect(drill).toEqual({ route: 'pages/regulators/overview/index', query: { region_id: '3' } });

    server.serve('stats_county_city', { query: { region_id: '3' } });
    const county = await openPage(drill.route, drill.query);
    expect(server.unmatched()).toEqual([]);
    expect(server.sent('/api/v1/stats').map((r) => r.query)).toEqual([{ region_id: '2' }, { region_id: '3' }]);
    expect(wx.__state.titles).toContain('西湖区监管总览');
    expect(text(find(county, '#crumbs'))).toBe('杭州市 / 西湖区');
    await tap(county, '#crumb-region-3');  // where we are: nothing
    expect(wx.__state.navigations).toEqual([]);
    await tap(county, '#crumb-region-2');
    expect(wx.__state.navigations.pop()).toMatchObject({ kind: 'redirectTo', url: '/pages/regulators/overview/index?region_id=2' });
  });

  test('a school drilled into: its figures, the breadcrumbs to the county, no ranking', async () => {
    const { server, wx } = as('regulator');
    server.serve('stats_region', REGION_STATS);
    const county = await openPage('pages/regulators/overview/index');
    await tap(county, '#drill-school-1');
    const drill = opened(wx.__state.navigations.pop());
    expect(drill.query).toEqual({ school_id: '1' });
    server.serve('stats_school_drill', { query: { school_id: '1' } });
    const school = await openPage(drill.route, drill.query);
    expect(server.unmatched()).toEqual([]);
    expect(text(find(school, '#crumbs'))).toBe('西湖区 / 西湖实验小学');
    expect(query(school, '#ranking')).toBeUndefined();
    expect(query(school, '#children')).toBeUndefined();
    await tap(school, '#figure-found');
    expect(opened(wx.__state.navigations.pop()).query).toEqual({
      school_id: '1', ...PERIOD, title: encodeURIComponent('西湖实验小学发现的问题') });
  });

  test('each figure, kind, week, school and row opens the violations behind it over the same period', async () => {
    const { server, wx } = as('regulator');
    server.serve('stats_region', REGION_STATS);
    const page = await openPage('pages/regulators/overview/index');
    const taps = ['#figure-in-progress', '#figure-overdue', '#cameras', '#kind-rodent', '#week-2026-W11', '#school-1',
      '#child-in-progress-school-1'];
    for (const selector of taps) await tap(page, selector);
    const title = (words) => encodeURIComponent(words);
    expect(wx.__state.navigations.map((n) => opened(n))).toEqual([
      { region_id: '3', ...PERIOD, title: title('西湖区整改中的问题'), state: 'in_progress' },
      { region_id: '3', ...PERIOD, title: title('西湖区已超期的问题'), overdue: 'true' },
      { region_id: '3', ...PERIOD, title: title('西湖区摄像头离线问题'), state: 'in_progress', kind: 'camera_offline' },
      { region_id: '3', ...PERIOD, title: title('西湖区：发现鼠患'), kind: 'rodent' },
      { region_id: '3', from: '2026-03-09', to: '2026-03-11', title: title('西湖区 03-09 至 03-11 发现的问题') },
      { school_id: '1', ...PERIOD, title: title('西湖实验小学的问题') },
      { school_id: '1', ...PERIOD, title: title('西湖实验小学整改中的问题'), state: 'in_progress' },
    ].map((q) => ({ route: 'pages/violations/found/index', query: q })));
  });

  test('a figure opens the list the server filters the same way: the total equals the figure', async () => {
    const { server, wx } = as('regulator');
    server.serve('stats_region', REGION_STATS);
    const overview = await openPage('pages/regulators/overview/index');
    await tap(overview, '#figure-in-progress');
    const list = opened(wx.__state.navigations.pop());
    server.serve('region_violations_in_progress');
    const page = await openPage(list.route, list.query);
    expect(server.unmatched()).toEqual([]);
    expect(server.sent('/api/v1/regions/3/violations').map((r) => r.query)).toEqual([
      { state: 'in_progress', ...PERIOD, limit: '20' }]);
    expect(wx.__state.titles).toContain('西湖区整改中的问题');
    expect(text(find(page, '#heading'))).toBe(`西湖区整改中的问题 （共 ${fixture('stats_region').body.in_progress} 项）`);
    expect(findAll(page, '.van-cell').map((c) => text(c))).toEqual([
      '未规范佩戴口罩 西湖实验小学 · 未佩戴口罩 · 2026-03-11 10:00 待通知',
      '储藏间发现鼠迹 西湖实验小学 · 发现鼠患 · 2026-03-11 10:00 已驳回']);
  });

  test('the server\'s refusal is shown when the authority is gone, and a principal is told it is not for them', async () => {
    const { server } = as('regulator');
    server.serve('stats_region_forbidden', { query: { region_id: '3' } });
    const page = await openPage('pages/regulators/overview/index');
    expect(text(page)).toContain('无权查看该地区的统计');

    const principal = as('principal');
    const refused = await openPage('pages/regulators/overview/index');
    expect(text(refused)).toContain('该功能仅对监管部门开放');
    expect(principal.server.sent('/api/v1/stats')).toEqual([]);
  });
});

describe('问题清单 behind a figure', () => {
  test('a row opens the detail; the total is the server\'s; no next page after a short one', async () => {
    const { server, wx } = as('regulator');
    server.serve('region_violations');
    const page = await openPage('pages/violations/found/index', { region_id: '3', title: encodeURIComponent('西湖区的问题') });
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#heading'))).toBe('西湖区的问题 （共 3 项）');
    await tap(page, '#violation-2');
    expect(wx.__state.navigations.pop().url).toBe('/pages/violations/detail/index?id=2');
    expect(query(page, '#load-more')).toBeUndefined();
  });

  test('a kind, 已超期 and a school: the server filters them, the phone shows what it answers', async () => {
    const { server } = as('regulator');
    server.serve('region_violations_rodent');
    const rodent = await openPage('pages/violations/found/index', { region_id: '3', kind: 'rodent', ...PERIOD });
    expect(findAll(rodent, '.van-cell').map((c) => text(c))).toEqual(['储藏间发现鼠迹 西湖实验小学 · 发现鼠患 · 2026-03-11 10:00 已驳回']);
    expect(text(find(rodent, '#heading'))).toBe('问题清单 （共 1 项）');
    server.serve('region_violations_overdue');
    const overdue = await openPage('pages/violations/found/index', { region_id: '3', overdue: 'true', ...PERIOD });
    expect(text(overdue)).toContain('没有符合条件的问题');
    expect(text(find(overdue, '#heading'))).toBe('问题清单 （共 0 项）');
    server.serve('school_violations_regulator');
    const school = await openPage('pages/violations/found/index', { school_id: '1', ...PERIOD });
    expect(findAll(school, '.van-cell')).toHaveLength(3);
    expect(server.unmatched()).toEqual([]);
  });

  test('the next page is asked with before_id and the same filters', async () => {
    const { server } = as('regulator');
    server.serve('region_violations_rectified_before');
    server.serve('region_violations_in_progress', { query: null, times: 1 });
    const page = await openPage('pages/violations/found/index', { region_id: '3', state: 'rectified', ...PERIOD });
    const next = await page.instance.fetchPage(2, 20);
    expect(server.unmatched()).toEqual([]);
    expect(server.sent('/api/v1/regions/3/violations').pop().query).toEqual({
      state: 'rectified', ...PERIOD, before_id: '2', limit: '20' });
    expect(next.items.map((v) => v.title)).toEqual(['切配区厨师未戴帽子']);
    expect(next.next).toBeNull();
    expect(text(find(page, '#heading'))).toBe('问题清单 （共 1 项）');
  });

  test('a total past what the server counts is shown as "more than"', async () => {
    const { server } = as('regulator');
    server.serve('region_violations');
    server.routes[0].header = { 'x-total-count': '10001' };  // the cap as the server answers it (docs/console.md)
    const page = await openPage('pages/violations/found/index', { region_id: '3' });
    expect(text(find(page, '#heading'))).toBe('问题清单 （共 10000 多项）');
  });

  test('the regulator reads a violation of the county without a school binding', async () => {
    const { server, wx } = as('regulator');
    server.serve('violation_detail_regulator');
    const page = await openPage('pages/violations/detail/index', { id: '1' });
    expect(server.unmatched()).toEqual([]);
    expect(wx.__state.navigations).toEqual([]);
    expect(text(find(page, '#title'))).toBe('切配区厨师未戴帽子');
    ['#start', '#answer', '#accept', '#reject'].forEach((selector) => expect(query(page, selector)).toBeUndefined());
    expect(text(page)).not.toContain('为保护隐私');
  });
});

describe('检查走访', () => {
  test('the rounds the regulator is an inspector of, with how far the visits are', async () => {
    const { server, wx } = as('regulator');
    server.serve('inspections_region');
    const page = await openPage('pages/regulators/inspections/index');
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#round-1'))).toBe('春季开学食品安全联合检查 2026-03-11 09:30 · 已走访 0/2 · 发现问题 0 项 进行中');
    await tap(page, '#round-1');
    expect(wx.__state.navigations.pop().url).toBe('/pages/regulators/round/index?id=1');
  });

  test('a round: inspectors by name, its canteens to visit', async () => {
    const { server, wx } = as('regulator');
    server.serve('inspection_planned');
    const page = await openPage('pages/regulators/round/index', { id: '1' });
    expect(text(find(page, '#inspectors'))).toBe('检查人员：西湖区市场监管局（组长）、西湖区市场监管局执法二组');
    expect(text(find(page, '#targets'))).toBe('检查食堂 西湖实验小学 · 学生食堂 尚未走访 未走访 文三路中学 · 学生食堂 尚未走访 未走访');
    await tap(page, '#target-1');
    expect(wx.__state.navigations.pop().url).toBe('/pages/regulators/visit/index?round=1&canteen=1');
  });

  test('in a canteen: a photo taken on the spot, a finding that opens a violation, then the visit\'s result', async () => {
    const { server, wx } = as('regulator');
    server.serve('inspection_planned', { times: 1 });
    const page = await openPage('pages/regulators/visit/index', { round: '1', canteen: '1' });
    expect(text(find(page, '#target'))).toBe('西湖实验小学 · 学生食堂 未走访 尚未走访');

    // The photo goes up as soon as it is taken, to the round's photos with the canteen.
    wx.__state.media = [{ tempFilePath: 'wxfile://tmp/fridge.jpg', size: 200000 }];
    server.serve('inspection_photo', { times: 1 });
    await tap(page, '#add-photo');
    const upload = server.sent('/api/v1/inspections/1/photos', 'POST');
    expect(upload.map((r) => r.data.formData)).toEqual([{ canteen_id: '1' }]);

    await type(page, '#description', '冷藏柜生熟食品混放，未分区标识');
    await pick(page, '#severity-picker', 1);
    server.serve('finding_create', { times: 1 });
    server.serve('inspection_visited', { times: 1 });
    await tap(page, '#submit');
    expect(server.sent('/api/v1/inspections/1/findings', 'POST')[0].data).toEqual({
      canteen_id: 1, description: '冷藏柜生熟食品混放，未分区标识', severity: 'major', kind: null,
      photos: ['violation-photos/test-inspection.jpg'], open_violation: true,
    });
    expect(wx.__state.toasts).toContain('已记录，并已通知学校整改');
    // The finding is listed with its photo and the violation it opened; the form is empty for the next one.
    expect(text(find(page, '#finding-1'))).toContain('冷藏柜生熟食品混放，未分区标识 较重 · 西湖区市场监管局 · 2026-03-11 10:00');
    expect(text(find(page, '#finding-1'))).toContain('已立案整改，查看问题');
    expect(page.data.findings[0].violation_id).toBe(4);
    expect(page.data.form).toEqual({ description: '', severity: 'minor', open_violation: true, photos: [] });
    expect(findAll(page, '.photo--done')).toHaveLength(0);

    server.serve('visit_record', { path: '/api/v1/inspections/1/visits' });
    await tap(page, '#visit-issues');
    expect(server.sent('/api/v1/inspections/1/visits', 'POST')[0].data).toEqual({ canteen_id: 1, result: 'issues' });
    expect(wx.__state.navigations.pop()).toEqual({ kind: 'navigateBack', url: null, delta: 1 });
  });

  test('现场封存: a kitchen area sealed on the spot, with the server\'s refusals next to the fields', async () => {
    const { server, wx } = as('regulator');
    server.serve('inspection_planned');
    server.serve('seals_in_force_empty', { times: 1 });
    server.serve('areas_regulator');
    server.serve('seal_candidates_receivings');
    server.serve('seal_candidates_samples');
    const page = await openPage('pages/regulators/visit/index', { round: '1', canteen: '1' });
    // What could be sealed: the areas, the batches of the last week, the samples still kept.
    expect(server.sent('/api/v1/canteens/1/receivings')[0].query).toEqual({ from: '2026-03-05', to: '2026-03-11', limit: '50' });
    expect(text(find(page, '#seals'))).toContain('本食堂目前没有封存中的区域、批次或留样');
    const offered = () => find(page, '#seal-box').data.candidates.map((c) => c.label);
    const candidates = offered();
    expect(candidates.slice(0, 3)).toEqual(['区域 · 热菜烹饪区', '区域 · 切配区', '区域 · 留样间']);
    expect(candidates).toContain('批次 · 猪里脊（批号 ZLJ-0310）');
    expect(candidates).toContain('留样 · 03-11 09:55 青椒肉丝');

    await tap(page, '#seal-submit');
    expect(text(find(page, '#seal-target-error'))).toBe('请选择要封存的区域、批次或留样');
    expect(server.sent('/api/v1/canteens/1/seals', 'POST')).toEqual([]);
    await pick(page, '#seal-target', 0);
    expect(text(find(page, '#seal-target-value'))).toBe('区域 · 热菜烹饪区');
    await tap(page, '#seal-submit');
    expect(text(find(page, '#seal-form'))).toContain('请填写封存原因');
    await type(page, '#seal-reason', '脏');
    server.serve('seal_reason_too_short', { times: 1 });
    await tap(page, '#seal-submit');
    expect(text(find(page, '#seal-reason'))).toContain(fixture('seal_reason_too_short').body.error.details.fields.reason[0]);
    await type(page, '#seal-reason', '发现鼠迹，暂停使用并消杀');
    server.serve('seal_create_area', { times: 1 });
    server.serve('seals_in_force_staff', { query: null });
    await tap(page, '#seal-submit');
    const sent = server.sent('/api/v1/canteens/1/seals', 'POST');
    expect(sent.map((r) => r.data)).toEqual([{ target: 'area', target_id: 1, reason: '脏' },
      { target: 'area', target_id: 1, reason: '发现鼠迹，暂停使用并消杀' }]);
    expect(sent[1].header['Idempotency-Key']).toBeTruthy();
    expect(sent[1].header['Idempotency-Key']).not.toBe(sent[0].header['Idempotency-Key']);
    expect(wx.__state.toasts).toContain('已封存，学校已收到通知');
    expect(text(find(page, '#seal-27'))).toContain('封存中 · 场所区域 · 热菜烹饪区');
    expect(query(page, '#release-27')).toBeDefined();
    // The sealed area is not offered again.
    expect(offered()).not.toContain('区域 · 热菜烹饪区');

    // Sealed meanwhile by someone else: the server's refusal shows under the picker.
    await pick(page, '#seal-target', 0);
    await type(page, '#seal-reason', '再次封存');
    server.serve('seal_already_sealed', { times: 1 });
    await tap(page, '#seal-submit');
    expect(text(find(page, '#seal-target-error'))).toBe('「热菜烹饪区」已在封存中');
  });

  test('refusals: a file that is not a photo, a finding too short (next to the field), a round already closed', async () => {
    const { server, wx } = as('regulator');
    server.serve('inspection_planned');
    const page = await openPage('pages/regulators/visit/index', { round: '1', canteen: '1' });
    wx.__state.media = [{ tempFilePath: 'wxfile://tmp/not-a-photo.jpg', size: 1000 }];
    server.serve('inspection_photo_not_image', { times: 1 });
    await tap(page, '#add-photo');
    expect(wx.__state.toasts).toContain('仅支持 JPEG、PNG、WebP 格式的图片');
    await tap(page, '#submit');
    expect(text(page)).toContain('请描述发现的问题');
    expect(text(page)).toContain('有照片上传失败，请点击重试或删除');
    await tap(page, '#remove-0');

    await type(page, '#description', '脏');
    server.serve('finding_too_short', { times: 1 });
    await tap(page, '#submit');
    expect(page.data.errors.description).toBe(fixture('finding_too_short').body.error.details.fields.description[0]);
    expect(text(find(page, '#description'))).toContain(page.data.errors.description);

    await type(page, '#description', '补充：地面有积水未清理');
    server.serve('finding_after_complete', { times: 1 });
    await tap(page, '#submit');
    expect(text(find(page, '#form-error'))).toBe('检查已结束，不能再添加检查结果');
  });

  test('the conclusion closes the round', async () => {
    const { server, wx } = as('regulator');
    server.serve('inspection_visited');
    const page = await openPage('pages/regulators/round/index', { id: '1' });
    expect(text(find(page, '#targets'))).toBe(
      '检查食堂 西湖实验小学 · 学生食堂 走访于 2026-03-11 10:00 · 发现问题 1 项 发现问题 文三路中学 · 学生食堂 走访于 2026-03-11 10:00 合格');
    await type(page, '#summary', '检查两所学校食堂，发现问题1项，已责令整改。');
    server.serve('inspection_complete');
    await tap(page, '#complete');
    expect(wx.__state.modals.pop().content).toBe('完成后不能再添加检查结果。确定完成？');
    expect(server.sent('/api/v1/inspections/1/complete', 'POST')[0].data).toEqual({ summary: '检查两所学校食堂，发现问题1项，已责令整改。' });
    expect(text(find(page, '#conclusion'))).toBe('检查结论 检查两所学校食堂，发现问题1项，已责令整改。 完成于 2026-03-11 10:00');
    expect(query(page, '#complete')).toBeUndefined();
  });
});

describe('告警审核', () => {
  const QUEUE = { query: { limit: '20' } };

  test('the county\'s alarms newest first with the evidence; two of one camera are one event', async () => {
    const { server, wx } = as('regulator');
    server.serve('alarms_region', QUEUE);
    const page = await openPage('pages/regulators/review/index');
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#alarm-7'))).toBe('后厨吸烟 置信度 87% 文三路中学 · 学生食堂 · 热菜烹饪区摄像头 2026-03-11 09:58 确认属实 误报 升级督办');
    expect(text(find(page, '#alarm-6'))).toContain('同一摄像头连续告警 2 条');
    expect(text(find(page, '#alarm-5'))).toContain('同一摄像头连续告警 2 条');
    await tap(page, '#alarm-7 .evidence');
    expect(wx.__state.previews.pop().urls).toEqual(['/api/v1/files/evidence/4/2.jpg?expires=1773194700&sig=test-signature']);
  });

  test('confirm, mark false (the server asks for the reason), escalate: each judged alarm leaves the queue', async () => {
    const { server, wx } = as('regulator');
    server.serve('alarms_region', QUEUE);
    const page = await openPage('pages/regulators/review/index');

    server.serve('alarm_confirm', { times: 1 });
    await tap(page, '#confirm-7');
    expect(server.sent('/api/v1/alarms/7/review', 'POST')[0].data).toEqual({ verdict: 'confirmed', reason: null });
    expect(wx.__state.toasts).toContain('已确认');
    expect(query(page, '#alarm-7')).toBeUndefined();

    wx.__state.modalAnswers.push({ confirm: true, content: '  ' });
    server.serve('alarm_false_no_reason', { times: 1 });
    await tap(page, '#false-6');
    expect(wx.__state.toasts).toContain('标记误报时必须填写原因');
    expect(query(page, '#alarm-6')).toBeDefined();
    wx.__state.modalAnswers.push({ confirm: true, content: '厨师佩戴的是透明口罩' });
    server.serve('alarm_false', { times: 1 });
    await tap(page, '#false-6');
    expect(server.sent('/api/v1/alarms/6/review', 'POST').map((r) => r.data)).toEqual([
      { verdict: 'false_positive', reason: null }, { verdict: 'false_positive', reason: '厨师佩戴的是透明口罩' },
    ]);
    expect(query(page, '#alarm-6')).toBeUndefined();

    server.serve('alarm_escalate', { times: 1 });
    await tap(page, '#escalate-5');
    expect(server.sent('/api/v1/alarms/5/review', 'POST')[0].data).toEqual({ verdict: 'escalated', reason: null });
    expect(wx.__state.toasts).toContain('已升级督办');
    expect(text(page)).toContain('没有待审核的告警');
  });

  test('an alarm someone judged meanwhile leaves the queue with the server\'s word; an empty queue says so', async () => {
    const { server, wx } = as('regulator');
    server.serve('alarms_region', QUEUE);
    const page = await openPage('pages/regulators/review/index');
    server.serve('alarm_already_reviewed', { times: 1 });
    await tap(page, '#confirm-6');
    expect(wx.__state.toasts).toContain('该告警已被审核为“误报”，不能改判');
    expect(query(page, '#alarm-6')).toBeUndefined();

    server.serve('alarms_region_empty', QUEUE);
    await page.instance.load();
    expect(text(page)).toContain('没有待审核的告警');
  });
});

describe('监督整改通知', () => {
  test('the school\'s orders from 我的: staff and the principal have the entry, a parent does not', async () => {
    const { server, wx } = as('staff');
    // 我的 counts what waits behind its entries (the orders not answered among them).
    server.serve('inbox_manager', { query: { limit: '1' } });
    server.serve('memberships_pending');
    server.serve('orders_school');
    const me = await openPage('pages/accounts/me/index');
    expect(text(find(me, '#menu-orders'))).toContain('1 待答复');
    await tap(me, '#menu-orders');
    expect(wx.__state.navigations.pop().url).toBe('/pages/regulators/orders/index');
    const page = await openPage('pages/regulators/orders/index');
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#waiting'))).toBe('1 份通知待答复，请在整改期限前答复');
    expect(text(find(page, '#order-1'))).toBe('后厨防鼠设施整改 西湖区市场监管局 · 整改期限 2026-03-18 17:00 待答复');
    await tap(page, '#order-1');
    expect(wx.__state.navigations.pop().url).toBe('/pages/regulators/order/index?id=1');

    as('parent');
    const parentMe = await openPage('pages/accounts/me/index');
    expect(query(parentMe, '#menu-orders')).toBeUndefined();
  });

  test('the principal answers: an empty answer, then the server\'s refusal next to the field, then the answer', async () => {
    const { server, wx } = as('principal');
    server.serve('order_principal', { times: 1 });
    const page = await openPage('pages/regulators/order/index', { id: '1' });
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#order'))).toBe('后厨防鼠设施整改 待答复 学校：西湖实验小学 下发：西湖区市场监管局 · 2026-03-11 10:00 '
      + '整改期限：2026-03-18 17:00 热菜烹饪区发现鼠迹，请完善挡鼠板、封堵孔洞并提交整改情况。');
    expect(text(find(page, '#violations'))).toBe('涉及的问题 切配区厨师未戴帽子 已办结');
    await tap(page, '#violation-1');
    expect(wx.__state.navigations.pop().url).toBe('/pages/violations/detail/index?id=1');
    expect(query(page, '#response')).toBeUndefined();
    expect(query(page, '#close')).toBeUndefined();

    await tap(page, '#respond');
    expect(text(find(page, '#answer-form'))).toContain('请填写整改措施和完成情况');
    expect(server.sent('/api/v1/supervision-orders/1/respond', 'POST')).toEqual([]);

    await type(page, '#response-input', '已整改');
    server.serve('order_response_too_short', { times: 1 });
    await tap(page, '#respond');
    const refusal = fixture('order_response_too_short').body.error.details.fields.response[0];
    expect(text(find(page, '#answer-form'))).toContain(refusal);

    const answer = '已加装挡鼠板，封堵墙角孔洞 3 处，并请专业公司完成灭鼠。';
    await type(page, '#response-input', answer);
    server.serve('order_respond', { times: 1 });
    await tap(page, '#respond');
    expect(server.sent('/api/v1/supervision-orders/1/respond', 'POST').map((r) => r.data)).toEqual([
      { response: '已整改' }, { response: answer }]);
    expect(wx.__state.toasts).toContain('已答复，监管部门已收到通知');
    expect(text(find(page, '#status'))).toBe('已答复');
    expect(text(find(page, '#response'))).toBe(`学校答复 ${answer} 西湖实验小学校长 · 2026-03-11 10:00`);
    // Until it is closed the principal may answer again: the form now edits the answer given.
    expect(text(find(page, '#answer-form'))).toContain('修改答复');
    expect(page.data.response).toBe(answer);
  });

  test('an order closed meanwhile: the server\'s word under the answer', async () => {
    const { server } = as('principal');
    server.serve('order_principal', { times: 1 });
    const page = await openPage('pages/regulators/order/index', { id: '1' });
    await type(page, '#response-input', '补充：已增设粘鼠板。');
    server.serve('order_respond_closed', { times: 1 });
    await tap(page, '#respond');
    expect(text(find(page, '#answer-form'))).toContain('该通知已办结');
  });

  test('the school\'s staff read the order; only the principal answers it', async () => {
    const { server } = as('staff');
    server.serve('order_staff');
    const page = await openPage('pages/regulators/order/index', { id: '1' });
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#title'))).toBe('后厨防鼠设施整改');
    expect(query(page, '#respond')).toBeUndefined();
    expect(query(page, '#close')).toBeUndefined();
  });

  test('the regulator closes an answered order with a word on why; the school is told', async () => {
    const { server, wx } = as('regulator');
    server.serve('order_regulator', { times: 1 });
    const page = await openPage('pages/regulators/order/index', { id: '1' });
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#status'))).toBe('已答复');
    expect(query(page, '#respond')).toBeUndefined();
    // Cancelled: nothing is sent.
    wx.__state.modalAnswers.push({ confirm: false });
    await tap(page, '#close');
    expect(server.sent('/api/v1/supervision-orders/1/close', 'POST')).toEqual([]);
    wx.__state.modalAnswers.push({ confirm: true, content: '  现场复查合格 ' });
    server.serve('order_close', { times: 1 });
    await tap(page, '#close');
    expect(wx.__state.modals.pop().title).toBe('办结');
    expect(server.sent('/api/v1/supervision-orders/1/close', 'POST').map((r) => r.data)).toEqual([{ reason: '现场复查合格' }]);
    expect(text(find(page, '#status'))).toBe('已办结');
    expect(text(find(page, '#closing'))).toBe('已办结 现场复查合格 西湖区市场监管局 · 2026-03-11 10:00');
    expect(query(page, '#close')).toBeUndefined();
  });

  test('a message sent before the order had its page opens the order, not the inbox again', async () => {
    const { server, wx } = as('principal');
    await openPage('pages/notices/inbox/index', { order: '7' });
    expect(wx.__state.navigations).toEqual([{ kind: 'redirectTo', url: '/pages/regulators/order/index?id=7', delta: null }]);
    expect(server.sent('/api/v1/me/notices')).toEqual([]);
  });
});
