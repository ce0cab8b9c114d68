/** 家长陪餐: parents sign up, rate after the meal and read the school's answer; the school publishes, decides and
 * answers; the parents' day page shows the opinions and the morning check's counts. */
const {
  as, openPage, text, tap, type, pick, fire, find, query, fixture,
} = require('../helpers/mp');

describe('parents sign up and rate', () => {
  test('a parent sees the places, signs up, and cannot sign up for a full slot', async () => {
    const { server, wx } = as('parent');
    server.serve('parent_meal_slots_parent');
    server.serve('parent_meal_opinions');
    server.serve('parent_meal_mine_empty');
    const page = await openPage('pages/parent-meals/slots/index');
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#slot-1'))).toContain('2026-03-11 午餐');
    expect(text(find(page, '#slot-1'))).toContain('剩余 3/3 个名额');
    expect(text(find(page, '#slot-1'))).toContain('请于11:20到校门口登记');
    expect(text(find(page, '#slot-2'))).toContain('名额已满');
    expect(query(page, '#signup-2')).toBeUndefined();
    expect(text(find(page, '#no-signups'))).toBe('还没有报名');

    server.serve('parent_meal_signup', { times: 1 });
    await tap(page, '#signup-1');
    expect(server.sent('/api/v1/parent-meal-slots/1/signups', 'POST')[0].data).toEqual({ note: null });
    expect(wx.__state.toasts).toContain('已报名，等待学校审核');
    expect(query(page, '#signup-1')).toBeUndefined();
    expect(text(find(page, '#slot-status-1'))).toBe('我已报名：待审核');
    expect(text(find(page, '#mine-2'))).toContain('待审核');
    expect(query(page, '#rating-form-2')).toBeUndefined();
  });

  test('after lunch the approved parent rates taste, hygiene and portion with a comment', async () => {
    const { server, wx } = as('parent');
    server.serve('parent_meal_slots_parent');
    server.serve('parent_meal_opinions');
    server.serve('parent_meal_mine');
    const page = await openPage('pages/parent-meals/slots/index');
    expect(text(find(page, '#mine-2'))).toContain('已通过');
    expect(text(find(page, '#mine-2'))).toContain('学校：欢迎参加');
    await fire(page, '#rate-2-taste', 'change', 4);
    await fire(page, '#rate-2-portion', 'change', 4);
    await type(page, '#comment-2', '青菜炒得有点老，其他都很好');
    server.serve('parent_meal_rate', { times: 1 });
    await tap(page, '#submit-rating-2');
    expect(server.sent('/api/v1/parent-meal-signups/2/rating', 'POST')[0].data).toEqual({
      taste: 4, hygiene: 5, portion: 4, comment: '青菜炒得有点老，其他都很好',
    });
    expect(wx.__state.toasts).toContain('感谢您的评价');
    expect(query(page, '#rating-form-2')).toBeUndefined();
    expect(text(find(page, '#opinion-2'))).toContain('口味 4 · 卫生 5 · 分量与价格 4');
    expect(text(find(page, '#waiting-2'))).toBe('等待学校答复');
  });

  test('a rating before the meal shows the server\'s reason', async () => {
    const { server } = as('parent');
    server.serve('parent_meal_slots_parent');
    server.serve('parent_meal_opinions');
    server.serve('parent_meal_mine');
    const page = await openPage('pages/parent-meals/slots/index');
    server.serve('parent_meal_rating_too_early', { times: 1 });
    await tap(page, '#submit-rating-2');
    expect(text(find(page, '#rating-error-2'))).toBe('陪餐尚未开始，用餐后才能评价');
    expect(find(page, '#rating-form-2')).toBeTruthy();
  });

  test('a place taken meanwhile: the server\'s refusal is shown; signing up twice is the same sign-up', async () => {
    const { server, wx } = as('parent');
    server.serve('parent_meal_slots_parent');
    server.serve('parent_meal_opinions');
    server.serve('parent_meal_mine_empty');
    const page = await openPage('pages/parent-meals/slots/index');
    server.serve('parent_meal_slot_full', { times: 1, path: '/api/v1/parent-meal-slots/1/signups' });
    await tap(page, '#signup-1');
    expect(wx.__state.toasts).toContain('该餐次的陪餐名额已满');
    expect(find(page, '#signup-1')).toBeTruthy();
    server.serve('parent_meal_signup_again', { times: 1 });
    await tap(page, '#signup-1');
    expect(text(find(page, '#slot-status-1'))).toBe('我已报名：待审核');
    expect(text(find(page, '#mine-2'))).toContain('待审核');
  });

  test('the parent reads the school\'s answer', async () => {
    const { server } = as('parent');
    server.serve('parent_meal_slots_parent');
    server.serve('parent_meal_opinions');
    server.serve('parent_meal_mine_answered');
    const page = await openPage('pages/parent-meals/slots/index');
    expect(text(find(page, '#answer-2'))).toBe('学校答复：已提醒厨师缩短青菜翻炒时间，感谢您的意见');
    // Other parents' opinions of the school's meals, with the answers, and never who said them.
    expect(text(find(page, '#opinions-summary'))).toBe('近 30 天 1 条评价，已答复 1 条；平均 口味 4 · 卫生 5 · 分量与价格 4');
    const opinion = text(find(page, '#public-opinion-2'));
    expect(opinion).toContain('家长');
    expect(opinion).toContain('学校答复：已提醒厨师缩短青菜翻炒时间');
    expect(opinion).not.toContain('西湖实验小学家长');
  });

  test('school staff do not sign up as parents', async () => {
    const { server } = as('staff');
    const page = await openPage('pages/parent-meals/slots/index');
    expect(text(page)).toContain('只有本校家长和家委会成员可以报名陪餐');
    expect(server.unmatched()).toEqual([]);
  });
});

