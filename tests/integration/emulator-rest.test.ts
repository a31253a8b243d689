// The emulator's REST wire, checked with a hand-written HTTP client against the reference's exact
// shapes. Every expected number is derived from the mini portal's documented construction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { DEALS, fillMiniPortal } from '../fixtures/mini-portal.js';

let emu: RunningEmulator;
let token: string;

async function call(method: string, params: Record<string, unknown> = {}, auth: string | null = token) {
  const res = await fetch(`${emu.url}/rest/${method}.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(auth ? { ...params, auth } : params),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function form(method: string, query: string) {
  const res = await fetch(`${emu.url}/rest/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `${query}&auth=${token}`,
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

beforeAll(async () => {
  emu = await startEmulator({ limits: 'off', populate: (e) => fillMiniPortal(e.portal) });
  token = (await emu.emulator.installApp({ clientId: 'local.test.1' })).accessToken;
});
afterAll(() => emu.close());

describe('envelope and paging', () => {
  it('answers a legacy list page with string typing, total, next and a full time block', async () => {
    const { status, body } = await call('crm.deal.list', {
      select: ['ID', 'OPPORTUNITY', 'CLOSEDATE', 'DATE_MODIFY', 'CONTACT_ID', 'UF_CRM_1712000000'],
      order: { ID: 'ASC' },
    });
    expect(status).toBe(200);
    expect(body.total).toBe(DEALS);
    expect(body.next).toBe(50);
    expect(body.result).toHaveLength(50);
    // deal 28: CLOSEDATE 2026-01-01 (1 + 28 % 28), OPPORTUNITY 1028, modified 10:28Z = 13:28 at +03:00
    expect(body.result[27]).toEqual({
      ID: '28',
      OPPORTUNITY: '1028.00',
      CLOSEDATE: '2026-01-01T03:00:00+03:00',
      DATE_MODIFY: '2026-02-01T13:28:00+03:00',
      CONTACT_ID: '28',
      UF_CRM_1712000000: '312',
    });
    // With limits off there is no operating block, as on a self-hosted portal.
    expect(Object.keys(body.time).sort()).toEqual(['date_finish', 'date_start', 'duration', 'finish', 'processing', 'start']);
    for (const k of ['start', 'finish', 'duration', 'processing']) expect(typeof body.time[k]).toBe('number');
    expect(body.time.date_start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+03:00$/);
  });

  it('rounds start down to the page, stops `next` on the last page, answers empty past the end', async () => {
    const p = await call('crm.deal.list', { select: ['ID'], order: { ID: 'ASC' }, start: 73 });
    expect(p.body.result[0]).toEqual({ ID: '51' });
    expect(p.body.next).toBe(100);
    const last = await call('crm.deal.list', { select: ['ID'], start: 100 });
    expect(last.body.result.map((r: { ID: string }) => r.ID)).toEqual(
      Array.from({ length: 30 }, (_, i) => String(101 + i)),
    );
    expect(last.body).not.toHaveProperty('next');
    const past = await call('crm.deal.list', { select: ['ID'], start: 500 });
    expect(past.body.result).toEqual([]);
    expect(past.body.total).toBe(DEALS);
  });

  it('start=-1 skips the count: legacy prints total 0 and no next; crm.item prints neither', async () => {
    const legacy = await call('crm.deal.list', { select: ['ID'], order: { ID: 'ASC' }, filter: { '>ID': 120 }, start: -1 });
    expect(legacy.body.result.map((r: { ID: string }) => r.ID)).toEqual(['121', '122', '123', '124', '125', '126', '127', '128', '129', '130']);
    expect(legacy.body.total).toBe(0);
    expect(legacy.body).not.toHaveProperty('next');
    const item = await call('crm.item.list', { entityTypeId: 2, select: ['id'], order: { id: 'ASC' }, filter: { '>id': 125 }, start: -1 });
    expect(item.body.result.items).toEqual([126, 127, 128, 129, 130].map((id) => ({ id, entityTypeId: 2 })));
    expect(item.body).not.toHaveProperty('total');
    expect(item.body).not.toHaveProperty('next');
  });

  it('crm.item.list uses numeric typing, camelCase names and controller paging', async () => {
    const { body } = await call('crm.item.list', {
      entityTypeId: 2,
      select: ['id', 'opportunity', 'contactIds', 'closedate', 'stageSemanticId', 'ufCrm_1712000000'],
      filter: { '=categoryId': 1, '@id': [3, 9, 15] },
      order: { id: 'DESC' },
    });
    expect(body.total).toBe(3);
    expect(body.result.items).toEqual([15, 9, 3].map((i) => ({
      id: i,
      opportunity: 1000 + i,
      contactIds: [i],
      closedate: `2026-01-${String(1 + (i % 28)).padStart(2, '0')}T03:00:00+03:00`,
      stageSemanticId: 'S',
      ufCrm_1712000000: 311,
      entityTypeId: 2,
    })));
  });
});

describe('filters and select', () => {
  it('applies every legacy prefix', async () => {
    const ids = async (filter: Record<string, unknown>) =>
      (await call('crm.deal.list', { select: ['ID'], order: { ID: 'ASC' }, filter })).body.result.map((r: { ID: string }) => Number(r.ID));
    expect(await ids({ '>=ID': 128 })).toEqual([128, 129, 130]);
    expect(await ids({ '<ID': 3 })).toEqual([1, 2]);
    expect(await ids({ '<=OPPORTUNITY': 1002, '>OPPORTUNITY': 1000 })).toEqual([1, 2]);
    expect(await ids({ '@ID': [5, 7, 999] })).toEqual([5, 7]);
    expect((await ids({ '!@ID': Array.from({ length: 128 }, (_, i) => i + 1) }))).toEqual([129, 130]);
    expect(await ids({ '=CONTACT_ID': '', '>ID': 127 })).toEqual([128, 129, 130]);
    expect(await ids({ '!STAGE_SEMANTIC_ID': 'P', '<ID': 10 })).toEqual([3, 6, 9]);
    expect(await ids({ '%TITLE': 'изит 12' })).toEqual([12, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129]);
    // Unknown fields are dropped silently by legacy methods.
    expect(await ids({ NO_SUCH_FIELD: 1, '>ID': 129 })).toEqual([130]);
    // Datetime filters accept ISO with any offset: deals modified after 10:05Z = 13:05+03:00.
    expect(await ids({ '>DATE_MODIFY': '2026-02-01T13:05:00+03:00', '<ID': 8 })).toEqual([6, 7]);
    expect(await ids({ '>=CLOSEDATE': '2026-01-28', '<ID': 60 })).toEqual([27, 55]);
  });

  it('crm.item.list rejects unknown filter fields and supports OR groups', async () => {
    const bad = await call('crm.item.list', { entityTypeId: 2, filter: { '>nope': 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: 'INVALID_ARG_VALUE', error_description: "Invalid filter: field 'nope' is not allowed in filter" });
    const or = await call('crm.item.list', {
      entityTypeId: 2,
      select: ['id'],
      filter: { '<id': 20, 0: { logic: 'OR', 0: { '=id': 2 }, 1: { '=id': 17 } } },
    });
    expect(or.body.result.items.map((i: { id: number }) => i.id)).toEqual([2, 17]);
  });

  it('select: default is * + UF_*, multi-fields only when named, ID always', async () => {
    const dflt = (await call('crm.contact.get', { id: 5 })).body.result;
    expect(dflt.PHONE).toEqual([{ ID: '5', VALUE_TYPE: 'MOBILE', VALUE: '+79000000005', TYPE_ID: 'PHONE' }]);
    const listed = (await call('crm.contact.list', { filter: { ID: 5 } })).body.result[0];
    expect(listed).not.toHaveProperty('PHONE');
    expect(listed.BIRTHDATE).toBe('1990-05-17T03:00:00+03:00');
    const named = (await call('crm.contact.list', { filter: { ID: 5 }, select: ['PHONE'] })).body.result[0];
    expect(named).toEqual({ ID: '5', PHONE: [{ ID: '5', VALUE_TYPE: 'MOBILE', VALUE: '+79000000005', TYPE_ID: 'PHONE' }] });
    const deal = (await call('crm.deal.list', { filter: { ID: 1 } })).body.result[0];
    expect(deal).toHaveProperty('UF_CRM_1712000000', '311');
    expect(deal).not.toHaveProperty('CONTACT_IDS');
  });

  it('form-encoded PHP brackets parse like JSON bodies', async () => {
    const { body } = await form('crm.deal.list', 'filter%5B%3EID%5D=128&select%5B%5D=ID&select%5B%5D=TITLE&order%5BID%5D=DESC');
    expect(body.result).toEqual([{ ID: '130', TITLE: 'Визит 130' }, { ID: '129', TITLE: 'Визит 129' }]);
  });
});

describe('batch', () => {
  it('runs commands in order, resolves $result/$next references, keeps errors apart', async () => {
    const { status, body } = await call('batch', {
      halt: 0,
      cmd: {
        first: 'crm.deal.list?select[]=ID&order[ID]=ASC',
        second: 'crm.deal.list?select[]=ID&order[ID]=ASC&start=$next[first]',
        get: 'crm.deal.get?id=$result[second][0][ID]',
        bad: 'crm.nothing.here',
        rows: 'crm.deal.productrows.get?id=3',
      },
    });
    expect(status).toBe(200);
    const r = body.result;
    expect(r.result.second[0]).toEqual({ ID: '51' });
    expect(r.result.get.ID).toBe('51');
    expect(r.result_next).toEqual({ first: 50, second: 100 });
    expect(r.result_total).toEqual({ first: DEALS, second: DEALS });
    expect(r.result_error).toEqual({ bad: { error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' } });
    expect(r.result).not.toHaveProperty('bad');
    expect(Object.keys(r.result_time)).toEqual(['first', 'second', 'get', 'rows']);
    expect(r.result.rows.map((x: Record<string, unknown>) => [x.PRODUCT_NAME, x.PRICE, x.QUANTITY, x.PRICE_ACCOUNT])).toEqual([
      ['Пломба', 500, 2, '500.00'],
      ['Консультация', 0, 1, '0.00'],
    ]);
  });

  it('halt stops after the first error; list-style cmd gives arrays; empty maps are []', async () => {
    const { body } = await call('batch', { halt: 1, cmd: ['server.time', 'crm.deal.get?id=99999', 'server.time'] });
    expect(Array.isArray(body.result.result)).toBe(true);
    expect(body.result.result).toHaveLength(1);
    expect(body.result.result_error).toEqual({ 1: { error: '', error_description: 'Not found' } });
    expect(body.result.result_total).toEqual([]);
    expect(body.result.result_next).toEqual([]);
  });

  it('refuses more than 50 commands past the 50th and nested batch', async () => {
    const cmd = Object.fromEntries(Array.from({ length: 52 }, (_, i) => [`c${i}`, 'server.time']));
    const { body } = await call('batch', { cmd: { ...cmd, nested: 'batch?cmd[a]=server.time' } });
    expect(Object.keys(body.result.result)).toHaveLength(50);
    expect(body.result.result_error.c50.error).toBe('ERROR_BATCH_LENGTH_EXCEEDED');
    expect(body.result.result_error.nested.error).toBe('ERROR_BATCH_LENGTH_EXCEEDED');
    const nested = await call('batch', { cmd: { nested: 'batch?cmd[a]=server.time' } });
    expect(nested.body.result.result_error.nested.error).toBe('ERROR_BATCH_METHOD_NOT_ALLOWED');
  });
});

describe('errors and authentication', () => {
  it('answers each error with its code and HTTP status', async () => {
    expect(await call('crm.deal.list', {}, null)).toEqual({ status: 401, body: { error: 'NO_AUTH_FOUND', error_description: 'Wrong authorization data' } });
    expect((await call('crm.deal.list', {}, 'bogus')).body.error).toBe('invalid_token');
    expect(await call('crm.nope')).toEqual({ status: 404, body: { error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' } });
    expect(await call('crm.deal.get', { id: 999 })).toEqual({ status: 400, body: { error: '', error_description: 'Not found' } });
    expect(await call('crm.deal.get', {})).toEqual({ status: 400, body: { error: '', error_description: 'ID is not defined or invalid.' } });
    const narrow = await emu.emulator.installApp({ clientId: 'local.narrow', scope: ['user_brief'] });
    expect(await call('crm.deal.list', {}, narrow.accessToken)).toEqual({
      status: 401,
      body: { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token' },
    });
    // Global-scope methods need no scope.
    expect((await call('profile', {}, narrow.accessToken)).body.result).toMatchObject({ ID: '1', ADMIN: true });
  });

  it('expires tokens and rotates refresh tokens; a used refresh token is invalid_grant', async () => {
    const app = await emu.emulator.installApp({ clientId: 'local.rotate', clientSecret: 'sekret' });
    emu.emulator.expireAccessTokens('local.rotate');
    expect(await call('server.time', {}, app.accessToken)).toEqual({
      status: 401,
      body: { error: 'expired_token', error_description: 'The access token provided has expired' },
    });
    const refresh = (rt: string, secret = 'sekret') =>
      fetch(`${emu.url}/oauth/token/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=refresh_token&client_id=local.rotate&client_secret=${secret}&refresh_token=${rt}`,
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, any> }));
    const first = await refresh(app.refreshToken);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ expires_in: 3600, member_id: emu.emulator.portal.memberId, client_endpoint: `${emu.url}/rest/` });
    expect(first.body.refresh_token).not.toBe(app.refreshToken);
    expect((await call('server.time', {}, first.body.access_token)).status).toBe(200);
    expect(await refresh(app.refreshToken)).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'Invalid grant' } });
    expect((await refresh(first.body.refresh_token, 'wrong')).body.error).toBe('invalid_client');
  });

  it('serves incoming webhooks and refuses app-only methods to them', async () => {
    const hook = emu.emulator.createWebhook({ userId: 1, scope: ['crm'] });
    const list = await fetch(`${hook.url}crm.deal.list?select[]=ID&filter[ID]=7`).then((r) => r.json());
    expect(list.result).toEqual([{ ID: '7' }]);
    const bind = await fetch(`${hook.url}event.bind?event=ONCRMDEALUPDATE&handler=http://x/`);
    expect(bind.status).toBe(403);
    expect(await bind.json()).toEqual({ error: 'WRONG_AUTH_TYPE', error_description: 'Current authorization type is denied for this method' });
    const wrong = await fetch(`${emu.url}/rest/1/nothex/server.time`);
    expect(wrong.status).toBe(401);
    expect((await fetch(`${hook.url}app.info`).then((r) => r.json())).result).toEqual({ SCOPE: ['crm'], LICENSE: 'ru_pro100' });
  });
});
