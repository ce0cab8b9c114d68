/** Canteen managers' forms: samples, disinfection, menus, deliveries; photos; retries; the server's rules. */
const {
  boot, signIn, openPage, text, tap, type, pick, find, findAll, query, fixture, flush,
} = require('../helpers/mp');
const { openAmending, openCorrectedTrace, submitCorrection } = require('../helpers/amend');

function asManager() {
  const env = boot();
  signIn('auth_wechat_manager');
  env.server.serve('me_manager');
  return env;
}

async function addPhoto(page, server, wx, selector = '#add-photo') {
  wx.__state.media = [{ tempFilePath: `wxfile://tmp/photo-${server.requests.length}.jpg`, size: 204800 }];
  await tap(page, selector);
}

/** The receiving form with a supplier, one item and the receiver filled in, ready to send. */
async function openFilledReceiving(server) {
  server.serve('canteens_school_1');
  server.serve('suppliers_list');
  const page = await openPage('pages/records/receiving/index');
  await pick(page, '#supplier-picker', 0);
  await type(page, '#ingredient', '大米');
  await type(page, '#batch', 'DM-0310');
  await type(page, '#quantity', '50');
  await tap(page, '#add-item');
  await type(page, '#receiver', '王建国');
  return page;
}

describe('records hub', () => {
  test('shows what is still missing today, with the forms one tap away', async () => {
    const { server, wx } = asManager();
    server.serve('today_parent');
    server.serve('seals_in_force_empty', { query: null });
    const page = await openPage('pages/records/hub/index');
    expect(text(find(page, '#complete'))).toBe('完成 0/3 餐');
    expect(server.sent('/api/v1/canteens/1/seals')).toHaveLength(1); // what is sealed is looked up: nothing
    expect(query(page, '#seals-error')).toBeUndefined();
    expect(text(page)).toContain('早餐待留样：鸡蛋羹（08:00 前）');
    expect(text(page)).toContain('午餐待留样：蒜蓉西兰花、番茄炒蛋（12:30 前）');
    expect(text(page)).toContain('午餐餐具消毒待登记（14:30 前）');
    await tap(page, '#go-sample');
    expect(wx.__state.navigations.pop().url).toBe('/pages/records/sample/index');
  });

  test('what is sealed (封存) in the canteen: the staff read it, the principal releases it with a reason', async () => {
    const { server } = boot();
    signIn('auth_wechat_staff');
    server.serve('me_staff');
    server.serve('today_parent');
    server.serve('seals_in_force_staff');
    const page = await openPage('pages/records/hub/index');
    expect(text(find(page, '#seal-27'))).toBe('封存中 · 场所区域 · 热菜烹饪区 发现鼠迹，暂停使用并消杀 · 监管部门封存于 2026-03-11 10:00');
    expect(query(page, '#release-27')).toBeUndefined(); // the staff may not release it
    expect(query(page, '#seal-form')).toBeUndefined();

    const principal = boot();
    signIn('auth_wechat_principal');
    principal.server.serve('me_principal');
    principal.server.serve('today_parent');
    principal.server.serve('seals_in_force_staff', { times: 1 });
    const hub = await openPage('pages/records/hub/index');
    principal.wx.__state.modalAnswers.push({ confirm: true, content: '  ' });
    await tap(hub, '#release-27');
    expect(principal.wx.__state.toasts).toContain('解除封存必须填写原因');
    expect(principal.server.sent('/api/v1/records/27/release')).toEqual([]);
    principal.wx.__state.modalAnswers.push({ confirm: true, content: '消杀完毕，复查合格' });
    principal.server.serve('seal_release', { times: 1 });
    principal.server.serve('seals_in_force_empty', { query: null });
    await tap(hub, '#release-27');
    const sent = principal.server.sent('/api/v1/records/27/release', 'POST');
    expect(sent.map((r) => r.data)).toEqual([{ reason: '消杀完毕，复查合格' }]);
    expect(sent[0].header['Idempotency-Key']).toBeTruthy();
    expect(principal.wx.__state.toasts).toContain('已解除封存');
    expect(query(hub, '#seal-27')).toBeUndefined();
  });

  test('a parent cannot open it', async () => {
    const env = boot();
    signIn('auth_wechat_parent');
    env.server.serve('me_parent');
    const page = await openPage('pages/records/hub/index');
    expect(text(page)).toContain('只有食堂负责人和学校管理人员可以填报台账');
    expect(env.server.sent('/api/v1/schools/1/today')).toEqual([]);
  });
});

