// The `clinic` scale end to end (141 000 deals, 318 000 product rows, 15 000 contacts), one sync per
// dialect shared by two checks (the sync is the expensive part):
//  - exactness: after one full run, every mirrored table equals the emulator's own data — counts and a
//    checksum over every stored field, computed from the emulator's rows independently of the sync's
//    conversions;
//  - KPIs: facts built from that mirror give every core KPI for 2025 (total, by doctor, by direction),
//    the 180-day return rate and LTV by first doctor equal to the generator's ground truth.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FactBuilder } from '../../src/clinic/facts.js';
import { DEFAULT_SETTINGS, saveSettings } from '../../src/clinic/settings.js';
import { populateClinic, type GeneratedClinic, type TruthVisit } from '../../src/emulator/generator/index.js';
import { KpiRegistry } from '../../src/kpi/registry.js';
import { KpiRunner } from '../../src/kpi/runner.js';
import { CORE, expected, indexOf, inYear, kop as truthKop, YEAR } from '../fixtures/clinic-truth.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { createTestStore, DIALECTS, type TestStore } from '../fixtures/stores.js';
import { syncSetup } from '../fixtures/sync-setup.js';

const kop = (v: unknown) => (v === null || v === undefined ? 'null' : String(Math.round(Number(v) * 100)));
const sec = (ms: unknown) => (ms === null || ms === undefined ? 'null' : new Date(Math.floor((ms as number) / 1000) * 1000).toISOString());
const n = (v: unknown) => (v === null || v === undefined || v === 0 ? 'null' : String(v));
const s = (v: unknown) => (v === null || v === undefined ? 'null' : String(v));
const digest = (lines: string[]) => createHash('sha256').update(lines.sort().join('\n')).digest('hex');

let emu: RunningEmulator;
let gen!: GeneratedClinic;
beforeAll(async () => {
  emu = await startEmulator({ limits: 'off', populate: (e) => void (gen = populateClinic(e.portal.data, { seed: 2, scale: 'clinic' })) });
}, 120_000);
afterAll(() => emu.close());

