// Shapes of the remaining emulated methods, against the mini portal's known values.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifications } from '../../src/emulator/methods/app.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { fillMiniPortal } from '../fixtures/mini-portal.js';

let emu: RunningEmulator;
let auth: string;

async function call(method: string, params: Record<string, unknown> = {}) {
  const res = await fetch(`${emu.url}/rest/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...params, auth }),
  });
  return (await res.json()) as Record<string, any>;
}

beforeAll(async () => {
  emu = await startEmulator({ limits: 'off', populate: (e) => fillMiniPortal(e.portal) });
  auth = (await emu.emulator.installApp({ clientId: 'local.methods' })).accessToken;
  const t = emu.emulator.portal.data.tables;
  t.stagehistory.insert({ ENTITY_TYPE_ID: 2, TYPE_ID: 1, OWNER_ID: 3, CREATED_TIME: Date.UTC(2026, 0, 1, 7), CATEGORY_ID: 0, STAGE_SEMANTIC_ID: 'P', STAGE_ID: 'NEW' });
  t.stagehistory.insert({ ENTITY_TYPE_ID: 2, TYPE_ID: 2, OWNER_ID: 3, CREATED_TIME: Date.UTC(2026, 0, 4, 7), CATEGORY_ID: 0, STAGE_SEMANTIC_ID: 'S', STAGE_ID: 'WON' });
  t.stagehistory.insert({ ENTITY_TYPE_ID: 1, TYPE_ID: 1, OWNER_ID: 1, CREATED_TIME: Date.UTC(2026, 0, 1, 7), CATEGORY_ID: null, STAGE_SEMANTIC_ID: 'P', STAGE_ID: 'NEW' });
  t.call.insert({ CALL_ID: 'c1', PORTAL_USER_ID: 2, PHONE_NUMBER: '+79000000001', CALL_TYPE: 2, CALL_DURATION: 143, CALL_START_DATE: Date.UTC(2026, 0, 8, 7, 11, 12), CALL_FAILED_CODE: '200', CRM_ENTITY_TYPE: 'CONTACT', CRM_ENTITY_ID: 1, COST: 0, COST_CURRENCY: 'RUB' });
  t.call.insert({ CALL_ID: 'c2', PORTAL_USER_ID: 2, PHONE_NUMBER: '+79000000002', CALL_TYPE: 2, CALL_DURATION: 0, CALL_START_DATE: Date.UTC(2026, 0, 8, 7, 30), CALL_FAILED_CODE: '304', CRM_ENTITY_TYPE: 'CONTACT', CRM_ENTITY_ID: 2, COST: 0, COST_CURRENCY: 'RUB' });
  t.lead.insert({ TITLE: 'Заявка', STATUS_ID: 'NEW', STATUS_SEMANTIC_ID: 'P', SOURCE_ID: 'RECOMMENDATION', DATE_CREATE: Date.UTC(2026, 0, 2), OPPORTUNITY: 0, CURRENCY_ID: 'RUB' });
  t.activity.insert({ OWNER_ID: 1, OWNER_TYPE_ID: 3, TYPE_ID: 2, PROVIDER_ID: 'VOXIMPLANT_CALL', DIRECTION: 1, SUBJECT: 'Входящий звонок', START_TIME: Date.UTC(2026, 0, 8, 7, 11, 12), COMPLETED: 'Y', RESPONSIBLE_ID: 2 });
  t.product.insert({ ID: 7, NAME: 'Пломба', ACTIVE: 'Y', SECTION_ID: 1, PRICE: 5500, CURRENCY_ID: 'RUB' });
  t.productsection.insert({ ID: 1, NAME: 'Терапия', CATALOG_ID: 25 });
});
afterAll(() => emu.close());

describe('reference data', () => {
  it('crm.category.list, crm.status.list, crm.currency.list', async () => {
    const cats = await call('crm.category.list', { entityTypeId: 2 });
    expect(cats.result.categories).toEqual([
      { id: 0, name: 'Общая', sort: 100, entityTypeId: 2, isDefault: 'Y', originId: null, originatorId: null },
      { id: 1, name: 'Терапия', sort: 200, entityTypeId: 2, isDefault: 'N', originId: '', originatorId: '' },
    ]);
    expect(cats.total).toBe(2);
    const stages = await call('crm.status.list', { filter: { ENTITY_ID: 'DEAL_STAGE_1' } });
    expect(stages.total).toBe(3);
    expect(stages.result[1]).toMatchObject({
      ENTITY_ID: 'DEAL_STAGE_1',
      STATUS_ID: 'C1:WON',
      SORT: '60',
      CATEGORY_ID: '1',
      SEMANTICS: 'S',
      EXTRA: { SEMANTICS: 'success', COLOR: '#39A8EF' },
    });
    expect((await call('crm.status.list', { filter: { ENTITY_ID: 'DEAL_STAGE' } })).result[0].CATEGORY_ID).toBeNull();
    const cur = await call('crm.currency.list');
    expect(cur.result.map((c: any) => [c.CURRENCY, c.AMOUNT, c.BASE])).toEqual([
      ['RUB', '1.0000', 'Y'],
      ['USD', '90.0000', 'N'],
    ]);
  });

  it('crm.deal.fields and crm.deal.userfield.list describe the enum user field', async () => {
    const fields = (await call('crm.deal.fields')).result;
    expect(fields.STAGE_ID).toMatchObject({ type: 'crm_status', isReadOnly: false });
    expect(fields.CATEGORY_ID).toMatchObject({ type: 'crm_category', isImmutable: true });
    expect(fields.UF_CRM_1712000000).toMatchObject({
      type: 'enumeration',
      isDynamic: true,
      listLabel: 'Направление',
      items: [
        { ID: '311', VALUE: 'Терапия' },
        { ID: '312', VALUE: 'Ортопедия' },
      ],
    });
    const ufs = await call('crm.deal.userfield.list', { filter: { LANG: 'ru' } });
    expect(ufs.total).toBe(1);
    expect(ufs.result[0]).toMatchObject({
      FIELD_NAME: 'UF_CRM_1712000000',
      USER_TYPE_ID: 'enumeration',
      SORT: '100',
      EDIT_FORM_LABEL: 'Направление',
      LIST: [
        { ID: '311', SORT: '10', VALUE: 'Терапия', DEF: 'N', XML_ID: 'therapy' },
        { ID: '312', SORT: '20', VALUE: 'Ортопедия', DEF: 'N', XML_ID: 'ortho' },
      ],
    });
    expect((await call('crm.deal.userfield.list')).result[0]).not.toHaveProperty('EDIT_FORM_LABEL');
  });

  it('catalog: crm.product.list and crm.productsection.list', async () => {
    expect((await call('crm.product.list', { select: ['ID', 'NAME', 'PRICE', 'SECTION_ID'] })).result).toEqual([
      { ID: '7', NAME: 'Пломба', PRICE: '5500.00', SECTION_ID: '1' },
    ]);
    expect((await call('crm.productsection.list', { select: ['ID', 'NAME'] })).result).toEqual([{ ID: '1', NAME: 'Терапия' }]);
  });
});

describe('product rows', () => {
  it('crm.item.productrow.list takes an array of owner ids and requires the owner filter', async () => {
    const rows = await call('crm.item.productrow.list', { filter: { '=ownerType': 'D', '=ownerId': [3, 4] } });
    expect(rows.total).toBe(2);
    expect(rows.result.productRows[0]).toMatchObject({
      id: 1,
      ownerId: 3,
      ownerType: 'D',
      productId: 7,
      price: 500,
      priceAccount: 500,
      priceNetto: 555.56,
      quantity: 2,
      discountTypeId: 2,
      discountRate: 10,
      discountSum: 55.56,
      taxIncluded: 'Y',
    });
    const missing = await call('crm.item.productrow.list', { filter: { '=ownerId': 3 } });
    expect(missing.error).toBe('100');
  });

  it('crm.deal.productrows.set replaces rows, derives prices, converts to the account currency, updates OPPORTUNITY', async () => {
    const id = (await call('crm.deal.add', { fields: { TITLE: 'USD visit', CATEGORY_ID: 1, CURRENCY_ID: 'USD' } })).result;
    await call('crm.deal.productrows.set', {
      id,
      rows: [
        { PRODUCT_ID: 7, PRICE: 90, QUANTITY: 2, DISCOUNT_TYPE_ID: 2, DISCOUNT_RATE: 10, TAX_RATE: 0 },
        { PRODUCT_NAME: 'Анестезия', PRICE: 15, QUANTITY: 1 },
      ],
    });
    const rows = (await call('crm.deal.productrows.get', { id })).result;
    // 90 after a 10 % discount: netto = 90 / 0.9 = 100, discountSum = 10; 90 USD × 90 = 8100 RUB.
    expect(rows.map((r: any) => [r.PRODUCT_NAME, r.PRICE, r.PRICE_NETTO, r.DISCOUNT_SUM, r.PRICE_ACCOUNT, r.QUANTITY])).toEqual([
      ['Пломба', 90, 100, 10, '8100.00', 2],
      ['Анестезия', 15, 15, 0, '1350.00', 1],
    ]);
    expect((await call('crm.deal.get', { id })).result.OPPORTUNITY).toBe('195.00');
  });
});

describe('history, leads, activities, calls', () => {
  it('crm.stagehistory.list by entity type', async () => {
    const deals = await call('crm.stagehistory.list', { entityTypeId: 2, filter: { OWNER_ID: 3 }, order: { ID: 'ASC' } });
    expect(deals.result.items).toEqual([
      { ID: 1, TYPE_ID: 1, OWNER_ID: 3, CREATED_TIME: '2026-01-01T10:00:00+03:00', CATEGORY_ID: 0, STAGE_SEMANTIC_ID: 'P', STAGE_ID: 'NEW' },
      { ID: 2, TYPE_ID: 2, OWNER_ID: 3, CREATED_TIME: '2026-01-04T10:00:00+03:00', CATEGORY_ID: 0, STAGE_SEMANTIC_ID: 'S', STAGE_ID: 'WON' },
    ]);
    const leads = await call('crm.stagehistory.list', { entityTypeId: 1 });
    expect(leads.result.items).toEqual([
      { ID: 3, TYPE_ID: 1, OWNER_ID: 1, CREATED_TIME: '2026-01-01T10:00:00+03:00', CATEGORY_ID: null, STATUS_SEMANTIC_ID: 'P', STATUS_ID: 'NEW' },
    ]);
  });

  it('crm.lead.list, crm.activity.list and voximplant.statistic.get', async () => {
    expect((await call('crm.lead.list', { select: ['ID', 'SOURCE_ID', 'DATE_CREATE'] })).result).toEqual([
      { ID: '1', SOURCE_ID: 'RECOMMENDATION', DATE_CREATE: '2026-01-02T03:00:00+03:00' },
    ]);
    expect((await call('crm.activity.list', { select: ['ID', 'PROVIDER_ID', 'OWNER_TYPE_ID'] })).result).toEqual([
      { ID: '1', PROVIDER_ID: 'VOXIMPLANT_CALL', OWNER_TYPE_ID: '3' },
    ]);
    const missed = await call('voximplant.statistic.get', { FILTER: { CALL_FAILED_CODE: '304' }, SORT: 'CALL_START_DATE', ORDER: 'DESC' });
    expect(missed.total).toBe(1);
    expect(missed.result[0]).toMatchObject({ CALL_ID: 'c2', CALL_TYPE: '2', CALL_DURATION: '0', CALL_START_DATE: '2026-01-08T10:30:00+03:00' });
  });
});

describe('users, departments, app context', () => {
  it('user.get includes fired users unless ACTIVE is filtered; exact offsets', async () => {
    const all = await call('user.get', {});
    expect(all.result.map((u: any) => [u.ID, u.ACTIVE])).toEqual([
      ['1', true],
      ['2', true],
      ['3', false],
    ]);
    expect(all.result[1].UF_DEPARTMENT).toEqual([2]);
    expect((await call('user.get', { FILTER: { ACTIVE: true } })).result.map((u: any) => u.ID)).toEqual(['1', '2']);
    expect((await call('user.get', { start: 2 })).result.map((u: any) => u.ID)).toEqual(['3']);
    expect((await call('user.current')).result).toMatchObject({ ID: '1', NAME: 'Анна' });
    expect((await call('user.admin')).result).toBe(true);
  });

  it('department.get, profile, app.info, scope, server.time', async () => {
    expect((await call('department.get', { sort: 'ID' })).result).toEqual([
      { ID: '1', NAME: 'Клиника', SORT: 100, UF_HEAD: '1' },
      { ID: '2', NAME: 'Врачи', SORT: 200, PARENT: '1' },
    ]);
    expect((await call('profile')).result).toEqual({
      ID: '1',
      ADMIN: true,
      NAME: 'Анна',
      LAST_NAME: 'Админова',
      PERSONAL_GENDER: '',
      TIME_ZONE: 'Europe/Moscow',
      TIME_ZONE_OFFSET: 10800,
    });
    expect((await call('app.info')).result).toMatchObject({ CODE: 'local.methods', STATUS: 'L', INSTALLED: true, LICENSE: 'ru_pro100', LICENSE_TYPE: 'pro100', LICENSE_FAMILY: 'pro' });
    expect((await call('scope')).result).toEqual(['crm', 'user_brief', 'department', 'placement', 'biconnector', 'telephony', 'im']);
    expect((await call('server.time')).result).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+03:00$/);
  });

  it('placement.bind/list/get and im.notify.system.add', async () => {
    expect((await call('placement.bind', { PLACEMENT: 'CRM_ANALYTICS_MENU', HANDLER: 'http://app/x', TITLE: 'Клиника' })).result).toBe(true);
    expect((await call('placement.bind', { PLACEMENT: 'NOPE', HANDLER: 'http://app/x' })).error).toBe('ERROR_PLACEMENT_NOT_FOUND');
    expect((await call('placement.get')).result).toEqual([
      { placement: 'CRM_ANALYTICS_MENU', handler: 'http://app/x', title: 'Клиника', description: '', options: {} },
    ]);
    expect((await call('placement.list')).result).toContain('CRM_ANALYTICS_MENU');
    const id = (await call('im.notify.system.add', { USER_ID: 2, MESSAGE: 'Еженедельный отчёт' })).result;
    expect(notifications(emu.emulator)).toEqual([
      expect.objectContaining({ id, userId: 2, message: 'Еженедельный отчёт', fromClient: 'local.methods' }),
    ]);
    expect((await call('event.unbind', { event: 'ONCRMDEALUPDATE', handler: 'http://nowhere/' })).result).toEqual({ count: 0 });
  });
});

describe('boolean user field', () => {
  it('is "1"/"0" in legacy output, "Y"/"N" in crm.item output, set from Y/N and filtered with 1/0', async () => {
    emu.emulator.portal.data.tables.userfield.insert({
      ENTITY_ID: 'CRM_DEAL',
      FIELD_NAME: 'UF_CRM_FIRST_AID',
      USER_TYPE_ID: 'boolean',
      XML_ID: null,
      SORT: 200,
      MULTIPLE: 'N',
      MANDATORY: 'N',
      SETTINGS: { DEFAULT_VALUE: 0 },
      EDIT_FORM_LABEL: 'Неотложная помощь',
    });
    expect((await call('crm.deal.update', { id: 3, fields: { UF_CRM_FIRST_AID: 'Y' } })).result).toBe(true);
    expect((await call('crm.deal.update', { id: 6, fields: { UF_CRM_FIRST_AID: 'N' } })).result).toBe(true);
    expect((await call('crm.deal.get', { id: 3 })).result.UF_CRM_FIRST_AID).toBe('1');
    expect((await call('crm.deal.get', { id: 6 })).result.UF_CRM_FIRST_AID).toBe('0');
    expect((await call('crm.item.get', { entityTypeId: 2, id: 3 })).result.item.ufCrmFirstAid).toBe('Y');
    expect((await call('crm.item.get', { entityTypeId: 2, id: 6 })).result.item.ufCrmFirstAid).toBe('N');
    const yes = await call('crm.item.list', { entityTypeId: 2, select: ['id'], filter: { ufCrmFirstAid: 1 } });
    expect(yes.result.items.map((i: { id: number }) => i.id)).toEqual([3]);
    expect((await call('crm.deal.fields')).result.UF_CRM_FIRST_AID.type).toBe('boolean');
  });
});