describe('sample log (留样)', () => {
  test('client checks use the server\'s words; a failed send is retried with the same Idempotency-Key', async () => {
    const { server, wx } = asManager();
    server.serve('today_parent');
    const page = await openPage('pages/records/sample/index');
    // Breakfast's sample is already overdue; lunch's are still due: the first lunch dish without one.
    expect(text(find(page, '#meal-value'))).toBe('午餐');
    expect(text(find(page, '#dish-value'))).toBe('蒜蓉西兰花');
    expect(text(find(page, '#time-value'))).toBe('今天 10:00');
    expect(text(find(page, '#keep-until'))).toBe('2026-03-13 10:00（48 小时）');

    await type(page, '#weight', '124');
    await type(page, '#fridge', '9');
    await tap(page, '#submit');
    // The same words the API answers for 124 g (fixture sample_weight_too_low), before any upload.
    const serverWords = fixture('sample_weight_too_low').body.error.message;
    expect(serverWords).toBe('留样重量不得少于 125 克');
    expect(text(find(page, '#weight'))).toContain(serverWords);
    expect(text(find(page, '#fridge'))).toContain('留样冰箱温度应在 0–8°C 之间');
    expect(text(page)).toContain('请填写留样人');
    expect(text(page)).toContain('请拍摄留样照片');
    expect(server.sent('/api/v1/canteens/1/samples')).toEqual([]);

    await type(page, '#weight', '125');
    await type(page, '#fridge', '4');
    await type(page, '#sampler', '李秀英');
    await pick(page, '#time-picker', '09:55');
    expect(text(find(page, '#keep-until'))).toBe('2026-03-13 09:55（48 小时）');
    server.serve('upload_photo', { times: 1 });
    await addPhoto(page, server, wx);
    const upload = server.sent('/api/v1/uploads', 'POST')[0];
    expect(upload.data.formData).toEqual({ canteen_id: '1' });
    expect(upload.header['Idempotency-Key']).toMatch(/^[0-9a-f-]{20,}$/);

    // The phone loses the network while sending: the form keeps everything and offers 重新提交.
    server.fail('POST', '/api/v1/canteens/1/samples', { times: 1 });
    await tap(page, '#submit');
    expect(text(find(page, '#form-error'))).toBe('网络连接失败，请检查网络后重试。内容已保留，请点击“重新提交”，不会重复登记。');
    expect(text(find(page, '#submit'))).toBe('重新提交');
    server.serve('sample_create', { times: 1 });
    await tap(page, '#submit');
    const sends = server.sent('/api/v1/canteens/1/samples', 'POST');
    expect(sends).toHaveLength(2);
    expect(sends[1].header['Idempotency-Key']).toBe(sends[0].header['Idempotency-Key']);
    expect(sends[1].data).toEqual({
      dish_id: 5, weight_g: 125, sampled_at: '2026-03-11T01:55:00Z', sealed: true, fridge_temperature_c: 4,
      sampler_name: '李秀英', photo_upload_ids: [fixture('upload_photo').body.id],
    });
    expect(wx.__state.toasts).toContain('留样已登记');
    expect(wx.__state.navigations.pop()).toEqual({ kind: 'navigateBack', url: null, delta: 1 });

    // The next sample is a new record: a new key.
    await type(page, '#weight', '130');
    server.serve('sample_exists', { times: 1 });
    await tap(page, '#submit');
    const third = server.sent('/api/v1/canteens/1/samples', 'POST')[2];
    expect(third.header['Idempotency-Key']).not.toBe(sends[0].header['Idempotency-Key']);
    expect(text(find(page, '#form-error'))).toBe(fixture('sample_exists').body.error.message);
  });

  test('a photo that failed to upload is retried on tap with the same key', async () => {
    const { server, wx } = asManager();
    server.serve('today_parent');
    const page = await openPage('pages/records/sample/index');
    server.fail('POST', '/api/v1/uploads', { status: 503, times: 1 });
    await addPhoto(page, server, wx);
    expect(wx.__state.toasts).toContain('服务器开小差了（503），请稍后重试');
    expect(text(find(page, '#photo-0'))).toContain('上传失败');
    server.serve('upload_photo', { times: 1 });
    await tap(page, '#photo-0');
    const uploads = server.sent('/api/v1/uploads', 'POST');
    expect(uploads).toHaveLength(2);
    expect(uploads[1].header['Idempotency-Key']).toBe(uploads[0].header['Idempotency-Key']);
    expect(text(find(page, '#photo-0'))).not.toContain('上传失败');
  });
});

describe('disinfection log (消毒)', () => {
  test('the method\'s minimums are checked as on the server, then the record is sent', async () => {
    const { server, wx } = asManager();
    server.serve('canteens_school_1');
    server.serve('areas_staff', { path: '/api/v1/canteens/1/areas' });
    const page = await openPage('pages/records/disinfection/index');
    expect(text(find(page, '#method-value'))).toBe('蒸汽消毒');
    // At 10:00 the next meal is lunch; this record is for breakfast's tableware.
    expect(text(find(page, '#meal-value'))).toBe('午餐');
    await pick(page, '#meal-picker', 0);
    expect(text(find(page, '#method-hint'))).toBe('要求：温度≥100°C，时长≥10分钟');
    await type(page, '#temperature', '100');
    await type(page, '#minutes', '5');
    await type(page, '#item-count', '320');
    await type(page, '#operator', '赵师傅');
    await tap(page, '#submit');
    expect(text(find(page, '#minutes'))).toContain(fixture('disinfection_insufficient').body.error.message);
    await type(page, '#minutes', '15');
    server.serve('upload_photo', { times: 1 });
    await addPhoto(page, server, wx);
    server.serve('disinfection_create', { times: 1 });
    await tap(page, '#submit');
    const sent = server.sent('/api/v1/canteens/1/disinfections', 'POST')[0];
    expect(sent.data).toEqual({
      service_date: '2026-03-11', meal: 'breakfast', target: 'tableware', area_id: null, target_name: null,
      method: 'steam', temperature_c: 100, minutes: 15, concentration_mg_l: null, item_count: 320,
      performed_at: '2026-03-11T02:00:00Z', operator_name: '赵师傅', photo_upload_ids: [1],
    });
    expect(wx.__state.toasts).toContain('消毒已登记');
  });

  test('a photo that failed to upload stops the record until it is retried or removed', async () => {
    const { server, wx } = asManager();
    server.serve('canteens_school_1');
    server.serve('areas_staff', { path: '/api/v1/canteens/1/areas' });
    const page = await openPage('pages/records/disinfection/index');
    await type(page, '#temperature', '100');
    await type(page, '#minutes', '15');
    await type(page, '#item-count', '320');
    await type(page, '#operator', '赵师傅');
    server.serve('upload_photo', { times: 1 });
    await addPhoto(page, server, wx);
    server.fail('POST', '/api/v1/uploads', { status: 503, times: 1 });
    await addPhoto(page, server, wx);
    await tap(page, '#submit');
    // Before, the record went out with the one photo that made it, the failed one silently left out.
    expect(text(find(page, '#photos'))).toContain('有照片上传失败，请点击重试或删除');
    expect(server.sent('/api/v1/canteens/1/disinfections', 'POST')).toEqual([]);
  });

  test('ultraviolet light is refused for tableware; chlorine asks for its concentration', async () => {
    const { server } = asManager();
    server.serve('canteens_school_1');
    server.serve('areas_staff', { path: '/api/v1/canteens/1/areas' });
    const page = await openPage('pages/records/disinfection/index');
    await pick(page, '#method-picker', 5);
    await tap(page, '#submit');
    expect(text(find(page, '#method-error'))).toBe('紫外线消毒只适用于场所，不适用于餐饮具');
    await pick(page, '#method-picker', 4);
    expect(text(find(page, '#method-hint'))).toBe('要求：时长≥5分钟，有效氯浓度≥250mg/L');
    expect(findAll(page, '#concentration')).toHaveLength(1);
    expect(findAll(page, '#temperature')).toHaveLength(0);
  });
});

