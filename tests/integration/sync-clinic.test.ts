// Exactness at the `clinic` scale (141 000 deals, 318 000 product rows, 15 000 contacts): after one
// full run, every mirrored table equals the emulator's own data — counts and a checksum over every
// stored field, computed from the emulator's rows independently of the sync's conversions.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { populateClinic } from '../../src/emulator/generator/index.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { createTestStore, DIALECTS, type TestStore } from '../fixtures/stores.js';
import { syncSetup } from '../fixtures/sync-setup.js';

const kop = (v: unknown) => (v === null || v === undefined ? 'null' : String(Math.round(Number(v) * 100)));
const sec = (ms: unknown) => (ms === null || ms === undefined ? 'null' : new Date(Math.floor((ms as number) / 1000) * 1000).toISOString());
const n = (v: unknown) => (v === null || v === undefined || v === 0 ? 'null' : String(v));
const s = (v: unknown) => (v === null || v === undefined ? 'null' : String(v));
const digest = (lines: string[]) => createHash('sha256').update(lines.sort().join('\n')).digest('hex');

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator({ limits: 'off', populate: (e) => void populateClinic(e.portal.data, { seed: 2, scale: 'clinic' }) });
}, 120_000);
afterAll(() => emu.close());

describe.each(DIALECTS)('full sync of the clinic on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
  });
  afterAll(() => store.dispose());

  it('mirrors every table exactly', async () => {
    const inst = await emu.emulator.installApp({ clientId: `local.clinic.${dialect}` });
    const { engine } = await syncSetup(store.db, inst);
    const run = await engine.run(inst.memberId, 'full');
    expect(run.error).toBeNull();

    const t = emu.emulator.portal.data.tables;
    const pid = inst.memberId;
    const deals = await store.db.selectFrom('b24_deal').selectAll().where('portal_id', '=', pid).execute();
    expect(deals.length).toBe(t.deal.size);
    expect(digest(deals.map((d) => [d.id, d.category_id, d.stage_id, d.stage_semantic_id, d.currency_id, d.opportunity_minor ?? 'null', n(d.contact_id), n(d.assigned_by_id), s(d.closedate), s(d.begindate), s(d.date_create), s(d.date_modify), s(d.source_id), s(d.type_id)].join('|')))).toBe(
      digest([...t.deal.all()].map((d) => [d.ID, d.CATEGORY_ID, d.STAGE_ID, d.STAGE_SEMANTIC_ID, d.CURRENCY_ID, kop(d.OPPORTUNITY), n(d.CONTACT_ID), n(d.ASSIGNED_BY_ID), s(d.CLOSEDATE), s(d.BEGINDATE), sec(d.DATE_CREATE), sec(d.DATE_MODIFY), s(d.SOURCE_ID), s(d.TYPE_ID)].join('|'))),
    );
    const rows = await store.db.selectFrom('b24_product_row').selectAll().where('portal_id', '=', pid).execute();
    const truthRows = [...t.productrow.all()].filter((r) => r.OWNER_TYPE === 'D');
    expect(rows.length).toBe(truthRows.length);
    expect(digest(rows.map((r) => [r.id, r.deal_id, n(r.product_id), s(r.product_name), r.price_minor, s(r.price_account_minor), r.quantity, s(r.discount_type_id), s(r.discount_sum_minor), s(r.tax_rate)].join('|')))).toBe(
      digest(truthRows.map((r) => [r.ID, r.OWNER_ID, n(r.PRODUCT_ID), s(r.PRODUCT_NAME), kop(r.PRICE), kop(r.PRICE_ACCOUNT), r.QUANTITY, s(r.DISCOUNT_TYPE_ID), kop(r.DISCOUNT_SUM), s(r.TAX_RATE)].join('|'))),
    );
    const contacts = await store.db.selectFrom('b24_contact').selectAll().where('portal_id', '=', pid).execute();
    expect(contacts.length).toBe(t.contact.size);
    expect(digest(contacts.map((c) => [c.id, s(c.source_id), s(c.type_id), s(c.birthdate), s(c.date_modify), n(c.assigned_by_id)].join('|')))).toBe(
      digest([...t.contact.all()].map((c) => [c.ID, s(c.SOURCE_ID), s(c.TYPE_ID), s(c.BIRTHDATE), sec(c.DATE_MODIFY), n(c.ASSIGNED_BY_ID)].join('|'))),
    );
    expect(contacts.every((c) => c.name === null && c.last_name === null)).toBe(true);
    for (const [table, emuTable] of [['b24_user', 'user'], ['b24_department', 'department'], ['b24_product', 'product'], ['b24_product_section', 'productsection'], ['b24_pipeline', 'category']] as const) {
      const c = await store.db.selectFrom(table).select(({ fn }) => fn.countAll<number>().as('n')).where('portal_id', '=', pid).executeTakeFirstOrThrow();
      expect([table, Number(c.n)]).toEqual([table, t[emuTable].size]);
    }
    expect(deals.filter((d) => d.problems !== null)).toEqual([]);
  }, 240_000);
});
