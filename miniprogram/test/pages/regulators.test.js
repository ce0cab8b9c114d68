/** A regulator on the phone: the entries on 我的, 监管总览 and the lists behind its figures, 检查走访, 告警审核. */
const {
  as, openPage, text, tap, type, find, findAll, query, pick, fixture,
} = require('../helpers/mp');

const REGION_STATS = { query: { region_id: '3' } };

function serveOverview(server) {
  server.serve('stats_region', REGION_STATS);
  server.serve('regions_tree');
  server.serve('schools_regulator');
  server.serve('stats_school_1');
  server.serve('stats_school_2');
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
  test('the county\'s figures, kinds and schools ranked by open problems, by name', async () => {
    const { server, wx } = as('regulator');
    serveOverview(server);
    const page = await openPage('pages/regulators/overview/index');
    expect(server.unmatched()).toEqual([]);
    expect(wx.__state.titles).toContain('西湖区监管总览');
    expect(text(find(page, '#figures'))).toBe(
      '西湖区 近 30 天 2026-02-10 至 2026-03-11 2 发现问题 1 已整改 1 整改中 0 已超期 整改率 50% 整改用时中位数 0 小时');
    expect(text(find(page, '#kinds'))).toBe('按问题类型 未佩戴厨师帽 已整改 1 · 整改中 0 1 项 发现鼠患 已整改 0 · 整改中 1 1 项');
    // School 1 has the open rodent problem: first; school 2 has none.
    expect(text(find(page, '#ranking'))).toBe(
      '学校排名（按整改中问题） 1. 西湖实验小学 发现 2 · 整改率 50% 整改中 1 2. 文三路中学 发现 0 · 整改率 — 整改中 0');
    // A county has no region below it.
    expect(query(page, '#children')).toBeUndefined();
  });

  test('each figure, kind and school opens the violations behind it over the same period', async () => {
    const { server, wx } = as('regulator');
    serveOverview(server);
    const page = await openPage('pages/regulators/overview/index');
    await tap(page, '#figure-in-progress');
    await tap(page, '#kind-rodent');
    await tap(page, '#school-1');
    const period = 'from=2026-02-10&to=2026-03-11';
    expect(wx.__state.navigations.map((n) => n.url)).toEqual([
      `/pages/violations/found/index?region_id=3&${period}&title=${encodeURIComponent('西湖区整改中的问题')}&state=in_progress`,
      `/pages/violations/found/index?region_id=3&${period}&title=${encodeURIComponent('西湖区：发现鼠患')}&kind=rodent`,
      `/pages/violations/found/index?school_id=1&${period}&title=${encodeURIComponent('西湖实验小学的问题')}`,
    ]);
  });

  test('the regions below a province are offered to drill into (from the region tree)', () => {
    const regulators = require('../../services/regulators');
    const tree = fixture('regions_tree').body.regions;
    expect(regulators.childRegions(tree, 1).map((r) => r.name)).toEqual(['杭州市']);
    expect(regulators.childRegions(tree, 2).map((r) => r.name)).toEqual(['西湖区']);
    expect(regulators.childRegions(tree, 3)).toEqual([]);
  });

  test('the server\'s refusal is shown when the authority is gone, and a principal is told it is not for them', async () => {
    const { server } = as('regulator');
    server.serve('stats_region_forbidden', { query: { region_id: '3' } });
    server.serve('regions_tree');
    server.serve('schools_regulator');
    const page = await openPage('pages/regulators/overview/index');
    expect(text(page)).toContain('无权查看该地区的统计');

    const principal = as('principal');
    const refused = await openPage('pages/regulators/overview/index');
    expect(text(refused)).toContain('该功能仅对监管部门开放');
    expect(principal.server.sent('/api/v1/stats')).toEqual([]);
  });
});