describe('menu (菜单)', () => {
  test('dishes link the last week\'s received items; the server refuses a second menu for the meal', async () => {
    const { server, wx } = asManager();
    server.serve('canteens_school_1');
    server.serve('receivings_recent', { query: { from: '2026-03-04', to: '2026-03-11' } });
    const page = await openPage('pages/records/menu/index');
    expect(text(page)).toContain('猪里脊 ZLJ-0310（03-11到货）');
    // 鸡腿 of 03-08 expired on 03-12? No: 5 days from 03-08 is 03-12, still usable today.
    expect(text(page)).toContain('鸡腿 JT-0308（03-08到货）');
    await tap(page, '#submit');
    expect(text(find(page, '#dish-0'))).toContain('请填写菜品名称');
    await type(page, '#dish-name-0', '青椒肉丝');
    await tap(page, '#submit');
    expect(text(find(page, '#dish-0'))).toContain('请至少选择一种原料');
    const pork = fixture('receiving_create').body.items[0].item_id;
    await tap(page, `#pick-0-${pork}`);
    await tap(page, '#add-dish');
    await type(page, '#dish-name-1', '青椒肉丝');
    await tap(page, `#pick-1-${pork}`);
    await tap(page, '#submit');
    expect(text(find(page, '#dish-1'))).toContain('同一餐次的菜品名称不能重复');
    await tap(page, '#remove-dish-1');
    server.serve('menu_exists', { times: 1 });
    await tap(page, '#submit');
    expect(server.sent('/api/v1/canteens/1/menus', 'POST')[0].data).toEqual({
      service_date: '2026-03-11', meal: 'lunch', dishes: [{ name: '青椒肉丝', category: null, ingredient_item_ids: [pork] }],
    });
    expect(text(find(page, '#form-error'))).toBe('该餐次已有菜单，如需修改请提交更正');
    // The way to the correction the message speaks of: the menu that exists, opened to correct.
    await tap(page, '#amend-existing');
    expect(wx.__state.navigations.pop()).toMatchObject({
      kind: 'redirectTo', url: `/pages/records/menu/index?amend=${fixture('menu_exists').body.error.details.record_id}`,
    });
    server.serve('menu_create', { times: 1 });
    await pick(page, '#meal-picker', 2);
    await tap(page, '#submit');
    expect(query(page, '#amend-existing')).toBeUndefined();
    expect(wx.__state.toasts).toContain('菜单已公布');
  });

  test('a menu is corrected from what it holds: its dishes, their categories and batches kept', async () => {
    const { server, wx } = asManager();
    const menu = fixture('record_draft_menu').body;
    const page = await openAmending(server, 'pages/records/menu/index', 'record_draft_menu',
      [['receivings_recent', { query: { from: '2026-03-04', to: '2026-03-11' } }]]);
    expect(findAll(page, '.dish')).toHaveLength(3);
    expect(page.instance.data.dishes.map((d) => d.name)).toEqual(['青椒肉丝', '蒜蓉西兰花', '番茄炒蛋']);
    const broccoli = menu.record.dishes[1].ingredient_item_ids[0];
    expect(find(page, `#pick-1-${broccoli}`).dom.className).toContain('item--on');
    await type(page, '#dish-name-1', '清炒西兰花');
    // Another day picked lists that week's batches again, and keeps the dishes as the person changed them.
    server.serve('receivings_recent', { query: null });
    await pick(page, '#date-picker', '2026-03-12');
    expect(page.instance.data.dishes.map((d) => d.name)).toEqual(['青椒肉丝', '清炒西兰花', '番茄炒蛋']);
    await pick(page, '#date-picker', '2026-03-11');
    await type(page, '#reason', '菜名写错，实为清炒西兰花');
    server.serve('amendment_menu', { times: 1 });
    await tap(page, '#submit');
    expect(server.sent(`/api/v1/records/${menu.record_id}/amendments`, 'POST').map((r) => r.data))
      .toEqual([fixture('amendment_menu').request.body]);
    expect(wx.__state.toasts).toContain('已更正');
  });
});

describe('server field errors', () => {
  test('the menu form shows the server\'s error on the dish it names', async () => {
    const { server } = asManager();
    server.serve('canteens_school_1');
    server.serve('receivings_recent', { query: { from: '2026-03-04', to: '2026-03-11' } });
    const page = await openPage('pages/records/menu/index');
    const pork = fixture('receiving_create').body.items[0].item_id;
    await type(page, '#dish-name-0', '青椒肉丝'.repeat(13));
    await tap(page, `#pick-0-${pork}`);
    server.serve('menu_dish_name_too_long', { times: 1 });
    await tap(page, '#submit');
    expect(server.sent('/api/v1/canteens/1/menus', 'POST')).toHaveLength(1);
    // The server's message for dishes[0].name (fixture menu_dish_name_too_long), on that dish.
    expect(fixture('menu_dish_name_too_long').body.error.details.fields.dishes['0'].name).toEqual(['长度应在 1 到 50 之间']);
    expect(text(find(page, '#dish-error-0'))).toBe('长度应在 1 到 50 之间');
    expect(query(page, '#form-error')).toBeUndefined();
    expect(page.data.submitting).toBe(false);
  });

  test('the receiving form shows the server\'s error next to the field it names', async () => {
    const { server } = asManager();
    const page = await openFilledReceiving(server);
    server.serve('receiving_supplier_not_found', { times: 1 });
    await tap(page, '#submit');
    expect(server.sent('/api/v1/canteens/1/receivings', 'POST')).toHaveLength(1);
    expect(text(find(page, '#supplier-error'))).toBe('供应商不存在或不属于该食堂');
    expect(query(page, '#form-error')).toBeUndefined();
    // Choosing the supplier again clears the message.
    await pick(page, '#supplier-picker', 0);
    expect(query(page, '#supplier-error')).toBeUndefined();
  });
});

