/** 供应商与证照: the suppliers with their licences, registering one, a name already registered, 更正, licences. */
const {
  text, tap, type, fill, find, findAll, fixture,
} = require('../helpers/mp');
const { openLedgerAsManager, submitCorrection } = require('../helpers/amend');

const REGISTER = '/api/v1/canteens/1/suppliers';

const openRegister = (withForm) => openLedgerAsManager('pages/records/suppliers/index', 'supplier_register', withForm);

function supplier(name) {
  return fixture('supplier_register').body.items.find((item) => item.name === name);
}

describe('供应商与证照', () => {
  test('lists each supplier with its licences and their state; one without any is marked', async () => {
    const { server, wx, page } = await openRegister(false);
    expect(server.unmatched()).toEqual([]);
    const green = supplier('杭州绿源农产品有限公司');
    const card = find(page, `#supplier-${green.id}`);
    expect(text(card)).toContain('统一社会信用代码 91330106MA2H3K4L5P');
    green.certificates.forEach((cert) => {
      expect(text(find(page, `#cert-${cert.id}`))).toContain(`${cert.kind_label} ${cert.number}`);
      expect(text(find(page, `#cert-${cert.id}`))).toContain(cert.status_label);
    });
    const fresh = supplier('杭州晨光粮油店');
    expect(text(find(page, `#no-cert-${fresh.id}`))).toBe('未登记资质证照');
    expect(findAll(page, `#no-cert-${green.id}`)).toHaveLength(0);
    await tap(page, `#certificate-add-${fresh.id}`);
    expect(wx.__state.navigations.pop().url).toBe(`/pages/records/certificate/index?holder=${fresh.id}`);
    const licence = green.certificates[0];
    await tap(page, `#certificate-amend-${licence.id}`);
    expect(wx.__state.navigations.pop().url).toBe(`/pages/records/certificate/index?amend=${licence.id}`);
  });

  test('a supplier is checked on the phone by the server\'s rules, then registered', async () => {
    const { server, wx, page } = await openRegister(true);
    await tap(page, '#submit');
    expect(text(find(page, '#name'))).toContain('请填写供应商名称');
    await fill(page, { '#name': '杭州晨光粮油店', '#credit-code': '9133', '#phone': '电话' });
    await tap(page, '#submit');
    expect(text(find(page, '#credit-code'))).toContain('统一社会信用代码应为 18 位数字或大写字母');
    expect(text(find(page, '#phone'))).toContain('电话号码格式不正确');
    expect(server.sent(REGISTER, 'POST')).toEqual([]);
    await type(page, '#credit-code', '');
    await type(page, '#contact', ' 沈晨 ');
    await type(page, '#phone', '13905710188');
    server.serve('supplier_register_create', { times: 1 });
    await tap(page, '#submit');
    expect(server.sent(REGISTER, 'POST')[0].data).toEqual({ name: '杭州晨光粮油店', credit_code: null,
      contact_name: '沈晨', phone: '13905710188', address: null, remarks: null });
    expect(wx.__state.toasts).toContain('已登记');
    expect(server.sent(REGISTER, 'GET')).toHaveLength(2);
  });

  test('a name already registered is refused; the form offers that supplier\'s correction, sent whole', async () => {
    const { server, wx, page } = await openRegister(true);
    await type(page, '#name', '杭州绿源农产品有限公司');
    server.serve('supplier_exists', { times: 1 });
    await tap(page, '#submit');
    expect(text(find(page, '#form-error'))).toBe(fixture('supplier_exists').body.error.message);
    server.serve('record_draft_supplier');
    await tap(page, '#amend-existing');
    expect(wx.__state.titles).toContain('更正供应商');
    expect(find(page, '#contact').instance.data.value).toBe('周明');
    await type(page, '#contact', '王芳');
    await type(page, '#phone', '0571-88887777');
    const draft = fixture('record_draft_supplier').body;
    const bodies = await submitCorrection(page, server, 'amendment_supplier', '联系人变更为王芳');
    expect(bodies).toEqual([{ reason: '联系人变更为王芳', expected_version_id: draft.version_id,
      record: Object.assign({}, draft.record, { contact_name: '王芳', phone: '0571-88887777' }) }]);
    expect(wx.__state.toasts).toContain('已更正');
  });
});
