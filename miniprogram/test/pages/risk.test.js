/** 透明公示: the parents' page of camera uptime and yellow and red cards. */
const {
  boot, signIn, openPage, text, find, findAll, fixture, tap,
} = require('../helpers/mp');

function asParent() {
  const env = boot();
  signIn('auth_wechat_parent');
  env.server.serve('me_parent');
  return env;
}

describe('透明公示', () => {
  test('uptime over 7 and 30 days and no card', async () => {
    const { server } = asParent();
    server.serve('risk_public_no_cards');
    const page = await openPage('pages/risk/transparency/index');
    expect(server.unmatched()).toEqual([]);
    const { uptime } = fixture('risk_public_no_cards').body;
    expect(text(find(page, '#uptime-7d'))).toBe(`${uptime.uptime_7d}%`);
    expect(text(find(page, '#uptime-30d'))).toBe(`${uptime.uptime_30d}%`);
    expect(text(find(page, '#uptime'))).toContain('西湖实验小学');
    expect(text(find(page, '#no-cards'))).toBe('暂无黄牌、红牌');
    // Before the first nightly index run there is no index: the page says so.
    expect(text(find(page, '#no-index'))).toBe('本月食安指数尚未生成');
  });

  test('a yellow card for a class-1 problem, with its kind and when it was issued', async () => {
    const { server } = asParent();
    server.serve('risk_public_yellow_card');
    const page = await openPage('pages/risk/transparency/index');
    const [card] = fixture('risk_public_yellow_card').body.cards;
    const shown = text(find(page, `#card-${card.id}`));
    expect(shown).toContain('黄牌');
    expect(shown).toContain('发现鼠患');
    expect(shown).toContain('一类风险');
    expect(shown).toContain('2026-03-12 10:00');
    expect(findAll(page, '.risk-card')).toHaveLength(1);
    // The index of the newest finished month, its rating and what each part deducted.
    const { index } = fixture('risk_public_yellow_card').body;
    expect(text(find(page, '#index'))).toContain('食安指数 · 2026年2月');
    expect(text(find(page, '#score'))).toBe(String(index.score));
    expect(text(find(page, '#rating'))).toBe(index.rating_label);
    const records = index.components.find((c) => c.name === 'records');
    expect(text(find(page, '#part-records'))).toBe(`台账完整 扣 ${records.deduction} 分（满分 ${records.cap}）`);
    expect(text(find(page, '#part-violations'))).toBe('分级问题 满分 35');
    expect(text(find(page, '#index'))).toContain('A级（阳光食堂）：食安指数不低于 90 分，且当月无一级风险问题');
    expect(findAll(page, '#no-cards')).toHaveLength(0);
  });

  test('a refusal shows the server\'s message, never figures', async () => {
    const { server } = asParent();
    // The server's answer to a parent asking for a school that is not theirs, on this page's request.
    server.serve('risk_public_other_school', { path: '/api/v1/schools/1/risk/public' });
    const page = await openPage('pages/risk/transparency/index');
    expect(text(page)).toContain(fixture('risk_public_other_school').body.error.message);
    expect(findAll(page, '#uptime-7d')).toHaveLength(0);
  });

  test('the today page links to it', async () => {
    const { server, wx } = asParent();
    server.serve('today_parent');
    server.serve('canteens_school_1');
    server.serve('transparency_month');
    const page = await openPage('pages/records/today/index');
    await tap(page, '#to-risk');
    expect(wx.__state.navigations.pop().url).toBe('/pages/risk/transparency/index');
  });
});
