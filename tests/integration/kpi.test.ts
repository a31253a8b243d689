// Known answers: the hand-built clinic of tests/fixtures/clinic-mirror.ts, every expected number worked
// out by hand from its table. Both dialects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FactBuilder } from '../../src/clinic/facts.js';
import { dataQuality } from '../../src/clinic/quality.js';
import { saveSettings, DEFAULT_SETTINGS } from '../../src/clinic/settings.js';
import { KpiRegistry } from '../../src/kpi/registry.js';
import { KpiQueryError, KpiRunner, NotSyncedError, type KpiQuery, type KpiRow } from '../../src/kpi/runner.js';
import { PORTAL, writeClinicMirror } from '../fixtures/clinic-mirror.js';
import { createTestStore, DIALECTS, type TestStore } from '../fixtures/stores.js';

const JAN = { from: '2026-01-01', to: '2026-02-01' };
const Q1 = { from: '2026-01-01', to: '2026-04-01' };
const TODAY = '2026-11-23';

describe.each(DIALECTS)('KPIs of the hand-built clinic on %s', (dialect) => {
  let store: TestStore;
  let runner: KpiRunner;
  const run = (id: string, q: Partial<KpiQuery> = {}) => runner.run(PORTAL, id, { period: JAN, today: TODAY, ...q });
  const total = async (id: string, q: Partial<KpiQuery> = {}) => (await run(id, q)).total.value;

  beforeAll(async () => {
    store = await createTestStore(dialect);
    await writeClinicMirror(store.db);
    // The defaults, with the appointment pipeline named (what detection proposes for it).
    await saveSettings(store.db, PORTAL, { ...DEFAULT_SETTINGS, appointment: { pipelines: [7], noShowStages: [] } }, null);
    runner = new KpiRunner(store.db, KpiRegistry.load(), new FactBuilder(store.db));
  });
  afterAll(async () => store?.dispose());

  it('core KPIs for January', async () => {
    expect(await total('revenue')).toBe(13000);
    expect(await total('visits')).toBe(4);
    expect(await total('avg_check')).toBe(3250);
    expect(await total('unique_patients')).toBe(3);
    expect(await total('new_patients')).toBe(2);
    expect(await total('repeat_patients')).toBe(1);
    expect(await total('repeat_share')).toBeCloseTo(1 / 3, 12);
    expect(await total('revenue_per_patient')).toBeCloseTo(13000 / 3, 9);
    const ltv = await run('ltv');
    expect(ltv.total.value).toBe(17500);
    expect(ltv.total.detail).toEqual({ cohort: 2 });
    expect(ltv.syncedAt).toBe('2026-11-01T00:00:00.000Z');
    expect(ltv.kpi).toEqual({ id: 'ltv', label: 'LTV пациента', unit: 'money' });
  });

  it('over a quarter: deals out of won stages, appointments, visits without patient or doctor, other currencies', async () => {
    expect(await total('revenue', { period: Q1 })).toBe(50000);
    expect(await total('visits', { period: Q1 })).toBe(9);
    expect(await total('unique_patients', { period: Q1 })).toBe(4);
    expect(await total('new_patients', { period: Q1 })).toBe(3);
    expect(await total('repeat_patients', { period: Q1 })).toBe(4);
    expect(await total('repeat_share', { period: Q1 })).toBe(1);
    const byMonth = await run('revenue', { period: Q1, by: 'month' });
    expect(byMonth.rows.map((r) => [r.period, r.value])).toEqual([
      ['2026-01-01', 13000],
      ['2026-02-01', 31500],
      ['2026-03-01', 5500],
    ]);
    const byDoctor = await run('revenue', { period: Q1, by: 'doctor' });
    expect(byDoctor.rows.map((r) => [r.doctor, r.value])).toEqual([
      [{ id: '11', name: 'Петрова Анна' }, 37000],
      [{ id: '12', name: 'Сидоров Олег' }, 9000],
      [{ id: '10', name: 'Иванов Иван' }, 3000],
      [{ id: null, name: null }, 1000],
    ]);
  });

  it('by doctor and by direction, and filtered', async () => {
    const r = await run('revenue', { by: 'doctor' });
    expect(r.rows.map((x) => [x.doctor?.id, x.value])).toEqual([
      ['12', 9000],
      ['10', 2500],
      ['11', 1500],
    ]);
    const n = await run('new_patients', { by: 'doctor' });
    // Doctor 12 saw only a returning patient: a row with 0.
    expect(n.rows.map((x) => [x.doctor?.id, x.value])).toEqual([
      ['10', 1],
      ['11', 1],
      ['12', 0],
    ]);
    const d = await run('visits', { by: 'direction' });
    expect(d.rows.map((x) => [x.direction, x.value])).toEqual([
      [{ id: '1', name: 'Терапия' }, 3],
      [{ id: '2', name: 'Ортопедия' }, 1],
    ]);
    expect(await total('revenue', { filters: { doctor: '10' } })).toBe(2500);
    expect(await total('revenue', { filters: { direction: '2' } })).toBe(9000);
    expect(await total('avg_check', { filters: { direction: '1' } })).toBeCloseTo(4000 / 3, 9);
    const ltv = await run('ltv', { by: 'doctor' });
    expect(ltv.rows.map((x) => [x.doctor?.id, x.value, x.detail])).toEqual([
      ['10', 32500, { cohort: 1 }],
      ['11', 2500, { cohort: 1 }],
    ]);
  });

  it('compares with the previous period and the same period last year', async () => {
    const prev = await run('revenue', { compare: 'previous' });
    expect(prev.compareWith).toEqual({ kind: 'previous', period: { from: '2025-12-01', to: '2026-01-01' } });
    expect(prev.total.compare).toEqual({ value: 30000, delta: -17000, deltaPct: -17000 / 30000 });
    const ly = await run('revenue', { compare: 'last_year' });
    expect(ly.compareWith?.period).toEqual({ from: '2025-01-01', to: '2025-02-01' });
    // An empty period is 0 revenue, and a change from 0 has no percentage.
    expect(ly.total.compare).toEqual({ value: 0, delta: 13000, deltaPct: null });
    const avg = await run('avg_check', { compare: 'last_year' });
    expect(avg.total.compare).toEqual({ value: null, delta: null, deltaPct: null });
    const share = await run('repeat_share', { compare: 'previous' });
    expect(share.total.compare?.value).toBe(0);
    expect(share.total.compare?.delta).toBeCloseTo(1 / 3, 12);
    // By doctor: each row against the same doctor's December (doctor 12: 30000 → 9000).
    const byDoc = await run('revenue', { by: 'doctor', compare: 'previous' });
    expect(byDoc.rows.map((x) => [x.doctor?.id, x.compare?.value])).toEqual([
      ['12', 30000],
      ['10', 0],
      ['11', 0],
    ]);
    // A 17-day period compares with the 17 days before it.
    const days = await run('visits', { period: { from: '2026-01-15', to: '2026-02-01' }, compare: 'previous' });
    expect(days.compareWith?.period).toEqual({ from: '2025-12-29', to: '2026-01-15' });
    expect(days.total.value).toBe(2);
    expect(days.total.compare?.value).toBe(2);
  });

  it('an empty period: sums are 0, ratios null', async () => {
    const empty = { period: { from: '2024-01-01', to: '2024-02-01' } };
    expect(await total('revenue', empty)).toBe(0);
    expect(await total('visits', empty)).toBe(0);
    expect(await total('avg_check', empty)).toBeNull();
    expect(await total('repeat_share', empty)).toBeNull();
    expect(await total('ltv', empty)).toBeNull();
    expect((await run('revenue', { ...empty, by: 'doctor' })).rows).toEqual([]);
  });

  it('return rate: windows, same doctor, censored cohorts', async () => {
    const r30 = await run('return_rate', { params: { days: '30' } });
    expect([r30.total.value, r30.total.detail]).toEqual([0, { returned: 0, cohort: 2, censored: 0 }]);
    expect(r30.params).toEqual({ days: '30', scope: 'clinic' });
    expect(await total('return_rate', { params: { days: '90' } })).toBe(1);
    const doc = await run('return_rate', { params: { days: '90', scope: 'doctor' } });
    expect([doc.total.value, doc.total.detail]).toEqual([0.5, { returned: 1, cohort: 2, censored: 0 }]);
    const byDoc = await run('return_rate', { by: 'doctor', params: { days: '90', scope: 'doctor' } });
    expect(byDoc.rows.map((x) => [x.doctor?.id, x.value])).toEqual([
      ['11', 1],
      ['10', 0],
    ]);
    // A year has not passed since January 2026: the whole cohort is still inside its window.
    const r365 = await run('return_rate', { params: { days: '365' } });
    expect([r365.total.value, r365.total.detail]).toEqual([null, { returned: 0, cohort: 0, censored: 2 }]);
    // The default window is 180 days: all three new patients of the quarter came back within it.
    expect(await total('return_rate', { period: Q1 })).toBe(1);
    await expect(run('return_rate', { params: { days: '45' } })).rejects.toThrow(KpiQueryError);
  });

  it('the cohort table', async () => {
    const c = await run('return_cohort', { period: Q1 });
    expect(c.rows).toEqual([
      {
        period: '2026-01-01',
        value: null,
        detail: {
          size: 2,
          cells: [
            { monthsSince: 0, patients: 2, share: 1 },
            { monthsSince: 1, patients: 1, share: 0.5 },
            { monthsSince: 2, patients: 1, share: 0.5 },
          ],
        },
      },
      {
        period: '2026-02-01',
        value: null,
        detail: { size: 1, cells: [{ monthsSince: 0, patients: 1, share: 1 }, { monthsSince: 1, patients: 1, share: 1 }] },
      },
    ]);
    const byDoctor11 = await run('return_cohort', { period: Q1, filters: { doctor: '11' } });
    expect(byDoctor11.rows.map((r) => [r.period, r.detail?.size])).toEqual([['2026-01-01', 1]]);
  });

  it('service detail with ABC classes', async () => {
    const s = await run('service_revenue', { period: Q1, by: 'service' });
    expect(s.total.value).toBe(44000);
    expect(s.rows.map((r) => [r.service?.name, r.value, r.detail?.quantity, r.detail?.visits, r.detail?.doctors, r.detail?.avgPrice, r.detail?.abc])).toEqual([
      ['Коронка', 39000, 2, 2, 2, 19500, 'A'],
      ['Лечение кариеса', 4000, 4, 3, 2, 1000, 'B'],
      ['Чистка', 1000, 2, 2, 1, 500, 'C'],
      ['Осмотр', 0, 1, 1, 0, 0, 'C'],
    ]);
    expect(s.rows[0]!.detail?.share).toBeCloseTo(39000 / 44000, 12);
    expect(s.rows[1]!.detail?.cumShare).toBeCloseTo(43000 / 44000, 12);
    expect(await total('quantity', { period: Q1 })).toBe(9);
  });

  it('service revenue by doctor and direction counts each visit once, across days at the edges and whole months', async () => {
    // 10 Jan – 5 Mar: January and March partly (days), February whole (month sums). D11 has two rows
    // (P1 and the free P4) and is one visit; D4 has no rows and is not here.
    const period = { from: '2026-01-10', to: '2026-03-06' };
    const pick = (r: KpiRow, by: 'doctor' | 'direction') => [r[by]?.id ?? null, r.value, r.detail?.visits, r.detail?.quantity];
    const byDoctor = await run('service_revenue', { period, by: 'doctor' });
    expect(byDoctor.rows.map((r) => pick(r, 'doctor'))).toEqual([
      ['11', 31000, 2, 2], // D3, D5
      ['12', 9000, 1, 1], // D7
      ['10', 3000, 3, 4], // D1, D2, D8
      [null, 1000, 1, 2], // D11
    ]);
    expect([byDoctor.total.value, byDoctor.total.detail?.visits]).toEqual([44000, 7]);
    const byDirection = await run('service_revenue', { period, by: 'direction' });
    expect(byDirection.rows.map((r) => pick(r, 'direction'))).toEqual([
      ['2', 39000, 2, 2], // D3, D7
      ['1', 5000, 5, 7], // D1, D2, D8, D11, D5
    ]);
    // Doctor 10's services in the same period: P1 in D1, P2 in D2 and D8.
    const services10 = await run('service_revenue', { period, by: 'service', filters: { doctor: '10' } });
    expect(services10.rows.map((r) => [r.service?.name, r.value, r.detail?.visits])).toEqual([
      ['Лечение кариеса', 2000, 1],
      ['Чистка', 1000, 2],
    ]);
  });

  it('unique and repeat patients by source and by doctor: whole months, edges in months, and whole months with days after them', async () => {
    // D1 is the only RECOMMENDATION visit (patient 100 on their first day); every other visit is CALL.
    // Patient 101's first day is 31 Jan (D4, doctor 11) and their next day 5 Mar (D5, doctor 11), so a
    // period from 1 Jan to 5 Mar counts 101 as repeat only from the days after the whole months.
    const pick = async (id: string, by: 'source' | 'doctor', period: { from: string; to: string }) =>
      Object.fromEntries((await run(id, { period, by })).rows.map((r) => [r[by]?.id ?? 'none', r.value]));
    const cases: [{ from: string; to: string }, Record<string, number>, Record<string, number>][] = [
      // Q1: CALL patients 100, 101, 102, 103, each back on a later day (D3, D5, D7, D12).
      [Q1, { RECOMMENDATION: 1, CALL: 4 }, { RECOMMENDATION: 0, CALL: 4 }],
      // 10 Jan – 5 Mar: 103 is seen only on their first day (D11; D12 is 31 Mar).
      [{ from: '2026-01-10', to: '2026-03-06' }, { RECOMMENDATION: 1, CALL: 4 }, { RECOMMENDATION: 0, CALL: 3 }],
      // 1 Jan – 5 Mar: January and February whole, 1–5 March as days; 101 is repeat through D5.
      [{ from: '2026-01-01', to: '2026-03-06' }, { RECOMMENDATION: 1, CALL: 4 }, { RECOMMENDATION: 0, CALL: 3 }],
    ];
    for (const [period, unique, repeat] of cases) {
      expect([period, await pick('unique_patients', 'source', period)]).toEqual([period, unique]);
      expect([period, await pick('repeat_patients', 'source', period)]).toEqual([period, repeat]);
    }
    // Doctor 11 over 1 Jan – 5 Mar: patients 100 (D3, a later day) and 101 (first day D4, back on D5).
    const bridge = { from: '2026-01-01', to: '2026-03-06' };
    expect((await pick('unique_patients', 'doctor', bridge))['11']).toBe(2);
    expect((await pick('repeat_patients', 'doctor', bridge))['11']).toBe(2);
  });

  it('data quality counts', async () => {
    expect(await dataQuality(store.db, PORTAL)).toEqual({
      visits: 10,
      withoutPatient: 1,
      withoutDoctor: 1,
      withBadRows: 1,
      converted: 2,
      withoutDate: 0,
    });
  });

  it('refuses unknown KPIs, dimensions and parameters with the reason', async () => {
    await expect(run('profit')).rejects.toThrow('unknown KPI "profit"');
    await expect(run('ltv', { by: 'service' })).rejects.toThrow('has no dimension "service"');
  });

  it('a deal moved out of the won stage stops being a visit', async () => {
    const now = new Date().toISOString();
    await store.db.updateTable('b24_deal').set({ stage_id: 'C2:LOSE', synced_at: now }).where('portal_id', '=', PORTAL).where('id', '=', 3).execute();
    await store.db
      .insertInto('sync_run')
      .values({ portal_id: PORTAL, mode: 'incremental', status: 'finished', started_at: now, finished_at: now, requests: 1, entities: '{}', error: null })
      .execute();
    expect(await total('revenue', { period: Q1 })).toBe(20000);
    // Patient 100 no longer came back: one of two January patients returned within 90 days.
    expect(await total('return_rate', { params: { days: '90' } })).toBe(0.5);
    expect(await total('ltv')).toBe((2500 + 2500) / 2);
  });

  it('says so when the portal was never synced', async () => {
    await expect(runner.run('never-synced', 'revenue', { period: JAN })).rejects.toThrow(NotSyncedError);
  });
});
