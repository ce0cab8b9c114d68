/** Parents' pages: today's kitchen, traceability, the sample and disinfection logs, 陪餐. */
const {
  boot, signIn, openPage, flush, text, tap, find, findAll, fixture, type, query,
} = require('../helpers/mp');
const { openCorrectedTrace } = require('../helpers/amend');

function asParent() {
  const env = boot();
  signIn('auth_wechat_parent');
  env.server.serve('me_parent');
  return env;
}

/** 今日厨房 opened by a parent on the day view fixture `day`, with the canteens and this month's figures. */
async function openToday(day) {
  const env = asParent();
  [day, 'canteens_school_1', 'transparency_month'].forEach((name) => env.server.serve(name));
  return Object.assign(env, { page: await openPage('pages/records/today/index') });
}

describe('home: today\'s kitchen', () => {
  test('a first start without a binding logs in and goes to the bind page', async () => {
    const { server, wx } = boot();
    server.serve('auth_wechat_new_user');
    const page = await openPage('pages/records/today/index');
    expect(server.sent('/api/v1/auth/wechat')).toHaveLength(1);
    expect(wx.__state.navigations).toEqual([{ kind: 'reLaunch', url: '/pages/accounts/bind/index', delta: null }]);
    // The page shows nothing of a school it has no binding to.
    expect(text(page)).not.toContain('西湖实验小学');
    expect(server.unmatched()).toEqual([]);
  });

  test('shows the school, the live hours, the menu with badges and this month\'s figures', async () => {
    const { server, wx, page } = await openToday('today_parent');
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#school-name'))).toBe('西湖实验小学');
    expect(text(page)).toContain('3月11日 周三');
    expect(text(find(page, '#live-hours'))).toBe('今日直播开放：06:30–13:30、16:30–19:00');
    // Badges per meal, from the server's statuses.
    expect(text(find(page, '#meal-breakfast'))).toBe('早餐 留样 0/1 消毒 已完成');
    expect(text(find(page, '#meal-lunch'))).toBe('午餐 留样 1/3 消毒 待完成');
    expect(text(find(page, '#meal-dinner'))).toBe('晚餐 留样 无需 消毒 无需');
    expect(text(find(page, '#menu-lunch'))).toContain('青椒肉丝');
    expect(text(find(page, '#menu-lunch'))).toContain('蒜蓉西兰花');
    expect(text(find(page, '#menu-dinner'))).toContain('尚未公布菜单');
    expect(text(find(page, '#completeness-1'))).toBe('台账完成 0/3 餐');
    // The morning check beside the badges: its status (counts when done), never who was checked.
    expect(text(find(page, '#morning-1'))).toBe('晨检 3 人，合格 2 人，1 人不合格已调离食品岗位');
    const month = fixture('transparency_month').body.summary;
    expect(text(find(page, '#found'))).toBe(String(month.found));
    expect(text(find(page, '#rectified'))).toBe(String(month.rectified));
    expect(text(find(page, '#in-progress'))).toBe(String(month.in_progress));
    // The request for the figures is exactly the month so far.
    expect(server.sent('/api/v1/schools/1/transparency')[0].query).toEqual({ from: '2026-03-01', to: '2026-03-11', limit: '1' });

    await tap(page, '#dish-4');
    expect(wx.__state.navigations.pop()).toEqual({ kind: 'navigateTo', url: '/pages/records/trace/index?dish_id=4&date=2026-03-11', delta: null });
    await tap(page, '#live-entry');
    expect(wx.__state.navigations.pop().url).toBe('/pages/live/watch/index');
  });

  test('a menu corrected since it was published says so, and 已更正 opens what changed', async () => {
    const { wx, page } = await openToday('today_amended');
    const lunch = fixture('today_amended').body.canteens[0].meals.find((m) => m.meal === 'lunch');
    expect(text(find(page, `#corrected-menu-${lunch.menu.id}`))).toBe('· 菜单已更正 ›');
    expect(findAll(page, '.meal-head .corrected')).toHaveLength(1); // breakfast's menu was never corrected
    await tap(page, `#corrected-menu-${lunch.menu.id}`);
    expect(wx.__state.navigations.pop().url).toBe(`/pages/records/history/index?id=${lunch.menu.id}`);
  });

  test('a failed load shows the server message and 重试 loads again', async () => {
    const { server } = asParent();
    server.fail('GET', '/api/v1/schools/1/today', { times: 1 });
    server.serve('canteens_school_1');
    server.serve('transparency_month');
    const page = await openPage('pages/records/today/index');
    expect(text(page)).toContain('网络连接失败，请检查网络后重试');
    server.serve('today_parent');
    await tap(page, '#retry');
    expect(text(find(page, '#school-name'))).toBe('西湖实验小学');
  });
});

