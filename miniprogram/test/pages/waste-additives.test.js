/** The manager's 餐厨废弃物台账 and 食品添加剂台账 (五专): lists, forms, the server's refusals. */
const {
  boot, signIn, openPage, text, tap, type, fill, pick, find, findAll, fixture, fire,
} = require('../helpers/mp');
const { submitCorrection } = require('../helpers/amend');

function asManager() {
  const env = boot();
  signIn('auth_wechat_manager');
  env.server.serve('me_manager');
  env.server.serve('canteens_school_1');
  return env;
}

/** The waste ledger with its form open. */
async function openWasteForm(server) {
  server.serve('waste_list');
  server.serve('staff_list');
  const page = await openPage('pages/records/waste/index');
  await tap(page, '#toggle-form');
  return page;
}

describe('餐厨废弃物台账', () => {
  test('lists what was handed over, to whom and by whom', async () => {
    const { server } = asManager();
    server.serve('waste_list');
    const page = await openPage('pages/records/waste/index');
    expect(server.unmatched()).toEqual([]);
    const card = find(page, `#waste-${fixture('waste_list').body.items[0].id}`);
    expect(text(card)).toContain('餐厨垃圾 42.5 千克');
    expect(text(card)).toContain('2026-03-11 09:30');
    expect(text(card)).toContain('收运：杭州城环餐厨垃圾收运有限公司 · 陈师傅 （HZCY-2026-0088）');
    expect(text(card)).toContain('交接人：钱阿姨');
  });

  test('the form checks its fields, shows the refusal of a future time beside it, then records', async () => {
    const { server, wx } = asManager();
    const page = await openWasteForm(server);
    await tap(page, '#submit');
    expect(text(page)).toContain('数量应大于 0 且不超过 10000 千克');
    expect(text(page)).toContain('请填写收运单位');
    expect(text(find(page, '#staff-error'))).toBe('请选择交接人');
    expect(server.sent('/api/v1/canteens/1/waste-disposals', 'POST')).toEqual([]);
    await type(page, '#quantity', '42.5');
    await type(page, '#company', '杭州城环餐厨垃圾收运有限公司');
    await type(page, '#collector', '陈师傅');
    await type(page, '#licence', 'HZCY-2026-0088');
    await pick(page, '#staff-picker', 0);
    expect(text(find(page, '#staff-value'))).toBe('钱阿姨');
    await pick(page, '#time-picker', '18:00');
    server.serve('waste_future', { times: 1 });
    await tap(page, '#submit');
    expect(text(find(page, '#time-error'))).toBe('时间不能晚于当前时间');
    await pick(page, '#time-picker', '09:30');
    expect(findAll(page, '#time-error')).toHaveLength(0);
    server.serve('waste_create', { times: 1 });
    await tap(page, '#submit');
    const sent = server.sent('/api/v1/canteens/1/waste-disposals', 'POST');
    expect(sent[0].data.disposed_at).toBe('2026-03-11T10:00:00Z');
    expect(sent[1].data).toEqual({
      disposed_at: '2026-03-11T01:30:00Z', waste_kind: 'food_waste', quantity_kg: 42.5,
      collector_company: '杭州城环餐厨垃圾收运有限公司', collector_name: '陈师傅', collector_licence: 'HZCY-2026-0088',
      staff_id: 18, remarks: null, photo_upload_ids: [],
    });
    expect(wx.__state.toasts).toContain('已登记');
    expect(findAll(page, '#waste-form')).toHaveLength(0);
  });
});