describe('receiving (进货查验)', () => {
  test('a delivery is corrected from what it holds: a line edited in place keeps its id, the files are kept', async () => {
    const { server, wx } = asManager();
    const delivery = fixture('record_draft_receiving').body;
    const page = await openAmending(server, 'pages/records/receiving/index', 'record_draft_receiving', ['suppliers_list']);
    expect(text(find(page, '#supplier-value'))).toBe('杭州绿源农产品有限公司');
    expect(query(page, '#item-2')).toBeTruthy();
    expect(query(page, '#item-3')).toBeUndefined();
    expect(page.data.reportIds).toEqual([4]); // the report photo already attached, shown by its picker
    await tap(page, '#item-1');
    expect(find(page, '#batch').instance.data.value).toBe('XLH-0311');
    expect(text(find(page, '#add-item'))).toBe('保存明细');
    await type(page, '#batch', 'XLH-0311A');
    await tap(page, '#add-item');
    expect(text(find(page, '#item-1'))).toContain('批次 XLH-0311A');
    const [sent] = await submitCorrection(page, server, 'amendment_receiving', '西兰花批次号抄错');
    expect(sent.expected_version_id).toBe(delivery.version_id);
    expect(sent.record.items.map((i) => [i.item_id, i.ingredient, i.batch])).toEqual(
      [[3, '猪里脊', 'ZLJ-0310'], [4, '西兰花', 'XLH-0311A'], [5, '鸡蛋', 'JD-0309']]);
    expect(sent.record).toMatchObject({
      supplier_id: delivery.record.supplier_id, received_at: delivery.record.received_at, receiver_name: '王建国',
      inspection_report_upload_ids: [4], invoice_upload_ids: [], remarks: null,
    });
    expect(sent.record.items[0]).toMatchObject({ production_date: '2026-03-10', shelf_life_days: 3, storage_temperature_c: 4 });
    expect(wx.__state.toasts).toContain('已更正');
  });

  test('a PDF report from a supplier: the correction shows it as a document that opens, and so does 食材溯源', async () => {
    const { server, wx } = asManager();
    const draft = fixture('record_draft_receiving_pdf').body;
    const [report] = draft.files.inspection_report_upload_ids;
    const page = await openAmending(server, 'pages/records/receiving/index', 'record_draft_receiving_pdf',
      ['suppliers_list']);
    expect(page.data.reportIds).toEqual([report.upload_id]);
    // Shown as a document, never as a picture of a PDF.
    expect(findAll(page, '.document-name').map(text)).toEqual(['PDF']);
    expect(findAll(page, 'image.thumb')).toHaveLength(0);
    const file = new URL(report.url).pathname;
    server.serve('file_pdf', { path: file, query: null });
    await tap(page, findAll(page, '#photo-0')[0]);
    expect(server.sent(file)).toHaveLength(1);
    expect(wx.__state.documents.map((d) => d.fileType)).toEqual(['pdf']);
    expect(wx.__state.previews).toEqual([]);

    // The dinner dish made from that delivery: its trace lists the report, which opens the same way.
    const day = fixture('today_pdf_report').body;
    const dish = day.canteens[0].meals.find((m) => m.meal === 'dinner').menu.dishes[0];
    server.serve('today_pdf_report');
    const trace = await openPage('pages/records/trace/index', { dish_id: String(dish.dish_id), date: day.date });
    const item = dish.ingredients[0].item_id;
    expect(text(find(trace, `#documents-${item}`))).toBe('检验报告 · 1 页 PDF ›');
    await tap(trace, `#document-inspection_report-${report.upload_id}`);
    expect(server.sent(file)).toHaveLength(2);
    expect(wx.__state.documents).toHaveLength(2);
    expect(server.unmatched()).toEqual([]);
  });

  test('食材溯源 offers 更正进货记录 to those who record; a corrected delivery says so', async () => {
    const { server, wx } = asManager();
    const { page, dish } = await openCorrectedTrace(server);
    const item = dish.ingredients[0].item_id;
    expect(text(find(page, `#ingredient-${item}`))).toContain('· 已更正');
    await tap(page, `#amend-receiving-${item}`);
    expect(wx.__state.navigations.pop().url).toBe(
      `/pages/records/receiving/index?amend=${fixture('record_draft_receiving').body.record_id}`);
    const licence = fixture('record_draft_certificate').body.record_id;
    expect(text(find(page, `#ingredient-${item}`))).toContain('有效期至 2026-12-31 · 已更正');
    await tap(page, `#amend-cert-${licence}`);
    expect(wx.__state.navigations.pop().url).toBe(`/pages/records/certificate/index?amend=${licence}`);
    // 登记证照: the supplier's next licence, with the supplier picked on the form.
    await tap(page, `#add-cert-${item}`);
    const supplierId = dish.ingredients[0].supplier_id;
    expect(wx.__state.navigations.pop().url).toBe(`/pages/records/certificate/index?holder=${supplierId}`);
    server.serve('canteens_school_1');
    server.serve('suppliers_list');
    const form = await openPage('pages/records/certificate/index', { holder: String(supplierId) });
    const supplier = fixture('suppliers_list').body.items.find((s) => s.id === supplierId);
    expect(text(find(form, '#supplier-value'))).toBe(supplier.name);
  });

  test('a supplier\'s certificate is corrected from its stored fields and photo, naming no reading', async () => {
    const { server, wx } = asManager();
    const licence = fixture('record_draft_certificate').body;
    const page = await openAmending(server, 'pages/records/certificate/index', 'record_draft_certificate', ['suppliers_list']);
    expect(text(find(page, '#supplier-value'))).toBe('杭州绿源农产品有限公司');
    expect(text(find(page, '#kind-value'))).toBe('营业执照');
    expect(text(find(page, '#until-value'))).toBe('2026-03-31');
    await pick(page, '#until-picker', '2026-12-31');
    const sent = await submitCorrection(page, server, 'amendment_certificate', '有效期录错，证上为 2026-12-31');
    expect(sent).toEqual([{
      reason: '有效期录错，证上为 2026-12-31', expected_version_id: licence.version_id,
      record: Object.assign({}, licence.record, { valid_until: '2026-12-31', reading_id: null }),
    }]);
    expect(wx.__state.toasts).toContain('已更正');
  });

  test('the form waits for both pickers: a failed invoice photo stops it though the report photo is in', async () => {
    const { server, wx } = asManager();
    const page = await openFilledReceiving(server);
    server.serve('upload_photo', { times: 1 });
    await addPhoto(page, server, wx, findAll(page, '#add-photo')[0]);
    server.fail('POST', '/api/v1/uploads', { status: 503, times: 1 });
    await addPhoto(page, server, wx, findAll(page, '#add-photo')[1]);
    expect(page.data.reportIds).toEqual([1]);
    await tap(page, '#submit');
    // Before, the report picker's answer cleared the invoice picker's state: the record went out without it.
    expect(text(find(page, '#form-error'))).toBe('有照片上传失败，请点击重试或删除');
    expect(server.sent('/api/v1/canteens/1/receivings', 'POST')).toEqual([]);
  });

  test('a supplier whose licence has expired is pointed out at once, and accepting needs a reason', async () => {
    const { server, wx } = asManager();
    server.serve('canteens_school_1');
    server.serve('suppliers_with_expired');
    const page = await openPage('pages/records/receiving/index');
    await pick(page, '#supplier-picker', 1);
    expect(query(page, '#expired-note')).toBeUndefined();  // its old licences were renewed
    await pick(page, '#supplier-picker', 0);
    expect(text(find(page, '#expired-note'))).toBe('该供应商的食品经营许可证（2026-03-01 到期）已过期：请拒收，或填写仍然接收的理由');
    await type(page, '#ingredient', '青菜');
    await type(page, '#batch', 'QC-0311');
    await type(page, '#quantity', '10');
    await tap(page, '#add-item');
    await type(page, '#receiver', '王建国');
    await tap(page, '#submit');
    expect(text(find(page, '#expired-reason'))).toContain('请拒收，或填写仍然接收的理由（至少 4 个字）');
    expect(server.sent('/api/v1/canteens/1/receivings', 'POST')).toEqual([]);
    // The server says the same when the page let it through: next to the reason.
    await type(page, '#expired-reason', '新证已办理，三日内补交');
    server.serve('receiving_supplier_certificate_expired', { times: 1 });
    await tap(page, '#submit');
    const sent = server.sent('/api/v1/canteens/1/receivings', 'POST')[0];
    expect(sent.data.accepted_expired_reason).toBe('新证已办理，三日内补交');
    expect(text(find(page, '#expired-reason'))).toContain(fixture('receiving_supplier_certificate_expired').body.error.message);
    expect(wx.__state.toasts).not.toContain('进货已登记');
  });

  test('an expired item is refused before sending; a delivery with a new supplier is recorded', async () => {
    const { server, wx } = asManager();
    server.serve('canteens_school_1');
    server.serve('suppliers_list');
    const page = await openPage('pages/records/receiving/index');
    await pick(page, '#supplier-picker', 0);
    expect(text(find(page, '#supplier-value'))).toBe('杭州绿源农产品有限公司');

    await type(page, '#ingredient', '牛奶');
    await pick(page, '#category-picker', 7);
    await type(page, '#batch', 'NN-0301');
    await type(page, '#quantity', '10');
    await type(page, '#unit', '箱');
    await pick(page, '#production-picker', '2026-03-01');
    await type(page, '#shelf-life', '7');
    await tap(page, '#add-item');
    // The server's own words for this item (fixture receiving_item_expired).
    expect(fixture('receiving_item_expired').body.error.message).toBe('「牛奶」已过保质期（2026-03-07），不得验收');
    expect(text(find(page, '#shelf-life'))).toContain('「牛奶」已过保质期（2026-03-07），不得验收');

    await type(page, '#ingredient', '猪里脊');
    await pick(page, '#category-picker', 1);
    await type(page, '#batch', 'ZLJ-0310');
    await type(page, '#quantity', '12.5');
    await type(page, '#unit', 'kg');
    await pick(page, '#production-picker', '2026-03-10');
    await type(page, '#shelf-life', '3');
    await pick(page, '#storage-picker', 1);
    await type(page, '#arrival-temp', '9');
    await tap(page, '#add-item');
    expect(text(find(page, '#arrival-temp'))).toContain('到货温度高于 8°C，不得验收');
    await type(page, '#arrival-temp', '4');
    await tap(page, '#add-item');
    expect(text(find(page, '#item-0'))).toContain('猪里脊 · 12.5kg');
    expect(text(find(page, '#item-0'))).toContain('批次 ZLJ-0310 · 保质期至 2026-03-12');

    await tap(page, '#submit');
    expect(text(page)).toContain('请填写验收人');
    await type(page, '#receiver', '王建国');
    server.serve('receiving_create', { times: 1 });
    await tap(page, '#submit');
    const sent = server.sent('/api/v1/canteens/1/receivings', 'POST')[0];
    expect(sent.data.items).toEqual([{
      ingredient: '猪里脊', category: 'meat', batch: 'ZLJ-0310', quantity: 12.5, unit: 'kg', production_date: '2026-03-10',
      shelf_life_days: 3, storage: 'chilled', storage_temperature_c: 4,
    }]);
    expect(sent.data.supplier_id).toBe(1);
    expect(sent.data.received_at).toBe('2026-03-11T02:00:00Z');
    expect(wx.__state.toasts).toContain('进货已登记');
  });

  test('a supplier is added on the spot', async () => {
    const { server, wx } = asManager();
    server.serve('canteens_school_1');
    server.serve('suppliers_list');
    const page = await openPage('pages/records/receiving/index');
    await tap(page, '#add-supplier');
    await tap(page, '#save-supplier');
    expect(text(page)).toContain('请填写供应商名称');
    await type(page, '#supplier-name', '杭州绿源农产品有限公司');
    await type(page, '#supplier-code', '91330106ma2h3k4l5p');
    server.serve('supplier_create', { times: 1 });
    await tap(page, '#save-supplier');
    expect(server.sent('/api/v1/canteens/1/suppliers', 'POST')[0].data).toEqual({
      name: '杭州绿源农产品有限公司', credit_code: '91330106MA2H3K4L5P', contact_name: null, phone: null, address: null,
      remarks: null,
    });
    expect(wx.__state.toasts).toContain('供应商已保存');
    await flush();
    expect(text(find(page, '#supplier-value'))).toBe('杭州绿源农产品有限公司');
  });
});