describe('traceability', () => {
  test('dish → ingredient → batch → supplier → certificates with scans', async () => {
    const { server, wx } = asParent();
    server.serve('today_parent');
    const page = await openPage('pages/records/trace/index', { dish_id: '4', date: '2026-03-11' });
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#dish-name'))).toBe('青椒肉丝');
    expect(wx.__state.titles).toEqual(['青椒肉丝 · 溯源']);
    const ingredient = find(page, '#ingredient-3');
    expect(text(ingredient)).toContain('猪里脊');
    expect(text(find(page, '#batch-3'))).toBe('ZLJ-0310');
    expect(text(ingredient)).toContain('生产日期：2026-03-10');
    expect(text(ingredient)).toContain('保质期至：2026-03-12');
    expect(text(ingredient)).toContain('12.5 kg · 冷藏 （到货 4°C）');
    expect(text(ingredient)).toContain('验收：2026-03-11 07:30 · 王建国');
    const supplier = text(find(page, '#supplier-3'));
    expect(supplier).toContain('供应商：杭州绿源农产品有限公司');
    expect(supplier).toContain('食品经营许可证 JY13301060012345 有效');
    expect(supplier).toContain('营业执照 91330106MA2H3K4L5P 30天内到期');
    const scans = findAll(page, '.photo');
    expect(scans.map((s) => s._exparserNode.dataset.url)).toEqual([
      'http://127.0.0.1:5000/api/v1/files/test/upload-4?signed=1',
      'http://127.0.0.1:5000/api/v1/files/test/upload-2?signed=1',
      'http://127.0.0.1:5000/api/v1/files/test/upload-3?signed=1',
    ]);
    await tap(page, scans[1]);
    expect(wx.__state.previews[0].current).toBe('http://127.0.0.1:5000/api/v1/files/test/upload-2?signed=1');
  });
});

