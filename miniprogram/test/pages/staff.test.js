/** 从业人员与健康证: the staff register with each person's certificate, registering, 离职, and the way to the certificate. */
const {
  as, openPage, text, tap, type, fill, find, findAll, fixture, fire, pick,
} = require('../helpers/mp');
const { openAmending, openLedgerAsManager, submitCorrection } = require('../helpers/amend');

const PAGE = 'pages/records/staff/index';
const REGISTER = '/api/v1/canteens/1/staff';

/** The manager on the register (在职), with the form open when `withForm`. */
const openRegister = (withForm) => openLedgerAsManager(PAGE, 'staff_register', withForm);

function person(name, list = 'staff_register') {
  return fixture(list).body.items.find((item) => item.name === name);
}

describe('从业人员与健康证', () => {
  test('lists the people at work with the state of each health certificate, and those who left apart', async () => {
    const { server, page } = await openRegister(false);
    expect(server.unmatched()).toEqual([]);
    expect(server.sent(REGISTER)[0].query).toEqual({ active: 'true' });
    const lines = (name) => text(find(page, `#certificate-${person(name).id}`));
    expect(lines('钱阿姨')).toBe('健康证有效期至 2027-02-19');
    expect(lines('李秀英')).toBe('健康证将于 2026-03-25 到期，请及时复检');
    expect(lines('孙师傅')).toBe('未登记健康证');
    expect(find(page, `#certificate-${person('李秀英').id}`).dom.className).toContain('warn');
    expect(find(page, `#certificate-${person('孙师傅').id}`).dom.className).toContain('danger');
    expect(text(find(page, `#person-${person('钱阿姨').id}`))).toContain('切配');
    // Only a person holding a certificate offers to correct it.
    expect(findAll(page, `#certificate-amend-${person('钱阿姨').id}`)).toHaveLength(1);
    expect(findAll(page, `#certificate-amend-${person('孙师傅').id}`)).toHaveLength(0);

    server.serve('staff_register_left');
    await tap(page, '#list-left');
    expect(server.sent(REGISTER).pop().query).toEqual({ active: 'false' });
    const left = person('赵师傅', 'staff_register_left');
    expect(text(find(page, `#person-${left.id}`))).toContain('赵师傅');
    expect(findAll(page, '.person')).toHaveLength(1);
    // Someone who left gets no certificate to register, but can still be corrected (back to 在职 if it was a mistake).
    expect(findAll(page, `#certificate-add-${left.id}`)).toHaveLength(0);
    expect(findAll(page, `#amend-${left.id}`)).toHaveLength(1);
    expect(text(find(page, `#corrected-${left.id}`))).toBe('已更正 ›');
    await tap(page, `#corrected-${left.id}`);
    expect(wx.__state.navigations.pop().url).toBe(`/pages/records/history/index?id=${left.id}`);
  });

  test('a person is checked on the phone, then registered and the register listed again', async () => {
    const { server, wx, page } = await openRegister(true);
    await tap(page, '#submit');
    expect(text(find(page, '#name'))).toContain('请填写姓名');
    expect(text(find(page, '#post'))).toContain('请填写岗位');
    await fill(page, { '#name': '周小梅', '#post': '保洁', '#phone': '138-无' });
    await tap(page, '#submit');
    expect(text(find(page, '#phone'))).toContain('电话号码格式不正确');
    expect(server.sent(REGISTER, 'POST')).toEqual([]);
    // The active switch belongs to corrections: a new person is at work.
    expect(findAll(page, '#active')).toHaveLength(0);

    await type(page, '#phone', '13905710123');
    server.serve('staff_create', { times: 1 });
    await tap(page, '#submit');
    expect(server.sent(REGISTER, 'POST')[0].data).toEqual({ name: '周小梅', post: '保洁', phone: '13905710123', active: true });
    expect(wx.__state.toasts).toContain('已登记');
    expect(findAll(page, '#staff-form')).toHaveLength(0);
    expect(server.sent(REGISTER, 'GET')).toHaveLength(2);
  });

  test("the server's refusals show by their fields", async () => {
    const { server, page } = await openRegister(true);
    await type(page, '#name', '周小梅');
    await type(page, '#post', '保洁');
    // The phone's checks passed; the server's answer (a refusal recorded from the real API) is placed by field.
    server.serve('staff_invalid', { times: 1 });
    await tap(page, '#submit');
    expect(text(find(page, '#phone'))).toContain(fixture('staff_invalid').body.error.details.fields.phone[0]);
    expect(text(find(page, '#post'))).toContain('长度应在 1 到 50 之间');
  });

  test('a name already on the register is refused, and the form offers to correct that person: 离职', async () => {
    const { server, wx, page } = await openRegister(true);
    await type(page, '#name', '赵师傅');
    await type(page, '#post', '厨师');
    server.serve('staff_exists', { times: 1 });
    await tap(page, '#submit');
    expect(text(find(page, '#form-error'))).toBe('该食堂已登记「赵师傅」，如需修改请提交更正');

    server.serve('record_draft_staff');
    await tap(page, '#amend-existing');
    expect(wx.__state.titles).toContain('更正从业人员');
    expect(find(page, '#name').instance.data.value).toBe('赵师傅');
    expect(find(page, '#post').instance.data.value).toBe('厨师');
    await fire(page, '#active', 'change', { value: false });
    const bodies = await submitCorrection(page, server, 'amendment_staff', '已于 3 月 10 日离职');
    const draft = fixture('record_draft_staff').body;
    expect(bodies).toEqual([{ reason: '已于 3 月 10 日离职', expected_version_id: draft.version_id,
      record: Object.assign({}, draft.record, { active: false }) }]);
    expect(wx.__state.toasts).toContain('已更正');
    // Listed again: a person who left is gone from 在职.
    expect(server.sent(REGISTER, 'GET')).toHaveLength(2);
  });

  test('登记健康证 opens the certificate form with the person picked; 更正健康证 opens it on the certificate', async () => {
    const { wx, page } = await openRegister(false);
    await tap(page, `#certificate-add-${person('孙师傅').id}`);
    expect(wx.__state.navigations.pop().url).toBe(`/pages/records/health/index?holder=${person('孙师傅').id}`);
    const held = person('钱阿姨').health_certificate;
    await tap(page, `#certificate-amend-${person('钱阿姨').id}`);
    expect(wx.__state.navigations.pop().url).toBe(`/pages/records/health/index?amend=${held.id}`);
  });
});