describe.each(DIALECTS)('full sync of the clinic on %s', (dialect) => {
  let store: TestStore;
  let portalId = '';
  let runner: KpiRunner;
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
    portalId = pid;
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

  it('builds the facts', { timeout: 240_000 }, async () => {
    expect(portalId).not.toBe('');
    await saveSettings(store.db, portalId, { ...DEFAULT_SETTINGS, appointment: { pipelines: [gen.layout.appointmentPipeline.categoryId], noShowStages: [] } }, null);
    const facts = new FactBuilder(store.db);
    const built = await facts.refresh(portalId);
    expect(built.visits).toBe(gen.truth.visits.length);
    console.log(`[${dialect}] facts built: ${built.visits} visits, ${built.patients} patients from ${built.deals} deals in ${Math.round(built.ms)} ms`);
    runner = new KpiRunner(store.db, KpiRegistry.load(), facts);
  });

  const run = (id: string, by?: 'doctor' | 'direction') =>
    runner.run(portalId, id, { period: YEAR, today: gen.truth.asOf, ...(by ? { by } : {}), ...(id === 'return_rate' ? { params: { days: '180' } } : {}) });

  it('core KPIs: totals for 2025 equal the ground truth', { timeout: 60_000 }, async () => {
    const want = expected(gen, () => true);
    expect(want.visits).toBeGreaterThan(20_000);
    for (const id of [...CORE, 'return_rate'] as const) {
      const got = (await run(id)).total.value;
      expect([id, got]).toEqual([id, expect.closeTo(want[id]!, 6)]);
    }
  });

  it('by doctor and by direction', { timeout: 120_000 }, async () => {
    const doctors = [...new Set(gen.truth.visits.map((v) => v.doctorId))];
    const groups = [
      ...doctors.map((d) => ({ by: 'doctor' as const, id: String(d), pick: (v: TruthVisit) => v.doctorId === d })),
      ...gen.layout.directions.map((d) => ({ by: 'direction' as const, id: String(d.categoryId), pick: (v: TruthVisit) => v.categoryId === d.categoryId })),
    ];
    const want = new Map(groups.map((g) => [`${g.by}:${g.id}`, expected(gen, g.pick)]));
    for (const id of CORE)
      for (const by of ['doctor', 'direction'] as const) {
        const got = new Map((await run(id, by)).rows.map((r) => [`${by}:${r[by]!.id}`, r.value]));
        for (const g of groups.filter((x) => x.by === by)) {
          const key = `${by}:${g.id}`;
          const w = want.get(key)![id];
          // A group without rows for this KPI (a doctor without new patients) must expect 0 or nothing.
          if (!got.has(key)) expect([id, key, w === null || w === 0]).toEqual([id, key, true]);
          else expect([id, key, got.get(key)]).toEqual([id, key, expect.closeTo(w!, 6)]);
        }
      }
  });

  // Edges inside months (days at both ends, whole months between); from a month's first day with days
  // after the whole months (patients from the monthly table, then visits); whole months only.
  it.each([
    { from: '2024-11-17', to: '2025-03-09' },
    { from: '2024-11-01', to: '2025-03-09' },
    { from: '2025-01-01', to: '2025-04-01' },
  ])('periods $from … $to by month, week and day, by doctor and direction, with filters — equal the ground truth', { timeout: 120_000 }, async (period) => {
    const monthOf = (v: TruthVisit) => `${v.visitDate.slice(0, 7)}-01`;
    const mondayOf = (v: TruthVisit) => {
      const t = Date.parse(`${v.visitDate}T00:00:00Z`);
      return new Date(t - ((new Date(t).getUTCDay() + 6) % 7) * 86_400_000).toISOString().slice(0, 10);
    };
    const counts = new Map<number, number>();
    for (const v of gen.truth.visits) counts.set(v.doctorId, (counts.get(v.doctorId) ?? 0) + 1);
    const doctor = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    const direction = gen.layout.directions[1]!.categoryId;
    type Case = {
      by: 'doctor' | 'direction' | 'day' | 'week' | 'month';
      key: (v: TruthVisit) => string;
      filters?: { doctor?: string; direction?: string };
      pick?: (v: TruthVisit) => boolean;
    };
    const cases: Case[] = [
      { by: 'month', key: monthOf },
      { by: 'week', key: mondayOf },
      { by: 'day', key: (v) => v.visitDate },
      { by: 'doctor', key: (v) => String(v.doctorId) },
      { by: 'direction', key: (v) => String(v.categoryId) },
      // Filters the precomputed splits do not cover alone (doctor × direction) and those they do.
      { by: 'direction', key: (v) => String(v.categoryId), filters: { doctor: String(doctor) }, pick: (v) => v.doctorId === doctor },
      { by: 'month', key: monthOf, filters: { direction: String(direction) }, pick: (v) => v.categoryId === direction },
      { by: 'doctor', key: (v) => String(v.doctorId), filters: { doctor: String(doctor) }, pick: (v) => v.doctorId === doctor },
    ];
    const ids = ['revenue', 'visits', 'avg_check', 'new_patients', 'unique_patients', 'repeat_patients', 'repeat_share', 'revenue_per_patient'] as const;
    for (const c of cases) {
      const inPeriod = gen.truth.visits.filter((v) => v.visitDate >= period.from && v.visitDate < period.to && (c.pick?.(v) ?? true));
      const keys = [...new Set(inPeriod.map(c.key))];
      expect(keys.length).toBeGreaterThan(0);
      const wants = new Map(keys.map((k) => [k, expected(gen, (v) => (c.pick?.(v) ?? true) && c.key(v) === k, period)]));
      const totals = expected(gen, (v) => c.pick?.(v) ?? true, period);
      for (const id of ids) {
        const r = await runner.run(portalId, id, { period, by: c.by, today: gen.truth.asOf, ...(c.filters ? { filters: c.filters } : {}) });
        const got = new Map(r.rows.map((row) => [row.period ?? row[c.by as 'doctor']!.id!, row.value]));
        const label = `${id} by ${c.by} ${JSON.stringify(c.filters ?? {})}`;
        // Every group with visits in the period has a row, and only those.
        expect([label, [...got.keys()].sort()]).toEqual([label, [...keys].sort()]);
        for (const k of keys) {
          const want = wants.get(k)![id];
          expect([label, k, got.get(k)]).toEqual([label, k, want === null ? null : expect.closeTo(want, 6)]);
        }
        const total = totals[id];
        expect([label, 'total', r.total.value]).toEqual([label, 'total', total === null ? null : expect.closeTo(total, 6)]);
      }
    }
  });

  it('LTV by first doctor', { timeout: 60_000 }, async () => {
    const all = gen.truth.visits;
    const dealById = new Map(all.map((v) => [v.dealId, v]));
    const byDoctor = new Map<string, number[]>();
    for (const [c, d] of gen.truth.firstVisitDealByContact) {
      const f = dealById.get(d)!;
      if (!inYear(f.visitDate)) continue;
      const life = indexOf(gen).byContact.get(c)!.reduce((s, v) => s + truthKop(v), 0);
      byDoctor.set(String(f.doctorId), [...(byDoctor.get(String(f.doctorId)) ?? []), life]);
    }
    const got = await run('ltv', 'doctor');
    expect(got.rows.length).toBe(byDoctor.size);
    for (const r of got.rows) {
      const lives = byDoctor.get(r.doctor!.id!)!;
      expect(r.value).toBeCloseTo(lives.reduce((a, b) => a + b, 0) / lives.length / 100, 6);
      expect(r.detail?.cohort).toBe(lives.length);
    }
  });
});