describe('sample and disinfection logs', () => {
  function asManager() {
    const env = boot();
    signIn('auth_wechat_manager');
    env.server.serve('me_manager');
    return env;
  }

  test('samples of a day, a disposal after 48 hours, and one refused before', async () => {
    const { server, wx } = asManager();
    server.serve('day_0309');
    const page = await openPage('pages/records/logs/index', { date: '2026-03-09' });
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#date-label'))).toBe('2026-03-09（周一）');
    const roll = text(find(page, '#meal-breakfast'));
    expect(roll).toContain('葱油花卷 150 克');
    expect(roll).toContain('2026-03-09 07:40 留样 · 李秀英 · 冷藏 4°C · 已密封');
    expect(roll).toContain('保存至 2026-03-11 07:40');

    // 红烧鸡腿 was sampled at 11:50 on Monday: at 10:00 on Wednesday its 48 hours are not over.
    const lateSampleId = fixture('day_0309').body.canteens[0].meals.find((m) => m.meal === 'lunch').menu.dishes[0].sample.id;
    await tap(page, `#dispose-${lateSampleId}`);
    expect(wx.__state.modals.pop()).toEqual({ title: '暂不能处置', content: '留样须保存 48 小时以上，2026-03-11 11:50 后才能处置' });
    expect(server.sent('/api/v1/canteens/1/sample-disposals')).toEqual([]);

    const earlySampleId = fixture('day_0309').body.canteens[0].meals.find((m) => m.meal === 'breakfast').menu.dishes[0].sample.id;
    wx.__state.modalAnswers.push({ confirm: true, content: '李秀英' });
    server.serve('disposal_create', { times: 1 });
    server.serve('day_0309_disposed');
    await tap(page, `#dispose-${earlySampleId}`);
    const sent = server.sent('/api/v1/canteens/1/sample-disposals', 'POST');
    expect(sent).toHaveLength(1);
    expect(sent[0].data).toEqual({ sample_id: earlySampleId, disposer_name: '李秀英' });
    expect(sent[0].header['Idempotency-Key']).toMatch(/^[0-9a-f-]{20,}$/);
    expect(wx.__state.toasts).toContain('已登记处置');
    expect(text(find(page, '#meal-breakfast'))).toContain('已于 2026-03-11 10:00 由 李秀英 处置');
  });

  test('更正处置: the disposer\'s name is corrected with a reason, starting from the stored one', async () => {
    const { server, wx } = asManager();
    server.serve('day_0309_disposed');
    const page = await openPage('pages/records/logs/index', { date: '2026-03-09' });
    const disposalId = fixture('record_draft_disposal').body.record_id;
    expect(query(page, `#corrected-disposal-${disposalId}`)).toBeUndefined();
    // Cancelled at the reason: nothing is sent.
    server.serve('record_draft_disposal');
    wx.__state.modalAnswers.push({ confirm: true, content: '赵师傅' }, { confirm: false });
    await tap(page, `#amend-disposal-${disposalId}`);
    expect(wx.__state.modals.slice(-2)).toEqual([{ title: '更正处置人', content: '李秀英' },
      { title: '更正原因', content: '' }]);
    expect(server.sent(`/api/v1/records/${disposalId}/amendments`, 'POST')).toEqual([]);

    wx.__state.modalAnswers.push({ confirm: true, content: ' 赵师傅 ' }, { confirm: true, content: '处置人登记错误，实为赵师傅处置' });
    server.serve('amendment_disposal', { times: 1 });
    server.serve('day_0309_disposal_amended');
    await tap(page, `#amend-disposal-${disposalId}`);
    const [sent] = server.sent(`/api/v1/records/${disposalId}/amendments`, 'POST');
    const draft = fixture('record_draft_disposal').body;
    expect(sent.data).toEqual({ reason: '处置人登记错误，实为赵师傅处置', expected_version_id: draft.version_id,
      record: Object.assign({}, draft.record, { disposer_name: '赵师傅' }) });
    expect(sent.header['Idempotency-Key']).toMatch(/^[0-9a-f-]{20,}$/);
    expect(wx.__state.toasts).toContain('已更正处置');
    expect(text(find(page, '#meal-breakfast'))).toContain('由 赵师傅 处置 · 已更正 ›');
    await tap(page, `#corrected-disposal-${disposalId}`);
    expect(wx.__state.navigations.pop().url).toBe(`/pages/records/history/index?id=${disposalId}`);
  });

  test('parents see a disposal but cannot correct it', async () => {
    const { server } = asParent();
    server.serve('day_0309_disposal_amended');
    const page = await openPage('pages/records/logs/index', { date: '2026-03-09' });
    expect(text(find(page, '#meal-breakfast'))).toContain('由 赵师傅 处置 · 已更正 ›');
    expect(findAll(page, `#amend-disposal-${fixture('record_draft_disposal').body.record_id}`)).toHaveLength(0);
    expect(findAll(page, '.entry-actions')).toHaveLength(0);
  });

  test('a manager corrects a sample and a disinfection from the log; back on it, both say they were corrected', async () => {
    const { server, wx } = asManager();
    server.serve('today_parent');
    const page = await openPage('pages/records/logs/index');
    const sampleId = fixture('record_draft_sample').body.record_id;
    expect(query(page, `#corrected-sample-${sampleId}`)).toBeUndefined();
    await tap(page, `#amend-sample-${sampleId}`);
    expect(wx.__state.navigations.pop().url).toBe(`/pages/records/sample/index?amend=${sampleId}`);
    const menuId = fixture('record_draft_menu').body.record_id;
    await tap(page, `#amend-menu-${menuId}`);
    expect(wx.__state.navigations.pop().url).toBe(`/pages/records/menu/index?amend=${menuId}`);

    // Back from the form after the corrections (amendment_sample, amendment_disinfection): the log reloads.
    server.serve('today_amended');
    page.instance.onShow();
    await flush();
    expect(text(find(page, '#meal-lunch'))).toContain('青椒肉丝 135 克 · 已更正 ›');
    expect(text(find(page, '#meal-lunch'))).toContain('清炒西兰花 未留样');
    await tap(page, '#tab-disinfection');
    const disinfectionId = fixture('record_draft_disinfection').body.record_id;
    expect(text(find(page, `#disinfection-${disinfectionId}`))).toContain('蒸汽消毒 · 已更正 ›');
    expect(text(find(page, `#disinfection-${disinfectionId}`))).toContain('20 分钟');
    await tap(page, `#amend-disinfection-${disinfectionId}`);
    expect(wx.__state.navigations.pop().url).toBe(`/pages/records/disinfection/index?amend=${disinfectionId}`);
    expect(server.sent('/api/v1/schools/1/today')).toHaveLength(2);
  });

  test('disinfection tab and moving between days', async () => {
    const { server } = asParent();
    server.serve('today_parent');
    const page = await openPage('pages/records/logs/index');
    expect(text(page)).not.toContain('处置');
    expect(text(page)).not.toContain('更正'); // parents read; only those who record correct
    await tap(page, '#tab-disinfection');
    const breakfast = text(find(page, '#meal-breakfast'));
    expect(breakfast).toContain('消毒 已完成');
    expect(breakfast).toContain('餐饮具 蒸汽消毒 餐饮具 · 100°C');
    expect(breakfast).toContain('餐饮具 · 100°C · 15 分钟 · 320 件');
    expect(breakfast).toContain('2026-03-11 08:40 · 赵师傅');
    expect(text(find(page, '#meal-lunch'))).toContain('暂无消毒记录');

    server.serve('day_0310');
    await tap(page, '#prev-day');
    expect(server.sent('/api/v1/schools/1/days/2026-03-10')).toHaveLength(1);
    expect(text(page)).toContain('当天没有供餐记录');
    // Tomorrow is not offered.
    await tap(page, '#next-day');
    server.serve('today_parent');
    await tap(page, '#next-day');
    expect(server.sent('/api/v1/schools/1/today')).toHaveLength(2);
  });
});