describe('健康证 from the register', () => {
  test('opened for a person, the form has them picked', async () => {
    const { server } = as('manager');
    server.serve('canteens_school_1');
    server.serve('staff_list');
    const holder = fixture('staff_list').body.items.find((item) => item.name === '李秀英');
    const page = await openPage('pages/records/health/index', { holder: String(holder.id) });
    expect(text(find(page, '#staff-value'))).toBe('李秀英');
    expect(page.data.form.staff_id).toBe(holder.id);
  });

  test('someone who left keeps their certificate: it is corrected from 离职, the holder named though not at work', async () => {
    const { server, wx } = as('manager');
    server.serve('canteens_school_1');
    server.serve('staff_register_left_certified');
    const register = await openPage(PAGE);
    await tap(register, '#list-left');
    const left = fixture('staff_register_left_certified').body.items.find((p) => p.name === '李秀英');
    expect(findAll(register, `#certificate-add-${left.id}`)).toHaveLength(0);
    await tap(register, `#certificate-amend-${left.id}`);
    const certificateId = left.health_certificate.id;
    expect(wx.__state.navigations.pop().url).toBe(`/pages/records/health/index?amend=${certificateId}`);

    server.serve('staff_departed_detail');
    const page = await openAmending(server, 'pages/records/health/index', 'record_draft_health_departed',
      ['staff_active_after_leaving']);
    expect(fixture('staff_active_after_leaving').body.items.map((p) => p.id)).not.toContain(left.id);
    expect(server.sent(`/api/v1/records/${left.id}`)).toHaveLength(1);
    expect(text(find(page, '#staff-value'))).toBe('李秀英');
    await type(page, '#number', '330106202500218');
    const draft = fixture('record_draft_health_departed').body;
    const bodies = await submitCorrection(page, server, 'amendment_health_departed', '证号抄错一位');
    expect(bodies).toEqual([{ reason: '证号抄错一位', expected_version_id: draft.version_id,
      record: Object.assign({}, draft.record, { number: '330106202500218', reading_id: null }) }]);
    expect(wx.__state.toasts).toContain('已更正');
  });

  test('a certificate is corrected from the stored one: its end of validity', async () => {
    const { server, wx } = as('manager');
    const page = await openAmending(server, 'pages/records/health/index', 'record_draft_health_certificate', ['staff_list']);
    const draft = fixture('record_draft_health_certificate').body;
    expect(wx.__state.titles).toContain('更正健康证');
    expect(text(find(page, '#staff-value'))).toBe('钱阿姨');
    expect(find(page, '#number').instance.data.value).toBe(draft.record.number);
    expect(text(find(page, '#until-value'))).toBe('2027-02-19');
    expect(findAll(page, '#photo-0')).toHaveLength(1);
    await pick(page, '#until-picker', '2027-02-20');
    const bodies = await submitCorrection(page, server, 'amendment_health_certificate', '有效期抄错，证上为 2027-02-20');
    expect(bodies).toEqual([{ reason: '有效期抄错，证上为 2027-02-20', expected_version_id: draft.version_id,
      record: Object.assign({}, draft.record, { valid_until: '2027-02-20', reading_id: null }) }]);
    expect(wx.__state.toasts).toContain('已更正');
  });
});