describe('morning check (晨检)', () => {
  test('lists the active staff, marks findings per person and sends the check', async () => {
    const { server, wx } = asManager();
    server.serve('canteens_school_1');
    server.serve('staff_list');
    const page = await openPage('pages/records/morning-check/index');
    expect(server.unmatched()).toEqual([]);
    expect(findAll(page, '.person').map((card) => text(card).split(' ').slice(0, 2).join(' '))).toEqual(
      ['钱阿姨 切配', '李秀英 留样员', '赵师傅 厨师']);
    await tap(page, '#submit');
    expect(text(page)).toContain('请填写晨检人');
    await type(page, '#checker', '王建国');
    await type(page, '#temperature-18', '36.8');
    await type(page, '#temperature-17', '36.6');
    await tap(page, '#hands-18');
    await tap(page, '#symptom-18-skin_wound');
    expect(text(find(page, '#hands-18'))).toBe('手部有伤口或感染');
    server.serve('morning_check_create', { times: 1 });
    await tap(page, '#submit');
    const sent = server.sent('/api/v1/canteens/1/morning-checks', 'POST')[0];
    expect(sent.data).toEqual({
      check_date: '2026-03-11', checker_name: '王建国', persons: [
        { staff_id: 18, temperature_c: 36.8, hands_ok: false, symptoms: ['skin_wound'] },
        { staff_id: 17, temperature_c: 36.6, hands_ok: true, symptoms: [] },
        { staff_id: 16, temperature_c: 36.5, hands_ok: true, symptoms: [] }],
    });
    expect(wx.__state.toasts).toContain('已登记晨检');
  });

  test('a temperature out of range stays on its row; the server\'s refusal of a fever marked 合格 is shown', async () => {
    const { server } = asManager();
    server.serve('canteens_school_1');
    server.serve('staff_list');
    const page = await openPage('pages/records/morning-check/index');
    await type(page, '#checker', '王建国');
    await type(page, '#temperature-16', '48');
    await tap(page, '#submit');
    expect(text(find(page, '#person-16'))).toContain('体温应在 34–43°C 之间');
    expect(server.sent('/api/v1/canteens/1/morning-checks', 'POST')).toEqual([]);
    await type(page, '#temperature-16', '36.5');
    server.serve('morning_check_inconsistent', { times: 1 });
    await tap(page, '#submit');
    expect(text(find(page, '#form-error'))).toBe(fixture('morning_check_inconsistent').body.error.message);
    expect(query(page, '#amend-existing')).toBeUndefined();
  });

  test('a second check of the day is refused and offers the day\'s check to correct; the correction adds a late person', async () => {
    const { server, wx } = asManager();
    server.serve('canteens_school_1');
    server.serve('staff_list_later');
    const page = await openPage('pages/records/morning-check/index');
    await type(page, '#checker', '王建国');
    server.serve('morning_check_exists', { times: 1 });
    await tap(page, '#submit');
    expect(text(find(page, '#form-error'))).toBe('当天已有晨检记录，如需补充人员请提交更正');
    await tap(page, '#amend-existing');
    const check = fixture('record_draft_morning_check').body;
    expect(wx.__state.navigations.pop()).toMatchObject({ kind: 'redirectTo', url: `/pages/records/morning-check/index?amend=${check.record_id}` });

    server.serve('record_draft_morning_check');
    const amend = await openPage('pages/records/morning-check/index', { amend: String(check.record_id) });
    // The persons checked, as checked, then the cook who came later.
    expect(findAll(amend, '.person').map((card) => text(card).split(' ')[0])).toEqual(['赵师傅', '李秀英', '钱阿姨', '孙师傅']);
    expect(find(amend, '#checker').instance.data.value).toBe('王建国');
    expect(text(find(amend, '#hands-18'))).toBe('手部有伤口或感染');
    expect(find(amend, '#symptom-18-skin_wound').dom.className).toContain('on');
    const late = fixture('staff_list_later').body.items.find((m) => m.name === '孙师傅').id;
    // Someone not in the check is left out until added: a correction does not mark the absent as checked.
    expect(text(find(amend, `#person-${late}`))).toContain('未在本次晨检中');
    expect(query(amend, `#temperature-${late}`)).toBeUndefined();
    await type(amend, '#reason', '补充晨检：孙师傅 9 点到岗');
    server.fail('POST', `/api/v1/records/${check.record_id}/amendments`, { times: 1 });
    await tap(amend, '#submit');
    const path = `/api/v1/records/${check.record_id}/amendments`;
    expect(server.sent(path, 'POST')[0].data.record.persons.map((p) => p.staff_id)).toEqual([16, 17, 18]);
    await tap(amend, `#include-${late}`);
    await type(amend, `#temperature-${late}`, '36.6');
    server.serve('amendment_morning_check', { times: 1 });
    await tap(amend, '#submit');
    const sent = server.sent(path, 'POST').slice(1);
    expect(sent.map((r) => r.data)).toEqual([{
      reason: '补充晨检：孙师傅 9 点到岗', expected_version_id: check.version_id,
      record: {
        check_date: '2026-03-11', checker_name: '王建国', checked_at: check.record.checked_at, remarks: null, persons: [
          { staff_id: 16, temperature_c: 36.5, hands_ok: true, symptoms: [] },
          { staff_id: 17, temperature_c: 36.6, hands_ok: true, symptoms: [] },
          { staff_id: 18, temperature_c: 36.8, hands_ok: false, symptoms: ['skin_wound'] },
          { staff_id: late, temperature_c: 36.6, hands_ok: true, symptoms: [] }],
      },
    }]);
    expect(wx.__state.toasts).toContain('已更正');
  });
});