describe('更正记录: what a correction changed', () => {
  test('a parent taps 已更正 on a sample and reads its versions: who, when, why and the weight it changed', async () => {
    const { server, wx } = asParent();
    server.serve('today_amended');
    const log = await openPage('pages/records/logs/index');
    const sampleId = fixture('record_history_sample').body.id;
    await tap(log, `#corrected-sample-${sampleId}`);
    expect(wx.__state.navigations.pop().url).toBe(`/pages/records/history/index?id=${sampleId}`);

    server.serve('record_history_sample');
    const page = await openPage('pages/records/history/index', { id: String(sampleId) });
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#history-title'))).toBe('留样记录 · 2026-03-11');
    expect(text(find(page, '#history-summary'))).toBe('共更正 1 次，以下为每一版的登记与更正');
    const [newest, first] = findAll(page, '.entry').map(text);
    expect(newest).toContain('第 2 版 · 更正');
    expect(newest).toContain('更正原因：称重时误读，实际 135 克');
    expect(newest).toContain('重量(克)：125 → 135');
    expect(newest).toContain('西湖实验小学食堂负责人（食堂负责人）');
    expect(first).toContain('第 1 版 · 登记');
    expect(first).not.toContain('→');
  });

  test('lines are named: a renamed dish is removed and added, a delivery line says which ingredient', async () => {
    const { server } = asParent();
    server.serve('record_history_menu');
    const menu = await openPage('pages/records/history/index', { id: String(fixture('record_history_menu').body.id) });
    const changed = text(findAll(menu, '.entry')[0]);
    expect(changed).toContain('删除 蒜蓉西兰花：原料（批号·供应商） 西兰花');
    expect(changed).toContain('新增 清炒西兰花：原料（批号·供应商） 西兰花');
    server.serve('record_history_receiving');
    const delivery = await openPage('pages/records/history/index', {
      id: String(fixture('record_history_receiving').body.id) });
    expect(text(findAll(delivery, '.entry')[0])).toContain('西兰花 · 批号：XLH-0311 → XLH-0311A');
  });

  test('a replaced photo is shown beside the one that replaced it, each opening a preview of its own', async () => {
    const { server, wx } = asParent();
    server.serve('record_history_disinfection');
    const history = fixture('record_history_disinfection').body;
    const page = await openPage('pages/records/history/index', { id: String(history.id) });
    expect(text(findAll(page, '.entry')[0])).toContain('照片：1 份 → 1 份（已更换）');
    // Only the photo's correction shows photos; the minutes' correction and the first registration show none.
    expect(findAll(page, '.gallery-label').map(text)).toEqual(['更正前的照片', '更正后的照片']);
    const [before, after] = findAll(page, '.photo').map((photo) => photo._exparserNode.dataset.url);
    expect([before, after]).toEqual([history.versions[1].record.files.photo[0].url,
      history.versions[2].record.files.photo[0].url]);
    expect(before).not.toBe(after);
    await tap(page, findAll(page, '.photo')[1]);
    expect(wx.__state.previews.pop()).toEqual({ urls: [after], current: after });
  });

  test('a replaced PDF report: both the first and the stamped one are listed, each opening', async () => {
    const { server, wx } = asParent();
    const history = fixture('record_history_receiving_pdf').body;
    server.serve('record_history_receiving_pdf');
    const page = await openPage('pages/records/history/index', { id: String(history.id) });
    const [replaced, first] = findAll(page, '.entry');
    expect(text(replaced)).toContain('检验报告：1 份 → 1 份（已更换）');
    expect(findAll(page, '.document').map(text)).toEqual(['更正前的检验报告 · 1 页 PDF ›', '更正后的检验报告 · 1 页 PDF ›']);
    expect(text(first)).not.toContain('PDF');
    const stamped = history.versions[1].record.files.inspection_report[0];
    server.serve('file_pdf', { path: new URL(stamped.url).pathname, query: null });
    await tap(page, findAll(page, '.document')[1]);
    expect(server.sent(new URL(stamped.url).pathname)).toHaveLength(1);
    expect(wx.__state.documents).toHaveLength(1);
  });

  test('a person\'s record is not for parents: the refusal is shown, nothing else', async () => {
    const { server } = asParent();
    server.serve('record_history_forbidden');
    const page = await openPage('pages/records/history/index', {
      id: fixture('record_history_forbidden').request.path.split('/').pop() });
    expect(text(page)).toContain('只有食堂负责人、学校食品安全管理员和校长可以查看从业人员及其健康信息');
    expect(findAll(page, '.entry')).toHaveLength(0);
  });

  test('食材溯源\'s 已更正 opens the delivery\'s and the licence\'s histories', async () => {
    const { server, wx } = asParent();
    const { page, dish } = await openCorrectedTrace(server);
    const item = dish.ingredients[0];
    await tap(page, `#corrected-receiving-${item.item_id}`);
    expect(wx.__state.navigations.pop().url).toBe(`/pages/records/history/index?id=${item.receiving_id}`);
    const licence = fixture('record_draft_certificate').body.record_id;
    await tap(page, `#corrected-cert-${licence}`);
    expect(wx.__state.navigations.pop().url).toBe(`/pages/records/history/index?id=${licence}`);
  });
});

