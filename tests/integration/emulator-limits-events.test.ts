// Limits, faults, events and the app lifecycle of the emulator, over real HTTP.
import Fastify, { type FastifyInstance } from 'fastify';
import qs from 'qs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/emulator/limits.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { fillMiniPortal } from '../fixtures/mini-portal.js';

async function call(url: string, method: string, params: Record<string, unknown>) {
  const res = await fetch(`${url}/rest/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  const text = await res.text();
  return { status: res.status, text, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, any>) : null };
}

describe('limits (cloud values, virtual clock)', () => {
  let emu: RunningEmulator;
  let clock: VirtualClock;
  let auth: string;
  beforeAll(async () => {
    clock = new VirtualClock();
    emu = await startEmulator({ clock, populate: (e) => fillMiniPortal(e.portal) });
    auth = (await emu.emulator.installApp({ clientId: 'local.lim' })).accessToken;
  });
  afterAll(() => emu.close());
  afterEach(() => emu.emulator.resetLimits());

  it('admits a burst of 50, answers the 51st with 503, and drains at 2 req/s', async () => {
    for (let i = 0; i < 50; i++) expect((await call(emu.url, 'server.time', { auth })).status).toBe(200);
    const over = await call(emu.url, 'server.time', { auth });
    expect(over.status).toBe(503);
    expect(over.body).toEqual({ error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' });
    clock.advance(1000); // drains 2
    expect((await call(emu.url, 'server.time', { auth })).status).toBe(200);
    expect((await call(emu.url, 'server.time', { auth })).status).toBe(200);
    expect((await call(emu.url, 'server.time', { auth })).status).toBe(503);
  });

  it('counts a batch of 50 commands as one request', async () => {
    const cmd = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`c${i}`, 'server.time']));
    for (let i = 0; i < 50; i++) expect((await call(emu.url, 'batch', { auth, cmd })).status).toBe(200);
    expect((await call(emu.url, 'batch', { auth, cmd })).status).toBe(503);
  });

  it('reports operating time of counted pages and blocks the method past 480 s with 429', async () => {
    // Cost model: a counted page over 130 rows costs 0.005 + 50 × 0.0004 + 130 × 4 µs = 0.02552 s,
    // under the 0.1 s minimal fix time, so it is not recorded.
    const cheap = await call(emu.url, 'crm.deal.list', { auth, select: ['ID'] });
    expect(cheap.body!.time.processing).toBeCloseTo(0.02552, 6);
    expect(cheap.body!.time.operating).toBe(0);
    emu.emulator.exhaustOperating('local.lim', 'crm.deal.list');
    const blocked = await call(emu.url, 'crm.deal.list', { auth });
    expect(blocked.status).toBe(429);
    expect(blocked.body).toEqual({ error: 'OPERATION_TIME_LIMIT', error_description: 'Method is blocked due to operation time limit.' });
    // Other methods and other apps are unaffected.
    expect((await call(emu.url, 'crm.contact.list', { auth })).status).toBe(200);
    // Inside a batch the sub-call fails alone; the batch itself is exempt.
    const b = await call(emu.url, 'batch', { auth, cmd: { d: 'crm.deal.list', c: 'crm.contact.list?select[]=ID' } });
    expect(b.body!.result.result_error.d.error).toBe('OPERATION_TIME_LIMIT');
    expect(b.body!.result.result.c).toHaveLength(50);
    clock.advance(10 * 60_000 + 1);
    expect((await call(emu.url, 'crm.deal.list', { auth })).status).toBe(200);
  });

  it('cuts off a request whose run time exceeds the per-request cap', async () => {
    const capped = await startEmulator({ clock, limits: { rate: false, maxRequestSec: 0.01 }, populate: (e) => fillMiniPortal(e.portal) });
    const a = (await capped.emulator.installApp({})).accessToken;
    expect((await call(capped.url, 'server.time', { auth: a })).status).toBe(200);
    const cut = await call(capped.url, 'crm.deal.list', { auth: a });
    expect(cut.status).toBe(504);
    expect(cut.text).toContain('504 Gateway Time-out');
    await capped.close();
  });

  it('records expensive calls into operating and operating_reset_at', async () => {
    const t0 = clock.now();
    // 30 000 extra deals make a counted page cost 0.005 + 0.02 + 30 130 × 4 µs = 0.14552 s.
    const deals = emu.emulator.portal.data.table('deal');
    for (let i = 0; i < 30_000; i++) deals.insert({ TITLE: 'x', CATEGORY_ID: 0, STAGE_ID: 'NEW', OPPORTUNITY: 1 });
    const a = await call(emu.url, 'crm.deal.list', { auth, select: ['ID'] });
    const b = await call(emu.url, 'crm.deal.list', { auth, select: ['ID'], start: -1 });
    const c = await call(emu.url, 'crm.deal.list', { auth, select: ['ID'] });
    expect(a.body!.time.operating).toBeCloseTo(0.14552, 5);
    expect(b.body!.time.processing).toBeCloseTo(0.025, 6); // keyset page: no count
    expect(c.body!.time.operating).toBeCloseTo(0.29104, 5);
    expect(c.body!.time.operating_reset_at).toBe(Math.floor(t0 / 1000) + 600);
    for (const r of [...deals.all()].filter((r) => r.TITLE === 'x')) deals.delete(r.ID);
  });
});

describe('faults', () => {
  let emu: RunningEmulator;
  let auth: string;
  beforeAll(async () => {
    emu = await startEmulator({ limits: 'off', populate: (e) => fillMiniPortal(e.portal) });
    auth = (await emu.emulator.installApp({})).accessToken;
  });
  afterAll(() => emu.close());

  it('injects 503, 500, 502 with HTML, a dropped connection and a slow answer on demand', async () => {
    const f = emu.emulator.faults;
    f.force('http503');
    expect((await call(emu.url, 'server.time', { auth })).status).toBe(503);
    f.force('http500');
    expect((await call(emu.url, 'server.time', { auth })).body).toEqual({ error: 'INTERNAL_SERVER_ERROR', error_description: 'Internal server error' });
    f.force('http502');
    const bad = await call(emu.url, 'server.time', { auth });
    expect(bad.status).toBe(502);
    expect(bad.text).toContain('<h1>502 Bad Gateway</h1>');
    f.force('drop');
    await expect(call(emu.url, 'server.time', { auth })).rejects.toThrow();
    f.configure({ slowMs: 300 });
    f.force('slow');
    const t = Date.now();
    expect((await call(emu.url, 'server.time', { auth })).status).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
    f.clear();
  });

  it('injects a seeded share of faults', async () => {
    emu.emulator.faults.configure({ rates: { http503: 0.3 }, seed: 7 });
    let failed = 0;
    for (let i = 0; i < 200; i++) if ((await call(emu.url, 'server.time', { auth })).status === 503) failed++;
    emu.emulator.faults.clear();
    expect(failed).toBeGreaterThan(40);
    expect(failed).toBeLessThan(80);
  });
});

describe('events and app lifecycle', () => {
  let emu: RunningEmulator;
  let sink: FastifyInstance;
  let sinkUrl: string;
  const received: Record<string, any>[] = [];

  beforeAll(async () => {
    emu = await startEmulator({ limits: 'off', populate: (e) => fillMiniPortal(e.portal) });
    sink = Fastify();
    sink.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) =>
      done(null, qs.parse(body as string)),
    );
    sink.post('/*', async (req) => {
      received.push({ path: req.url, ...(req.body as object) });
      return 'ok';
    });
    await sink.listen({ port: 0, host: '127.0.0.1' });
    const addr = sink.server.address();
    sinkUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(async () => {
    await emu.close();
    await sink.close();
  });

  it('posts ONAPPINSTALL with tokens and application_token, form-encoded', async () => {
    const inst = await emu.emulator.installApp({ clientId: 'local.ev', installUrl: `${sinkUrl}/b24/install` });
    expect(inst.installEventStatus).toBe(200);
    const ev = received.find((r) => r.event === 'ONAPPINSTALL')!;
    expect(ev.path).toBe('/b24/install');
    expect(ev.auth).toMatchObject({
      access_token: inst.accessToken,
      refresh_token: inst.refreshToken,
      application_token: inst.applicationToken,
      member_id: emu.emulator.portal.memberId,
      client_endpoint: `${emu.url}/rest/`,
      domain: emu.emulator.portal.domain,
    });
    expect(ev.data).toMatchObject({ INSTALLED: 'Y', LANGUAGE_ID: 'ru' });
  });

  it('control-interface changes fire the same events, and moving a pipeline fires MOVETOCATEGORY only', async () => {
    const auth = (await emu.emulator.installApp({ clientId: 'local.ctl' })).accessToken;
    for (const event of ['ONCRMDEALUPDATE', 'ONCRMDEALDELETE', 'ONCRMDEALMOVETOCATEGORY', 'ONCRMCONTACTUPDATE']) {
      await call(emu.url, 'event.bind', { auth, event, handler: `${sinkUrl}/ctl` });
    }
    received.length = 0;
    emu.emulator.crm.update('deal', 10, { OPPORTUNITY: 5 }, 2);
    emu.emulator.crm.moveDeal(10, 1, 'C1:NEW');
    emu.emulator.crm.update('contact', 10, { NAME: 'Иван' });
    emu.emulator.crm.delete('deal', 11);
    await emu.emulator.events.settle();
    const got = received.filter((r) => r.path === '/ctl').map((r) => [r.event, r.data.FIELDS.ID, r.data.FIELDS.CATEGORY_ID]);
    expect(got).toEqual([
      ['ONCRMDEALUPDATE', '10', undefined],
      ['ONCRMDEALMOVETOCATEGORY', '10', '1'],
      ['ONCRMCONTACTUPDATE', '10', undefined],
      ['ONCRMDEALDELETE', '11', undefined],
    ]);
    expect((await call(emu.url, 'crm.deal.get', { auth, id: 11 })).body).toEqual({ error: '', error_description: 'Not found' });
    await emu.emulator.uninstallApp('local.ctl');
  });

  it('delivers deal events to bound handlers and keeps offline events collapsed', async () => {
    const app = emu.emulator.portal.appByClientId('local.ev')!;
    const auth = (await emu.emulator.installApp({ clientId: 'local.ev' })).accessToken;
    expect((await call(emu.url, 'event.bind', { auth, event: 'onCrmDealUpdate', handler: `${sinkUrl}/b24/events` })).body!.result).toBe(true);
    expect((await call(emu.url, 'event.bind', { auth, event: 'ONCRMDEALUPDATE', event_type: 'offline' })).body!.result).toBe(true);
    expect((await call(emu.url, 'event.bind', { auth, event: 'ONCRMDEALUPDATE', handler: `${sinkUrl}/b24/events` })).body!.error).toBe(
      'ERROR_HANDLER_ALREADY_EXIST',
    );
    expect((await call(emu.url, 'event.bind', { auth, event: 'ONNOTHING', handler: `${sinkUrl}/x` })).body!.error).toBe('ERROR_EVENT_NOT_FOUND');
    received.length = 0;
    await call(emu.url, 'crm.deal.update', { auth, id: 4, fields: { TITLE: 'Новое название' } });
    await call(emu.url, 'crm.deal.update', { auth, id: 4, fields: { STAGE_ID: 'WON' } });
    await call(emu.url, 'crm.deal.update', { auth, id: 5, fields: { OPPORTUNITY: 10 } });
    await emu.emulator.events.settle();
    const online = received.filter((r) => r.event === 'ONCRMDEALUPDATE');
    expect(online.map((r) => r.data.FIELDS.ID)).toEqual(['4', '4', '5']);
    expect(online[0]!.auth.application_token).toBe(app.applicationToken);
    expect(online[0]!.auth.access_token).toMatch(/^[0-9a-f]{48}$/);
    expect(online[0]!.event_handler_id).toMatch(/^\d+$/);
    const deal = (await call(emu.url, 'crm.deal.get', { auth, id: 4 })).body!.result;
    expect([deal.TITLE, deal.STAGE_SEMANTIC_ID, deal.CLOSED]).toEqual(['Новое название', 'S', 'Y']);
    // Offline queue: the two updates of deal 4 collapse into one message.
    const q = (await call(emu.url, 'event.offline.get', { auth })).body!.result;
    expect(q.process_id).toBeNull();
    expect(q.events.map((e: any) => [e.EVENT_NAME, e.EVENT_DATA.FIELDS.ID])).toEqual([
      ['ONCRMDEALUPDATE', '4'],
      ['ONCRMDEALUPDATE', '5'],
    ]);
    expect((await call(emu.url, 'event.offline.get', { auth })).body!.result.events).toEqual([]);
    const bound = (await call(emu.url, 'event.get', { auth })).body!.result;
    expect(bound).toEqual([
      { event: 'ONCRMDEALUPDATE', handler: `${sinkUrl}/b24/events`, auth_type: '0', offline: 0 },
      { event: 'ONCRMDEALUPDATE', connector_id: '', offline: 1 },
    ]);
  });

  it('a UI app receives no events until installFinish', async () => {
    const ui = await emu.emulator.installApp({ clientId: 'local.ui', withUi: true });
    await call(emu.url, 'event.bind', { auth: ui.accessToken, event: 'ONCRMDEALADD', handler: `${sinkUrl}/ui` });
    received.length = 0;
    await call(emu.url, 'crm.deal.add', { auth: ui.accessToken, fields: { TITLE: 'A', CATEGORY_ID: 1 } });
    await emu.emulator.events.settle();
    expect(received).toEqual([]);
    expect((await call(emu.url, 'app.info', { auth: ui.accessToken })).body!.result.INSTALLED).toBe(false);
    emu.emulator.finishInstall('local.ui');
    const added = await call(emu.url, 'crm.deal.add', { auth: ui.accessToken, fields: { TITLE: 'B', CATEGORY_ID: 1, STAGE_ID: 'C1:WON' } });
    await emu.emulator.events.settle();
    expect(received.map((r) => [r.event, r.data.FIELDS.ID])).toEqual([['ONCRMDEALADD', String(added.body!.result)]]);
    const d = (await call(emu.url, 'crm.deal.get', { auth: ui.accessToken, id: added.body!.result })).body!.result;
    expect([d.STAGE_ID, d.STAGE_SEMANTIC_ID, d.CATEGORY_ID]).toEqual(['C1:WON', 'S', '1']);
  });

  it('uninstall posts ONAPPUNINSTALL without tokens and revokes API access', async () => {
    const auth = (await emu.emulator.installApp({ clientId: 'local.ev' })).accessToken;
    await call(emu.url, 'event.bind', { auth, event: 'ONAPPUNINSTALL', handler: `${sinkUrl}/b24/uninstall` });
    received.length = 0;
    const appToken = emu.emulator.portal.appByClientId('local.ev')!.applicationToken;
    await emu.emulator.uninstallApp('local.ev', { clean: true });
    expect(received).toHaveLength(1);
    expect(received[0]!.event).toBe('ONAPPUNINSTALL');
    expect(received[0]!.data).toEqual({ LANGUAGE_ID: 'ru', CLEAN: '1' });
    expect(received[0]!.auth).toEqual({
      domain: emu.emulator.portal.domain,
      client_endpoint: `${emu.url}/rest/`,
      server_endpoint: `${emu.url}/rest/`,
      member_id: emu.emulator.portal.memberId,
      application_token: appToken,
    });
    expect((await call(emu.url, 'server.time', { auth })).body!.error).toBe('invalid_token');
  });
});