describe('the school arranges and answers', () => {
  test('the principal publishes today\'s lunch for three parents', async () => {
    const { server, wx } = as('principal');
    server.serve('canteens_school_1');
    server.serve('parent_meal_signups_pending');
    const page = await openPage('pages/parent-meals/manage/index');
    expect(server.unmatched()).toEqual([]);
    await pick(page, '#date-picker', '2026-03-11');
    await type(page, '#note', '请于11:20到校门口登记');
    server.serve('parent_meal_slot_create', { times: 1 });
    await tap(page, '#publish');
    expect(server.sent('/api/v1/schools/1/parent-meal-slots', 'POST')[0].data).toEqual({
      canteen_id: 1, service_date: '2026-03-11', meal: 'lunch', capacity: 3, note: '请于11:20到校门口登记',
    });
    expect(wx.__state.toasts).toContain('已发布');
    expect(text(find(page, '#published'))).toBe('已发布：2026-03-11 午餐 · 3 个名额');
  });

  test('a meal that has begun cannot be published: the server says why', async () => {
    const { server } = as('principal');
    server.serve('canteens_school_1');
    server.serve('parent_meal_signups_pending');
    const page = await openPage('pages/parent-meals/manage/index');
    await pick(page, '#date-picker', '2026-03-11');
    await pick(page, '#meal-picker', 0);
    server.serve('parent_meal_slot_past', { times: 1 });
    await tap(page, '#publish');
    expect(text(find(page, '#publish-error'))).toBe(fixture('parent_meal_slot_past').body.error.message);
  });

  test('the principal approves a parent\'s sign-up', async () => {
    const { server, wx } = as('principal');
    server.serve('canteens_school_1');
    server.serve('parent_meal_signups_pending');
    const page = await openPage('pages/parent-meals/manage/index');
    expect(text(find(page, '#signup-2'))).toContain('西湖实验小学家长 （三年级二班）');
    expect(text(find(page, '#signup-2'))).toContain('家长留言：孩子在三年级二班');
    expect(find(page, '#approve-1')).toBeTruthy();
    server.serve('parent_meal_approve', { times: 1 });
    await tap(page, '#approve-2');
    expect(server.sent('/api/v1/parent-meal-signups/2/decision', 'POST')[0].data).toEqual({ decision: 'approve', note: null });
    expect(wx.__state.toasts).toContain('已通过');
    expect(query(page, '#approve-2')).toBeUndefined();
    expect(text(find(page, '#signup-2'))).toContain('已通过');
  });

  test('the principal answers a parent\'s opinion', async () => {
    const { server, wx } = as('principal');
    server.serve('canteens_school_1');
    server.serve('parent_meal_signups_school');
    const page = await openPage('pages/parent-meals/manage/index');
    expect(text(find(page, '#opinion-2'))).toContain('青菜炒得有点老，其他都很好');
    await tap(page, '#answer-2');
    expect(text(find(page, '#signup-2'))).toContain('请填写答复内容');
    await type(page, '#answer-text-2', '已提醒厨师缩短青菜翻炒时间，感谢您的意见');
    server.serve('parent_meal_answer', { times: 1 });
    await tap(page, '#answer-2');
    expect(server.sent('/api/v1/parent-meal-signups/2/answer', 'POST')[0].data).toEqual({
      answer: '已提醒厨师缩短青菜翻炒时间，感谢您的意见',
    });
    expect(wx.__state.toasts).toContain('已答复');
    expect(text(find(page, '#answered-2'))).toBe('已答复：已提醒厨师缩短青菜翻炒时间，感谢您的意见');
    expect(query(page, '#answer-2')).toBeUndefined();
  });

  test('parents do not arrange accompanied meals', async () => {
    const { server } = as('parent');
    const page = await openPage('pages/parent-meals/manage/index');
    expect(text(page)).toContain('只有校长和学校食品安全管理员可以安排陪餐');
    expect(server.unmatched()).toEqual([]);
  });
});

describe('the parents\' day page', () => {
  test('shows the morning check\'s counts and the parents\' opinions with the school\'s answers', async () => {
    const { server, wx } = as('parent');
    server.serve('today_parent_meals');
    server.serve('canteens_school_1');
    server.serve('transparency_month');
    const page = await openPage('pages/records/today/index');
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#morning-1'))).toBe('晨检 3 人，合格 2 人，1 人不合格已调离食品岗位');
    const opinion = text(find(page, '#parent-meals-1'));
    expect(opinion).toContain('午餐 · 家长 · 口味 4 · 卫生 5 · 分量与价格 4');
    expect(opinion).toContain('青菜炒得有点老，其他都很好');
    expect(opinion).toContain('学校答复：已提醒厨师缩短青菜翻炒时间，感谢您的意见');
    expect(opinion).not.toContain('西湖实验小学家长');
    expect(query(page, '#to-parent-meals-manage')).toBeUndefined();
    await tap(page, '#to-parent-meals');
    expect(wx.__state.navigations.pop().url).toBe('/pages/parent-meals/slots/index');
  });

  test('the principal finds the arrangements page there', async () => {
    const { server } = as('principal');
    server.serve('today_parent');
    server.serve('canteens_school_1');
    server.serve('transparency_month');
    const page = await openPage('pages/records/today/index');
    expect(find(page, '#to-parent-meals-manage')).toBeTruthy();
    expect(query(page, '#to-parent-meals')).toBeUndefined();
    expect(query(page, '#parent-meals-1')).toBeUndefined();
  });
});