describe('陪餐', () => {
  test('parents read the ratings; they have no form', async () => {
    const { server } = asParent();
    server.serve('canteens_school_1');
    server.serve('accompanied_list');
    const page = await openPage('pages/records/accompanied/index');
    expect(text(page)).toContain('陈校长（学校负责人）');
    expect(text(page)).toContain('鸡蛋羹口感嫩滑，分量足');
    expect(query(page, '#toggle-form')).toBeUndefined();
    expect(text(page)).not.toContain('更正'); // nor a correction
    const rate = find(page, '.van-rate');
    expect(rate).toBeTruthy();
  });

  test('a school leader records a meal with a rating', async () => {
    const { server, wx } = boot();
    signIn('auth_wechat_manager');
    server.serve('me_manager');
    server.serve('canteens_school_1');
    server.serve('accompanied_list');
    const page = await openPage('pages/records/accompanied/index');
    await tap(page, '#toggle-form');
    await tap(page, '#submit');
    expect(text(page)).toContain('请填写陪餐人姓名');
    await type(page, '#companion', '陈校长');
    await type(page, '#remarks', '鸡蛋羹口感嫩滑，分量足');
    server.serve('accompanied_create', { times: 1 });
    await tap(page, '#submit');
    const sent = server.sent('/api/v1/canteens/1/accompanied-meals', 'POST')[0];
    expect(sent.data).toEqual({
      service_date: '2026-03-11', meal: 'lunch', companion_name: '陈校长', companion_role: 'school_leader', rating: 5,
      remarks: '鸡蛋羹口感嫩滑，分量足', photo_upload_ids: [],
    });
    expect(wx.__state.toasts).toContain('已登记');
  });
});