describe('supplier certificate (证照, read from a photo)', () => {
  const READ_PATH = '/api/v1/uploads/1/certificate-reading';

  async function withPhoto() {
    const env = asManager();
    env.server.serve('canteens_school_1');
    env.server.serve('suppliers_list');
    const page = await openPage('pages/records/certificate/index');
    await pick(page, '#supplier-picker', 0);
    expect(findAll(page, '#read')).toHaveLength(0);  // nothing to read before a photo
    env.server.serve('upload_photo', { times: 1 });
    await addPhoto(page, env.server, env.wx);
    return Object.assign(env, { page });
  }

  test('the photo is read, the fields are prefilled for checking, and the record names the reading', async () => {
    const { server, wx, page } = await withPhoto();
    const reading = server.serve('certificate_reading', { path: READ_PATH, times: 1 });
    await pick(page, '#kind-picker', 1);
    await tap(page, '#read');
    expect(server.sent(READ_PATH, 'POST')[0].data).toEqual({ kind: 'food_business_licence' });
    expect(page.data.form.number).toBe(reading.body.suggested.number);
    expect(text(find(page, '#until-value'))).toBe('2030-06-30');
    expect(text(find(page, '#from-value'))).toBe('2025-07-01');
    expect(text(find(page, '#read-note'))).toBe('已按照片预填，请逐项核对后提交');
    // The manager corrects the end date before saving.
    await pick(page, '#until-picker', '2030-06-29');
    server.serve('certificate_create', { times: 1 });
    await tap(page, '#submit');
    expect(server.sent('/api/v1/canteens/1/certificates', 'POST')[0].data).toEqual({
      supplier_id: 1, kind: 'food_business_licence', number: 'JY13301060054321', issuer: '杭州市西湖区市场监督管理局',
      valid_from: '2025-07-01', valid_until: '2030-06-29', scan_upload_ids: [1], reading_id: reading.body.id,
    });
    expect(wx.__state.toasts).toContain('证照已登记');
  });

  test('a field read with little confidence, a long-term licence and another holder are pointed out', async () => {
    const { server, page } = await withPhoto();
    const reading = fixture('certificate_reading');
    reading.body.suggested = Object.assign({}, reading.body.suggested, {
      holder: '杭州另一家公司', long_term: true, valid_until: null, scores: { number: 0.62, holder: 0.99 } });
    server.routes.unshift({ name: 'low confidence', method: 'POST', path: READ_PATH, query: null, times: 1,
      status: 201, header: {}, body: reading.body });
    await tap(page, '#read');
    expect(text(find(page, '#number'))).toContain('识别把握不大，请核对');
    expect(text(find(page, '#read-note'))).toContain('营业期限为“长期”');
    expect(text(find(page, '#read-note'))).toContain('照片上的名称为“杭州另一家公司”，与所选的“杭州绿源农产品有限公司”不一致');
    await tap(page, '#submit');
    expect(text(find(page, '#until-error'))).toBe('请选择有效期截止日期');
    expect(server.sent('/api/v1/canteens/1/certificates', 'POST')).toEqual([]);
  });

  test('a photo with no licence on it says so and leaves the fields to be typed', async () => {
    const { server, page } = await withPhoto();
    server.serve('certificate_unreadable', { path: READ_PATH, times: 1 });
    await tap(page, '#read');
    expect(text(find(page, '#read-error'))).toBe(fixture('certificate_unreadable').body.error.message);
    expect(page.data.form.number).toBe('');
    // Animal quarantine certificates are not read: no button.
    await pick(page, '#kind-picker', 3);
    expect(findAll(page, '#read')).toHaveLength(0);
  });
});

