// The sync against the emulator over real HTTP, on both store dialects: after a full run the mirror
// equals the emulator's own tables field by field; after changes, an incremental run (and a
// reconcile for deletions) brings it back to equality.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { populateClinic } from '../../src/emulator/generator/index.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { EventQueue } from '../../src/sync/event-queue.js';
import { createTestStore, DIALECTS, type TestStore } from '../fixtures/stores.js';
import { syncSetup } from '../fixtures/sync-setup.js';
import { assertMirrorExact as assertMirror } from '../fixtures/mirror.js';

describe.each(DIALECTS)('sync on %s', (dialect) => {
  let emu: RunningEmulator;
  let store: TestStore;
  let engine: SyncEngine;
  let portalId: string;
  let deps: ConstructorParameters<typeof SyncEngine>[0];

  beforeAll(async () => {
    // Cloud operating budget on; the leaky bucket off so the SDK's fast test limiter is not the subject.
    emu = await startEmulator({ limits: { rate: false }, populate: (e) => void populateClinic(e.portal.data, { seed: 3, scale: 'tiny' }) });
    store = await createTestStore(dialect);
    const inst = await emu.emulator.installApp({ clientId: 'local.sync' });
    // Waits for operating-time resets are shortened: the test frees the budget itself.
    const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 100)));
    const setup = await syncSetup(store.db, inst, { overlapMs: 60_000, rest: { sleep } });
    ({ engine, portalId } = setup);
    deps = { db: store.db, clients: setup.clients, portals: setup.portals };
  });
  afterAll(async () => {
    await emu.close();
    await store.dispose();
  });

  const assertMirrorExact = () => assertMirror(store.db, portalId, emu.emulator.portal.data);


  it('a full run mirrors every deal, product row, contact, user and stage exactly', async () => {
    const run = await engine.run(portalId, 'full');
    expect(run.error).toBeNull();
    expect(run.status).toBe('finished');
    expect(run.entities.deal!.upserted).toBe(emu.emulator.portal.data.tables.deal.size);
    await assertMirrorExact();
    const logged = await store.db.selectFrom('sync_run').selectAll().where('id', '=', run.runId).executeTakeFirstOrThrow();
    expect(logged.status).toBe('finished');
    expect(logged.requests).toBe(run.requests);
    expect(JSON.parse(logged.entities).deal.fetched).toBe(emu.emulator.portal.data.tables.deal.size);
  });

  it('an incremental run brings back creates, updates, product rows and pipeline moves; reconcile removes deletions', async () => {
    const crm = emu.emulator.crm;
    const t = emu.emulator.portal.data.tables;
    const [a, b, c] = [...t.deal.all()].slice(5, 8).map((d) => d.ID);
    crm.update('deal', a!, { OPPORTUNITY: 12345.67, TITLE: 'changed' });
    crm.setProductRows(b!, [{ PRODUCT_NAME: 'Новая услуга', PRICE: 999.99, QUANTITY: 3 }]);
    crm.moveDeal(c!, 2, 'C2:NEW');
    crm.add('deal', { TITLE: 'fresh', CATEGORY_ID: 1, CONTACT_ID: [...t.contact.all()][0]!.ID, OPPORTUNITY: 500 });
    crm.update('contact', [...t.contact.all()][1]!.ID, { SOURCE_ID: 'RECOMMENDATION' });
    const run = await engine.run(portalId, 'incremental');
    expect(run.error).toBeNull();
    expect(run.mode).toBe('incremental');
    expect(run.requests).toBeLessThan(10);
    const gone = [...t.deal.all()][10]!.ID;
    crm.delete('deal', gone);
    await engine.run(portalId, 'incremental');
    // Deletions are invisible to DATE_MODIFY; the reconcile pass removes them.
    const rec = await engine.run(portalId, 'reconcile');
    expect(rec.entities.deal!.deleted).toBe(1);
    await assertMirrorExact();
  });

  it('events alone bring the store back to equality: coalesced, one targeted run', async () => {
    const crm = emu.emulator.crm;
    const t = emu.emulator.portal.data.tables;
    const queue = new EventQueue(engine, { coalesceMs: 50 });
    const ids = [...t.deal.all()].slice(20, 23).map((d) => d.ID);
    crm.update('deal', ids[0]!, { OPPORTUNITY: 777 });
    crm.update('deal', ids[0]!, { TITLE: 'twice' });
    crm.setProductRows(ids[1]!, [{ PRODUCT_NAME: 'Снимок', PRICE: 1200, QUANTITY: 1 }]);
    crm.moveDeal(ids[2]!, 3, 'C3:NEW');
    const added = crm.add('deal', { TITLE: 'via event', CATEGORY_ID: 2, OPPORTUNITY: 100 });
    const removed = [...t.deal.all()][30]!.ID;
    crm.delete('deal', removed);
    const contact = [...t.contact.all()][3]!.ID;
    crm.update('contact', contact, { BIRTHDATE: '2001-02-03' });
    // What the app's event handler would push (as Bitrix24 sends them: the ID only).
    for (const [event, id] of [
      ['ONCRMDEALUPDATE', ids[0]], ['ONCRMDEALUPDATE', ids[0]], ['ONCRMDEALUPDATE', ids[1]], ['ONCRMDEALMOVETOCATEGORY', ids[2]],
      ['ONCRMDEALADD', added.ID], ['ONCRMDEALDELETE', removed], ['ONCRMCONTACTUPDATE', contact], ['ONSOMETHINGELSE', 1],
    ] as [string, number][]) queue.push(portalId, event, id);
    const run = await queue.flush(portalId);
    expect(run!.error).toBeNull();
    expect(run!.requests).toBeLessThanOrEqual(3);
    expect(run!.entities.deal).toEqual({ fetched: 4, upserted: 4, deleted: 1 });
    queue.close();
    await assertMirrorExact();
  });

  it('survives 503s, 500s, dropped connections, token expiry and operating-time exhaustion, and ends exact', async () => {
    const e = emu.emulator;
    e.faults.configure({ rates: { http503: 0.1, http500: 0.02, drop: 0.01 }, seed: dialect === 'sqlite' ? 11 : 12 });
    // A tiny portal's full sync is a handful of requests: one fault of each kind and an expired token
    // come first for certain, the rates and further expiries on top.
    e.faults.force('http503');
    e.faults.force('http500');
    e.faults.force('drop');
    e.expireAccessTokens('local.sync');
    const expiry = setInterval(() => e.expireAccessTokens('local.sync'), 300);
    e.exhaustOperating('local.sync', 'crm.item.productrow.list');
    const free = setTimeout(() => e.resetLimits(), 250);
    await store.db.deleteFrom('sync_checkpoint').execute();
    await store.db.deleteFrom('b24_product_row').execute();
    await store.db.deleteFrom('b24_deal').where('id', '<', 100).execute();
    try {
      const run = await engine.run(portalId, 'full');
      expect(run.error).toBeNull();
    } finally {
      clearInterval(expiry);
      clearTimeout(free);
      e.faults.clear();
    }
    expect(e.faults.injected).toBeGreaterThanOrEqual(3);
    expect(e.stats.refreshes).toBeGreaterThan(0);
    await assertMirrorExact();
  }, 60_000);

  it('a full run stopped in the contact pass resumes there: the finished deal pass is not read again', async () => {
    const e = emu.emulator;
    const t = e.portal.data.tables;
    // Contacts far up the ID space (an old portal's gap) give the contact pass many units, most of
    // them committed after the deal pass has finished.
    t.contact.insert({ ID: 40_000 });
    t.contact.delete(40_000);
    for (let i = 0; i < 30; i++) e.crm.add('contact', { NAME: `Поздний ${i}`, SOURCE_ID: 'WEB' });
    await store.db.deleteFrom('sync_checkpoint').execute();
    const crashing = new SyncEngine(deps, {
      onProgress: (c) => {
        // The process "dies" right after a contact unit committed once every deal was.
        if (c.deal!.upserted === t.deal.size && c.contact!.upserted > 0) throw new Error('simulated crash');
      },
    });
    const crashed = await crashing.run(portalId, 'full');
    expect(crashed.error).toBe('simulated crash');
    const cursors = Object.fromEntries(
      (await store.db.selectFrom('sync_checkpoint').select(['entity', 'cursor']).where('portal_id', '=', portalId).execute()).map((c) => [c.entity, c.cursor]),
    );
    expect(cursors.deal).toBeNull();
    expect(cursors.contact).toBeTypeOf('number');
    expect(cursors.contact).toBeLessThan(40_000);

    const calls = (m: string) => e.stats.calls.get(m) ?? 0;
    const before = { deal: calls('crm.deal.list'), rows: calls('crm.item.productrow.list'), contact: calls('crm.contact.list') };
    const resumed = await engine.run(portalId, 'full');
    expect(resumed.error).toBeNull();
    expect([calls('crm.deal.list') - before.deal, calls('crm.item.productrow.list') - before.rows]).toEqual([0, 0]);
    expect(resumed.entities.deal).toEqual({ fetched: 0, upserted: 0, deleted: 0 });
    // The contact pass went on from its cursor: only the contacts above it were read.
    const above = [...t.contact.all()].filter((c) => c.ID > cursors.contact!).length;
    expect(resumed.entities.contact!.fetched).toBe(above);
    expect(calls('crm.contact.list') - before.contact).toBeLessThan(Math.ceil((40_100 - cursors.contact!) / 50) + 2);
    await assertMirrorExact();
    // Both passes are complete again: an incremental run follows, not another full one, and it does
    // not re-read the reference data the full run has just read.
    const cps = await store.db.selectFrom('sync_checkpoint').select(['entity', 'cursor']).where('portal_id', '=', portalId).orderBy('entity').execute();
    expect(cps.map((c) => [c.entity, c.cursor])).toEqual([['contact', null], ['deal', null], ['reference', null]]);
    const statuses = calls('crm.status.list');
    const inc = await engine.run(portalId, 'incremental');
    expect(inc.error).toBeNull();
    expect(inc.entities.reference).toBeUndefined();
    expect(calls('crm.status.list')).toBe(statuses);
  });

  it('a portal with more pipelines than a page (crm.category.list pages at 50) has every one mirrored', async () => {
    const cats = emu.emulator.portal.data.table('category');
    for (let i = 1; i <= 55; i++)
      cats.insert({ ID: 1000 + i, NAME: `Филиал ${i}`, SORT: 1000 + i, ENTITY_TYPE_ID: 2, IS_DEFAULT: 'N', ORIGIN_ID: '', ORIGINATOR_ID: '' });
    const want = [...cats.all()].filter((c) => c.ENTITY_TYPE_ID === 2).map((c) => Number(c.ID)).sort((a, b) => a - b);
    expect(want.length).toBeGreaterThan(50);
    expect((await engine.run(portalId, 'full')).status).toBe('finished');
    const got = await store.db.selectFrom('b24_pipeline').select('id').where('portal_id', '=', portalId).orderBy('id').execute();
    expect(got.map((r) => Number(r.id))).toEqual(want);
  });

  it('stores odd rows with their problems recorded instead of aborting the run', async () => {
    const t = emu.emulator.portal.data.tables;
    const odd = [...t.deal.all()][40]!;
    // What a portal can send: an unparsable date, a missing amount, a non-numeric responsible.
    t.deal.update(odd.ID, { CLOSEDATE: '31/02/2026', OPPORTUNITY: null, ASSIGNED_BY_ID: 'кто-то', DATE_MODIFY: Date.now() });
    const run = await engine.run(portalId, 'incremental');
    expect(run.error).toBeNull();
    const row = await store.db.selectFrom('b24_deal').selectAll().where('portal_id', '=', portalId).where('id', '=', odd.ID).executeTakeFirstOrThrow();
    expect([row.closedate, row.opportunity_minor, row.assigned_by_id]).toEqual([null, null, null]);
    expect(JSON.parse(row.problems!)).toEqual([
      'ASSIGNED_BY_ID: not an integer: "кто-то"',
      'CLOSEDATE: unparsable date: "31/02/2026T03:00:00+03:00"',
    ]);
  });

  it('refuses a second run while one holds the lease', async () => {
    expect(await engine.acquireLease(portalId, 'other-instance')).toBe(true);
    await expect(engine.run(portalId, 'incremental')).rejects.toThrow(/already running/);
    await store.db.deleteFrom('sync_lease').execute();
  });

  // Last: it leaves the portal needing re-authorisation.
  it('invalid_grant marks the portal "needs re-authorisation" and stops its syncs with a clear status', async () => {
    emu.emulator.expireAccessTokens('local.sync');
    emu.emulator.revokeRefreshTokens('local.sync');
    const run = await engine.run(portalId, 'incremental');
    expect(run.status).toBe('failed');
    const portal = await store.db.selectFrom('portal').select(['status', 'status_reason']).where('portal_id', '=', portalId).executeTakeFirstOrThrow();
    expect(portal.status).toBe('needs_reauth');
    expect(portal.status_reason).toMatch(/invalid_grant/);
    const next = await engine.run(portalId, 'incremental');
    expect(next.status).toBe('failed');
    expect(next.error).toMatch(/needs_reauth/);
    expect(next.requests).toBe(0);
  });
});