describe('食品添加剂台账（五专）', () => {
  test('shows the stock of each additive, the dedicated people and cabinet, and the purchases', async () => {
    const { server, wx } = asManager();
    server.serve('additive_stock');
    server.serve('additive_purchases_list');
    const page = await openPage('pages/records/additives/index');
    expect(server.unmatched()).toEqual([]);
    expect(text(find(page, '#stock'))).toContain('食用碱（碳酸钠） 结存 485 克');
    expect(text(find(page, '#dedicated'))).toBe('采购：周建华 · 保管：王建国 · 领用：王建国 · 专柜：库房食品添加剂专柜');
    const purchase = fixture('additive_purchases_list').body.items[0];
    expect(text(find(page, `#purchase-${purchase.id}`))).toContain(`采购 ${purchase.quantity} 克，结存 ${purchase.remaining} 克`);
    await tap(page, '#go-use');
    expect(wx.__state.navigations.pop().url).toBe('/pages/records/additive-use/index');
  });

  test('a purchase names its buyer, keeper and cabinet', async () => {
    const { server, wx } = asManager();
    server.serve('additive_stock');
    server.serve('additive_purchases_list');
    const page = await openPage('pages/records/additives/index');
    await tap(page, '#toggle-form');
    await tap(page, '#submit');
    ['请填写添加剂名称', '请填写采购人', '请填写保管人', '请填写存放专柜', '请填写采购数量'].forEach((message) => {
      expect(text(page)).toContain(message);
    });
    const values = {
      '#name': '食用碱（碳酸钠）', '#manufacturer': '浙江味美食品配料有限公司', '#batch': 'SJ20260301', '#quantity': '500',
      '#supplier': '杭州配料供应站', '#buyer': '周建华', '#keeper': '王建国', '#cabinet': '库房食品添加剂专柜',
    };
    await fill(page, values);
    await pick(page, '#purchase-date-picker', '2026-03-10');
    await pick(page, '#expiry-date-picker', '2027-03-01');
    server.serve('additive_purchase_create', { times: 1 });
    await tap(page, '#submit');
    expect(server.sent('/api/v1/canteens/1/additive-purchases', 'POST')[0].data).toEqual({
      additive_name: '食用碱（碳酸钠）', manufacturer: '浙江味美食品配料有限公司', batch: 'SJ20260301', quantity: 500,
      unit: 'g', purchase_date: '2026-03-10', expiry_date: '2027-03-01', supplier_name: '杭州配料供应站',
      buyer_name: '周建华', keeper_name: '王建国', cabinet: '库房食品添加剂专柜', remarks: null,
    });
    expect(wx.__state.toasts).toContain('已登记');
    expect(server.sent('/api/v1/canteens/1/additive-stock')).toHaveLength(2);
  });

  test('a use takes a batch with stock left; more than is left is refused beside the amount', async () => {
    const { server, wx } = asManager();
    server.serve('additive_stock');
    server.serve('additive_uses_list');
    const page = await openPage('pages/records/additive-use/index');
    expect(server.unmatched()).toEqual([]);
    const use = fixture('additive_uses_list').body.items[0];
    expect(text(find(page, `#use-${use.id}`))).toContain('食用碱（碳酸钠） · 批号 SJ20260301 · 15 克');
    expect(text(find(page, `#use-${use.id}`))).toContain('发放人 王建国 · 使用人 赵师傅');
    await tap(page, '#toggle-form');
    await tap(page, '#submit');
    expect(text(find(page, '#batch-error'))).toBe('请选择所用批次');
    await pick(page, '#batch-picker', 0);
    expect(text(find(page, '#batch-value'))).toBe('食用碱（碳酸钠） · SJ20260301（剩 485 克）');
    await type(page, '#dish', '碱水面');
    await type(page, '#quantity', '600');
    await type(page, '#issuer', '王建国');
    await type(page, '#user', '赵师傅');
    await tap(page, '#submit');
    expect(text(page)).toContain('库存不足：该批次剩余 485 克');
    expect(server.sent('/api/v1/canteens/1/additive-uses', 'POST')).toEqual([]);
    // The stock the page read may be stale: the server's refusal is shown beside the amount.
    await type(page, '#quantity', '400');
    server.serve('additive_use_insufficient', { times: 1 });
    await tap(page, '#submit');
    expect(text(page)).toContain(fixture('additive_use_insufficient').body.error.message);
    await type(page, '#quantity', '15');
    server.serve('additive_use_create', { times: 1 });
    await tap(page, '#submit');
    expect(server.sent('/api/v1/canteens/1/additive-uses', 'POST')[1].data).toEqual({
      use_date: '2026-03-11', meal: 'lunch', dish_name: '碱水面', purchase_id: use.purchase_id, quantity: 15,
      issuer_name: '王建国', user_name: '赵师傅', remarks: null,
    });
    expect(wx.__state.toasts).toContain('已登记');
  });

  test('the hub opens both ledgers', async () => {
    const { server, wx } = asManager();
    server.serve('today_parent');
    const page = await openPage('pages/records/hub/index');
    await tap(page, '#go-waste');
    expect(wx.__state.navigations.pop().url).toBe('/pages/records/waste/index');
    await tap(page, '#go-additives');
    expect(wx.__state.navigations.pop().url).toBe('/pages/records/additives/index');
  });
});