describe('health certificate (健康证, read from a photo)', () => {
  test('the photo is read, the fields are prefilled, a different name is pointed out, and the record names the reading', async () => {
    const { server, wx } = asManager();
    server.serve('canteens_school_1');
    server.serve('staff_list');
    const page = await openPage('pages/records/health/index');
    await pick(page, '#staff-picker', 1);
    server.serve('upload_photo', { times: 1 });
    await addPhoto(page, server, wx);
    const reading = server.serve('health_certificate_reading', { path: '/api/v1/uploads/1/certificate-reading', times: 1 });
    await tap(page, '#read');
    expect(server.sent('/api/v1/uploads/1/certificate-reading', 'POST')[0].data).toEqual({ kind: 'health_certificate' });
    expect(page.data.form.number).toBe(reading.body.suggested.number);
    expect(text(find(page, '#until-value'))).toBe('2027-02-19');
    // The photo names the first person of the list, not the one chosen.
    expect(text(find(page, '#read-note'))).toContain(`照片上的名称为“${reading.body.suggested.holder}”`);
    await pick(page, '#staff-picker', 0);
    expect(text(find(page, '#read-note'))).toBe('已按照片预填，请逐项核对后提交');
    server.serve('health_certificate_create', { times: 1 });
    await tap(page, '#submit');
    const sent = server.sent('/api/v1/canteens/1/health-certificates', 'POST')[0].data;
    expect(sent).toMatchObject({ number: reading.body.suggested.number, issuer: reading.body.suggested.issuer,
      valid_from: '2026-02-20', valid_until: '2027-02-19', scan_upload_ids: [1], reading_id: reading.body.id });
    expect(wx.__state.toasts).toContain('健康证已登记');
  });
});