describe('问题清单 behind a figure', () => {
  test('整改中: the region\'s violations not closed yet, in the 问题整改 rows; a row opens the detail', async () => {
    const { server, wx } = as('regulator');
    server.serve('region_violations', { query: { limit: '20' } });
    const page = await openPage('pages/violations/found/index', {
      region_id: '3', state: 'in_progress', from: '2026-02-10', to: '2026-03-11', title: encodeURIComponent('西湖区整改中的问题'),
    });
    expect(server.unmatched()).toEqual([]);
    expect(wx.__state.titles).toContain('西湖区整改中的问题');
    expect(findAll(page, '.van-cell').map((c) => text(c))).toEqual(['储藏间发现鼠迹 发现鼠患 · 2026-03-11 10:00 已驳回']);
    await tap(page, '#violation-2');
    expect(wx.__state.navigations.pop().url).toBe('/pages/violations/detail/index?id=2');
    // Two rows answered for a page of 20: there is no next page.
    expect(query(page, '#load-more')).toBeUndefined();
  });

  test('a kind: the API filters it', async () => {
    const { server } = as('regulator');
    server.serve('region_violations_rodent', { query: { kind: 'rodent', limit: '20' } });
    const page = await openPage('pages/violations/found/index', { region_id: '3', kind: 'rodent' });
    expect(server.unmatched()).toEqual([]);
    expect(findAll(page, '.van-cell').map((c) => text(c))).toEqual(['储藏间发现鼠迹 发现鼠患 · 2026-03-11 10:00 已驳回']);
  });

  test('已整改 and a period that ends before the violations: nothing, and no further page asked', async () => {
    const { server } = as('regulator');
    server.serve('region_violations', { query: { limit: '20' } });
    const rectified = await openPage('pages/violations/found/index', { region_id: '3', state: 'rectified' });
    expect(findAll(rectified, '.van-cell').map((c) => text(c))).toEqual(['切配区厨师未戴帽子 未佩戴厨师帽 · 2026-03-11 10:00 已办结']);
    const earlier = await openPage('pages/violations/found/index', { region_id: '3', from: '2026-02-01', to: '2026-02-28' });
    expect(text(earlier)).toContain('没有符合条件的问题');
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
    expect(page.data.findings[0].violation_id).toBe(3);
    expect(page.data.form).toEqual({ description: '', severity: 'minor', open_violation: true, photos: [] });
    expect(findAll(page, '.photo--done')).toHaveLength(0);

    server.serve('visit_record', { path: '/api/v1/inspections/1/visits' });
    await tap(page, '#visit-issues');
    expect(server.sent('/api/v1/inspections/1/visits', 'POST')[0].data).toEqual({ canteen_id: 1, result: 'issues' });
    expect(wx.__state.navigations.pop()).toEqual({ kind: 'navigateBack', url: null, delta: 1 });
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
    expect(text(find(page, '#alarm-6'))).toBe('后厨吸烟 置信度 87% 文三路中学 · 学生食堂 · 热菜烹饪区摄像头 2026-03-11 09:58 确认属实 误报 升级督办');
    expect(text(find(page, '#alarm-5'))).toContain('同一摄像头连续告警 2 条');
    expect(text(find(page, '#alarm-4'))).toContain('同一摄像头连续告警 2 条');
    await tap(page, '#alarm-6 .evidence');
    expect(wx.__state.previews.pop().urls).toEqual(['/api/v1/files/evidence/4/2.jpg?expires=1773194700&sig=test-signature']);
  });

  test('confirm, mark false (the server asks for the reason), escalate: each judged alarm leaves the queue', async () => {
    const { server, wx } = as('regulator');
    server.serve('alarms_region', QUEUE);
    const page = await openPage('pages/regulators/review/index');

    server.serve('alarm_confirm', { times: 1 });
    await tap(page, '#confirm-6');
    expect(server.sent('/api/v1/alarms/6/review', 'POST')[0].data).toEqual({ verdict: 'confirmed', reason: null });
    expect(wx.__state.toasts).toContain('已确认');
    expect(query(page, '#alarm-6')).toBeUndefined();

    wx.__state.modalAnswers.push({ confirm: true, content: '  ' });
    server.serve('alarm_false_no_reason', { times: 1 });
    await tap(page, '#false-5');
    expect(wx.__state.toasts).toContain('标记误报时必须填写原因');
    expect(query(page, '#alarm-5')).toBeDefined();
    wx.__state.modalAnswers.push({ confirm: true, content: '厨师佩戴的是透明口罩' });
    server.serve('alarm_false', { times: 1 });
    await tap(page, '#false-5');
    expect(server.sent('/api/v1/alarms/5/review', 'POST').map((r) => r.data)).toEqual([
      { verdict: 'false_positive', reason: null }, { verdict: 'false_positive', reason: '厨师佩戴的是透明口罩' },
    ]);
    expect(query(page, '#alarm-5')).toBeUndefined();

    server.serve('alarm_escalate', { times: 1 });
    await tap(page, '#escalate-4');
    expect(server.sent('/api/v1/alarms/4/review', 'POST')[0].data).toEqual({ verdict: 'escalated', reason: null });
    expect(wx.__state.toasts).toContain('已升级督办');
    expect(text(page)).toContain('没有待审核的告警');
  });

  test('an alarm someone judged meanwhile leaves the queue with the server\'s word; an empty queue says so', async () => {
    const { server, wx } = as('regulator');
    server.serve('alarms_region', QUEUE);
    const page = await openPage('pages/regulators/review/index');
    server.serve('alarm_already_reviewed', { times: 1 });
    await tap(page, '#confirm-5');
    expect(wx.__state.toasts).toContain('该告警已被审核为“误报”，不能改判');
    expect(query(page, '#alarm-5')).toBeUndefined();

    server.serve('alarms_region_empty', QUEUE);
    await page.instance.load();
    expect(text(page)).toContain('没有待审核的告警');
  });
});