describe('a ledger form closed with a photo that failed', () => {
  test('opens again without the failed photo holding the next record back', async () => {
    const { server, wx } = asManager();
    const page = await openWasteForm(server);
    server.fail('POST', '/api/v1/uploads', { status: 503, times: 1 });
    wx.__state.media = [{ tempFilePath: 'wxfile://tmp/photo-failed.jpg', size: 204800 }];
    await tap(page, '#add-photo');
    await tap(page, '#toggle-form'); // closed: the picker and its failed photo are gone
    await tap(page, '#toggle-form');
    await type(page, '#quantity', '42.5');
    await type(page, '#company', '杭州城环餐厨垃圾收运有限公司');
    await type(page, '#collector', '陈师傅');
    await pick(page, '#staff-picker', 0);
    server.serve('waste_create', { times: 1 });
    await tap(page, '#submit');
    // Before, the failed photo of the closed form still stopped the record ("有照片上传失败").
    expect(server.sent('/api/v1/canteens/1/waste-disposals', 'POST')).toHaveLength(1);
  });
});

describe('更正 from a ledger row', () => {
  /** Open the ledger page, tap 更正 on its newest row (`draftName` its draft's fixture); resolves with the page and the draft. */
  async function amendNewest(server, route, draftName, list) {
    const draft = fixture(draftName).body;
    server.serve(draftName);
    const page = await openPage(route);
    expect(find(page, `#amend-${draft.record_id}`)).toBeTruthy();
    expect(fixture(list).body.items[0].id).toBe(draft.record_id);
    await tap(page, `#amend-${draft.record_id}`);
    expect(text(find(page, '#amend-notice'))).toContain(`更正${draft.kind_label}`);
    return { page, draft };
  }

  test('a waste handover: the form opens on it, and the corrected row replaces the old one', async () => {
    const { server, wx } = asManager();
    server.serve('waste_list');
    server.serve('staff_list');
    const { page } = await amendNewest(server, 'pages/records/waste/index', 'record_draft_waste', 'waste_list');
    expect(find(page, '#quantity').instance.data.value).toBe('42.5');
    expect(text(find(page, '#staff-value'))).toBe('钱阿姨');
    expect(text(page)).toContain('处置时间（今天） 09:30');
    await type(page, '#quantity', '45');
    const sent = await submitCorrection(page, server, 'amendment_waste', '称重有误，实际 45 千克');
    // The time kept as stored, the handover kept: the body is the fixture's, recorded from the real API.
    expect(sent).toEqual([fixture('amendment_waste').request.body]);
    expect(wx.__state.toasts).toContain('已更正');
    const row = find(page, `#waste-${fixture('amendment_waste').body.id}`);
    expect(text(row)).toContain('餐厨垃圾 45 千克');
    expect(text(row)).toContain('已更正');
    expect(findAll(page, '#waste-form')).toHaveLength(0);
    // Opened again, the form is a new record's, not the correction's.
    await tap(page, '#toggle-form');
    expect(findAll(page, '#amend-notice')).toHaveLength(0);
    expect(find(page, '#quantity').instance.data.value).toBe('');
  });

  test('an additive use: its own batch is offered with what it took counted back', async () => {
    const { server } = asManager();
    server.serve('additive_uses_list');
    server.serve('additive_stock');
    const { page, draft } = await amendNewest(server, 'pages/records/additive-use/index', 'record_draft_additive_use', 'additive_uses_list');
    const batch = fixture('additive_stock').body.additives[0].batches.find((b) => b.purchase_id === draft.record.purchase_id);
    expect(text(find(page, '#batch-value'))).toContain(`剩 ${batch.remaining + draft.record.quantity} `);
    await type(page, '#quantity', '12');
    server.serve('additive_uses_list');
    const sent = await submitCorrection(page, server, 'amendment_additive_use', '用量记错，实际 12 克');
    expect(sent).toEqual([fixture('amendment_additive_use').request.body]);
  });

  test('an additive purchase', async () => {
    const { server } = asManager();
    server.serve('additive_purchases_list');
    server.serve('additive_stock');
    const { page } = await amendNewest(server, 'pages/records/additives/index', 'record_draft_additive_purchase', 'additive_purchases_list');
    expect(find(page, '#batch').instance.data.value).toBe('SJ20260301');
    await type(page, '#batch', 'SJ20260302');
    const sent = await submitCorrection(page, server, 'amendment_additive_purchase', '批号抄错');
    expect(sent).toEqual([fixture('amendment_additive_purchase').request.body]);
  });

  test('an accompanied meal', async () => {
    const { server } = asManager();
    server.serve('accompanied_list');
    const { page } = await amendNewest(server, 'pages/records/accompanied/index', 'record_draft_accompanied', 'accompanied_list');
    expect(find(page, '#companion').instance.data.value).toBe('陈校长');
    await fire(page, '#rating', 'change', 4);
    const sent = await submitCorrection(page, server, 'amendment_accompanied', '评分录错，应为 4 分');
    expect(sent).toEqual([fixture('amendment_accompanied').request.body]);
  });
});