describe('更正 (correcting a record)', () => {
  const draft = () => fixture('record_draft_disinfection').body;

  function openAmendDisinfection(server) {
    return openAmending(server, 'pages/records/disinfection/index', 'record_draft_disinfection',
      [['areas_staff', { path: '/api/v1/canteens/1/areas' }]]);
  }

  test('the disinfection form opens on the stored record and sends it whole, with the reason, as a correction', async () => {
    const { server, wx } = asManager();
    const page = await openAmendDisinfection(server);
    expect(wx.__state.titles).toContain('更正消毒记录');
    expect(text(find(page, '#amend-notice'))).toContain('原记录保留在台账中');
    expect(text(find(page, '#meal-value'))).toBe('早餐');
    expect(text(find(page, '#method-value'))).toBe('蒸汽消毒');
    expect(find(page, '#minutes').instance.data.value).toBe('15');
    expect(find(page, '#operator').instance.data.value).toBe('赵师傅');
    expect(text(page)).toContain('今天 08:40');
    // The photo already attached is shown and counts as sent.
    expect(findAll(page, '#photo-0')).toHaveLength(1);
    expect(text(find(page, '#submit'))).toBe('提交更正');

    await type(page, '#minutes', '20');
    await tap(page, '#submit');
    expect(text(find(page, '#reason'))).toContain('请填写更正原因');
    expect(server.sent(`/api/v1/records/${draft().record_id}/amendments`, 'POST')).toEqual([]);

    await type(page, '#reason', '改');
    // The form checks 2 characters as the server does: "改" is one.
    await tap(page, '#submit');
    expect(text(find(page, '#reason'))).toContain('更正原因至少 2 个字');

    const bodies = await submitCorrection(page, server, 'amendment_disinfection', '时长误填，实际蒸汽消毒 20 分钟');
    const sent = server.sent(`/api/v1/records/${draft().record_id}/amendments`, 'POST');
    expect(bodies).toHaveLength(1);
    expect(sent[0].header['Idempotency-Key']).toBeTruthy();
    // The whole record as stored, the one change made, the time to the second as it was (the picker shows minutes);
    // tableware is sent without a name, as a new record is (the server names it).
    expect(sent[0].data).toEqual({
      reason: '时长误填，实际蒸汽消毒 20 分钟', expected_version_id: draft().version_id,
      record: Object.assign({}, draft().record, { minutes: 20, target_name: null }),
    });
    expect(wx.__state.toasts).toContain('已更正');
    expect(wx.__state.navigations.pop().kind).toBe('navigateBack');
  });

  test('the server\'s refusals show where a new record\'s would; a correction made meanwhile says to refresh', async () => {
    const { server } = asManager();
    const page = await openAmendDisinfection(server);
    await type(page, '#reason', '操作人填错');
    await type(page, '#operator', '钱阿姨');
    server.serve('amendment_conflict', { times: 1 });
    await tap(page, '#submit');
    expect(text(find(page, '#form-error'))).toBe(fixture('amendment_conflict').body.error.message);

    // A refusal of the corrected record names `record.<field>`: it shows next to that field.
    server.serve('amendment_invalid', { times: 1 });
    await type(page, '#reason', '操作人填错了');
    await tap(page, '#submit');
    const refusal = fixture('amendment_invalid').body.error.details.fields.record.operator_name[0];
    expect(text(find(page, '#operator'))).toContain(refusal);
    expect(query(page, '#form-error')).toBeUndefined();
  });

  test('the sample form opens on the stored sample of its dish, its time kept to the second, and corrects the weight', async () => {
    const { server } = asManager();
    const sample = fixture('record_draft_sample').body;
    server.serve('record_draft_sample');
    server.serve('today_parent');
    const page = await openPage('pages/records/sample/index', { amend: String(sample.record_id) });
    expect(text(find(page, '#meal-value'))).toBe('午餐');
    // The dish of the sample being corrected is the one picked, not marked as sampled already.
    expect(text(find(page, '#dish-value'))).toBe('青椒肉丝');
    expect(find(page, '#weight').instance.data.value).toBe('125');
    expect(text(find(page, '#time-value'))).toBe('今天 09:55');
    expect(text(find(page, '#keep-until'))).toBe('2026-03-13 09:55（48 小时）');
    expect(findAll(page, '#photo-0')).toHaveLength(1);

    await type(page, '#weight', '135');
    await type(page, '#reason', '称重时误读，实际 135 克');
    server.serve('amendment_sample', { times: 1 });
    await tap(page, '#submit');
    const sent = server.sent(`/api/v1/records/${sample.record_id}/amendments`, 'POST');
    expect(sent.map((r) => r.data)).toEqual([fixture('amendment_sample').request.body]);
  });
});
