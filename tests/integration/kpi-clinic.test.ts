// End to end at the `clinic` scale: the generated clinic is synced from the emulator over REST, facts
// are built, and every core KPI for the year 2025 — total, by doctor, by direction — equals what the
// generator's ground truth (its own list of visits, not the store) says, as do the 180-day return
// rate and LTV. Both dialects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FactBuilder } from '../../src/clinic/facts.js';
import { saveSettings, DEFAULT_SETTINGS } from '../../src/clinic/settings.js';
import { populateClinic, type GeneratedClinic, type TruthVisit } from '../../src/emulator/generator/index.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { KpiRegistry } from '../../src/kpi/registry.js';
import { KpiRunner } from '../../src/kpi/runner.js';
import { createTestStore, DIALECTS, type TestStore } from '../fixtures/stores.js';
import { syncSetup } from '../fixtures/sync-setup.js';

const YEAR = { from: '2025-01-01', to: '2026-01-01' };
const inYear = (d: string) => d >= YEAR.from && d < YEAR.to;
const kop = (v: TruthVisit) => Math.round(v.revenue * 100);
const days = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 86_400_000;

interface Index {
  firstOf: Map<number, TruthVisit>;
  byContact: Map<number, TruthVisit[]>;
}
const indexes = new WeakMap<GeneratedClinic, Index>();
function indexOf(gen: GeneratedClinic): Index {
  let ix = indexes.get(gen);
  if (!ix) {
    const dealById = new Map(gen.truth.visits.map((v) => [v.dealId, v]));
    const byContact = new Map<number, TruthVisit[]>();
    for (const v of gen.truth.visits) if (v.contactId !== null) byContact.set(v.contactId, [...(byContact.get(v.contactId) ?? []), v]);
    ix = { firstOf: new Map([...gen.truth.firstVisitDealByContact].map(([c, d]) => [c, dealById.get(d)!])), byContact };
    indexes.set(gen, ix);
  }
  return ix;
}

/** The core KPIs of a set of visits, from the generator's truth alone. */
function expected(gen: GeneratedClinic, pick: (v: TruthVisit) => boolean) {
  const all = gen.truth.visits;
  const { firstOf, byContact } = indexOf(gen);
  const visits = all.filter((v) => inYear(v.visitDate) && pick(v));
  const revenueKop = visits.reduce((s, v) => s + kop(v), 0);
  const patients = new Set(visits.flatMap((v) => (v.contactId === null ? [] : [v.contactId])));
  const fresh = new Set(visits.filter((v) => v.contactId !== null && firstOf.get(v.contactId)!.dealId === v.dealId).map((v) => v.contactId!));
  const repeat = new Set(visits.filter((v) => v.contactId !== null && v.visitDate > firstOf.get(v.contactId)!.visitDate).map((v) => v.contactId!));
  const lifetime = (c: number) => byContact.get(c)!.reduce((s, v) => s + kop(v), 0);
  return {
    revenue: revenueKop / 100,
    visits: visits.length,
    avg_check: visits.length ? revenueKop / visits.length / 100 : null,
    unique_patients: patients.size,
    new_patients: fresh.size,
    repeat_patients: repeat.size,
    repeat_share: patients.size ? repeat.size / patients.size : null,
    revenue_per_patient: patients.size ? revenueKop / patients.size / 100 : null,
    ltv: fresh.size ? [...fresh].reduce((s, c) => s + lifetime(c), 0) / fresh.size / 100 : null,
    return_rate: (() => {
      // The 2025 cohort, all at least 180 days before the generator's last day: returned within 180
      // days on a later day.
      const cohort = [...fresh];
      const back = cohort.filter((c) => {
        const f = firstOf.get(c)!;
        return byContact.get(c)!.some((v) => v.visitDate > f.visitDate && days(f.visitDate, v.visitDate) <= 180);
      });
      return cohort.length ? back.length / cohort.length : null;
    })(),
  };
}

const CORE = ['revenue', 'visits', 'avg_check', 'unique_patients', 'new_patients', 'repeat_patients', 'repeat_share', 'revenue_per_patient', 'ltv'] as const;

let emu: RunningEmulator;
let gen!: GeneratedClinic;
beforeAll(async () => {
  emu = await startEmulator({ limits: 'off', populate: (e) => void (gen = populateClinic(e.portal.data, { seed: 5, scale: 'clinic' })) });
}, 120_000);
afterAll(() => emu?.close());

describe.each(DIALECTS)('core KPIs of the synced clinic on %s', (dialect) => {
  let store: TestStore;
  let runner: KpiRunner;
  let portalId: string;

  beforeAll(async () => {
    store = await createTestStore(dialect);
    const inst = await emu.emulator.installApp({ clientId: `local.kpi.${dialect}` });
    const s = await syncSetup(store.db, inst);
    portalId = s.portalId;
    expect((await s.engine.run(portalId, 'full')).error).toBeNull();
    await saveSettings(store.db, portalId, { ...DEFAULT_SETTINGS, appointment: { pipelines: [gen.layout.appointmentPipeline.categoryId], noShowStages: [] } }, null);
    const facts = new FactBuilder(store.db);
    const built = await facts.refresh(portalId);
    console.log(`[${dialect}] facts built: ${built.visits} visits, ${built.patients} patients from ${built.deals} deals in ${Math.round(built.ms)} ms`);
    runner = new KpiRunner(store.db, KpiRegistry.load(), facts);
  }, 300_000);
  afterAll(() => store?.dispose());

  const run = (id: string, by?: 'doctor' | 'direction') =>
    runner.run(portalId, id, { period: YEAR, today: gen.truth.asOf, ...(by ? { by } : {}), ...(id === 'return_rate' ? { params: { days: '180' } } : {}) });

  it('totals for 2025 equal the ground truth', { timeout: 60_000 }, async () => {
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

  it('LTV by first doctor', { timeout: 60_000 }, async () => {
    const all = gen.truth.visits;
    const dealById = new Map(all.map((v) => [v.dealId, v]));
    const byDoctor = new Map<string, number[]>();
    for (const [c, d] of gen.truth.firstVisitDealByContact) {
      const f = dealById.get(d)!;
      if (!inYear(f.visitDate)) continue;
      const life = indexOf(gen).byContact.get(c)!.reduce((s, v) => s + kop(v), 0);
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
