// The KPI, settings and plans API over HTTP (app.inject on the real app and store): the hand-built
// clinic of tests/fixtures/clinic-mirror.ts, an admin and a doctor who is not. Both dialects.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { DEFAULT_SETTINGS } from '../../src/clinic/settings.js';
import { PortalRepo } from '../../src/db/portals.js';
import { SecretBox } from '../../src/db/secrets.js';
import { signSession } from '../../src/portal-app/session.js';
import { PORTAL, writeClinicMirror } from '../fixtures/clinic-mirror.js';
import { createTestStore, DIALECTS, type TestStore } from '../fixtures/stores.js';

const SECRET = 'kpi-api-test-secret-'.padEnd(40, 'x');

describe.each(DIALECTS)('KPI API on %s', (dialect) => {
  let store: TestStore;
  let app: FastifyInstance;
  let admin: string;
  let doctor: string;

  beforeAll(async () => {
    store = await createTestStore(dialect);
    await writeClinicMirror(store.db);
    await new PortalRepo(store.db, new SecretBox(SECRET)).registerOAuth({
      portalId: PORTAL,
      domain: 'kpi-test.bitrix24.ru',
      clientEndpoint: 'https://kpi-test.bitrix24.ru/rest/',
      serverEndpoint: 'https://oauth.bitrix.info/rest/',
      scope: ['crm'],
      userId: 1,
      tokens: { accessToken: 'a', refreshToken: 'r', expiresAt: 0 },
      applicationToken: 'app-token',
    });
    app = await buildApp({
      config: { PUBLIC_URL: 'http://127.0.0.1:1', B24_CLIENT_ID: 'local.kpi', B24_CLIENT_SECRET: 'secret', APP_SECRET: SECRET, ALLOW_INSECURE_PORTALS: true },
      store,
    });
    admin = signSession(SECRET, { portalId: PORTAL, userId: 1, isAdmin: true }).token;
    doctor = signSession(SECRET, { portalId: PORTAL, userId: 10, isAdmin: false }).token;
  });
  afterAll(async () => {
    await app?.close();
    await store?.dispose();
  });

  const get = (url: string, token = admin) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  const put = (url: string, body: unknown, token = admin) =>
    app.inject({ method: 'PUT', url, payload: body as object, headers: { authorization: `Bearer ${token}` } });

  it('lists the registry', async () => {
    const r = await get('/api/v1/kpi');
    expect(r.statusCode).toBe(200);
    const ids = (r.json() as { kpis: { id: string }[] }).kpis.map((k) => k.id);
    expect(ids).toEqual(expect.arrayContaining(['revenue', 'visits', 'avg_check', 'ltv', 'return_rate', 'return_cohort', 'service_revenue']));
  });

  it('answers one KPI with rows and a comparison, in the documented shape', async () => {
    const r = await get('/api/v1/kpi/revenue?from=2026-01-01&to=2026-02-01&by=direction&compare=previous');
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.kpi).toEqual({ id: 'revenue', label: 'Выручка', unit: 'money' });
    expect(body.period).toEqual({ from: '2026-01-01', to: '2026-02-01' });
    expect(body.total).toEqual({ value: 13000, compare: { value: 30000, delta: -17000, deltaPct: -17000 / 30000 } });
    expect(body.rows).toEqual([
      { direction: { id: '2', name: 'Ортопедия' }, value: 9000, compare: { value: 30000, delta: -21000, deltaPct: -0.7 } },
      { direction: { id: '1', name: 'Терапия' }, value: 4000, compare: { value: 0, delta: 4000, deltaPct: null } },
    ]);
    expect((await get('/api/v1/kpi/revenue?from=2026-01-01&to=2026-02-01&lang=en')).json().kpi.label).toBe('Revenue');
  });

  it('refuses bad queries with the reason', async () => {
    const cases: [string, number, string][] = [
      ['/api/v1/kpi/revenue?from=2026-02-01&to=2026-01-01', 400, 'must be before'],
      ['/api/v1/kpi/revenue?from=2026-02-30&to=2026-03-01', 400, 'from must be a date'],
      ['/api/v1/kpi/revenue?from=2026-01-01', 400, 'to'],
      ['/api/v1/kpi/revenue?from=2026-01-01&to=2026-02-01&by=planet', 400, 'by'],
      ['/api/v1/kpi/ltv?from=2026-01-01&to=2026-02-01&by=service', 400, 'has no dimension "service"'],
      ['/api/v1/kpi/return_rate?from=2026-01-01&to=2026-02-01&days=45', 400, 'days must be one of 30, 90, 180, 365'],
      ['/api/v1/kpi/profit?from=2026-01-01&to=2026-02-01', 404, 'no KPI "profit"'],
    ];
    for (const [url, status, text] of cases) {
      const r = await get(url);
      expect([url, r.statusCode]).toEqual([url, status]);
      expect((r.json() as { message: string }).message).toContain(text);
    }
  });

  it('a doctor who is not an admin sees the clinic totals and only their own row', async () => {
    const total = await get('/api/v1/kpi/revenue?from=2026-01-01&to=2026-02-01', doctor);
    expect(total.json().total.value).toBe(13000);
    const byDoctor = await get('/api/v1/kpi/revenue?from=2026-01-01&to=2026-02-01&by=doctor', doctor);
    expect(byDoctor.json().rows).toEqual([{ doctor: { id: '10', name: 'Иванов Иван' }, value: 2500 }]);
    const byDirection = await get('/api/v1/kpi/revenue?from=2026-01-01&to=2026-02-01&by=direction', doctor);
    expect(byDirection.json().rows.map((r: { value: number }) => r.value)).toEqual([2500]);
    expect((await get('/api/v1/kpi/revenue?from=2026-01-01&to=2026-02-01&doctor=11', doctor)).statusCode).toBe(403);
    expect((await get('/api/v1/settings', doctor)).statusCode).toBe(403);
    expect((await get('/api/v1/doctor-signal?from=2026-01-01&to=2026-02-01', doctor)).statusCode).toBe(403);
  });

  it('settings: read with the portal’s choices, refuse bad ones naming the field, save and re-derive', async () => {
    const r = await get('/api/v1/settings');
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.version).toBe(0);
    // Never saved: the defaults, with the appointment pipeline found by its name.
    expect(body.settings).toEqual({ ...DEFAULT_SETTINGS, appointment: { pipelines: [7], noShowStages: [] } });
    expect(body.choices.pipelines.map((p: { id: number }) => p.id)).toEqual([0, 1, 2, 7]);
    expect(body.choices.pipelines[1].stages.map((s: { id: string }) => s.id)).toEqual(['C1:NEW', 'C1:WON', 'C1:LOSE']);
    expect(body.detected.reasons[0]).toContain('Записи на прием');

    const bad = await put('/api/v1/settings', { settings: { ...DEFAULT_SETTINGS, revenue: 'profit' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain('/revenue');
    const badZone = await put('/api/v1/settings', { settings: { ...DEFAULT_SETTINGS, timeZone: 'Mars/Olympus' } });
    expect(badZone.json().message).toContain('unknown time zone');

    // Revenue from OPPORTUNITY: January becomes D1 2000 + D2 500 + D4 1500 + D7 100 $ × 90 = 13000 too,
    // so count visits in the therapy pipeline only instead: D1, D2, D4 = 3 visits, 4000.
    const saved = await put('/api/v1/settings', {
      settings: { ...DEFAULT_SETTINGS, appointment: { pipelines: [7], noShowStages: [] }, visit: { pipelines: [1], stages: null } },
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.json().version).toBe(1);
    const rev = await get('/api/v1/kpi/revenue?from=2026-01-01&to=2026-02-01');
    expect(rev.json().total.value).toBe(4000);
    const q = await get('/api/v1/settings/quality');
    expect(q.json().quality).toEqual({ visits: 6, withoutPatient: 1, withoutDoctor: 1, withBadRows: 1, converted: 0, withoutDate: 0 });
    // Dated by a user field most deals leave empty: D1 has it, every other visit deal is counted as
    // left out, not dropped silently.
    await store.db.updateTable('b24_deal').set({ uf: JSON.stringify({ UF_CRM_VISIT_AT: '2026-01-10' }) }).where('portal_id', '=', PORTAL).where('id', '=', 1).execute();
    await put('/api/v1/settings', {
      settings: { ...DEFAULT_SETTINGS, appointment: { pipelines: [7], noShowStages: [] }, visit: { pipelines: [1], stages: null }, visitDate: 'UF_CRM_VISIT_AT' },
    });
    const byField = (await get('/api/v1/settings/quality')).json().quality;
    expect([byField.visits, byField.withoutDate]).toEqual([1, 5]);
    // Back to the defaults.
    await put('/api/v1/settings', { settings: { ...DEFAULT_SETTINGS, appointment: { pipelines: [7], noShowStages: [] } } });
    expect((await get('/api/v1/kpi/revenue?from=2026-01-01&to=2026-02-01')).json().total.value).toBe(13000);
  });

  it('plans and MTD/YTD progress with a linear forecast', async () => {
    const saved = await put('/api/v1/plans', {
      plans: [
        { month: '2026-01', scope: 'clinic', scopeId: '', revenue: 26000, visits: 8, newPatients: 4 },
        { month: '2026-02', scope: 'clinic', scopeId: '', revenue: 40000, visits: null, newPatients: null },
        { month: '2026-01', scope: 'doctor', scopeId: '10', revenue: 5000, visits: null, newPatients: null },
      ],
    });
    expect(saved.statusCode).toBe(200);
    const stored = (await get('/api/v1/plans?year=2026')).json().plans;
    expect(stored).toHaveLength(3);
    // A value left empty stays "no plan" (null), never a plan of 0.
    expect(stored.find((x: { month: string; scope: string }) => x.month === '2026-02' && x.scope === 'clinic')).toEqual({
      month: '2026-02',
      scope: 'clinic',
      scopeId: '',
      revenue: 40000,
      visits: null,
      newPatients: null,
    });
    const bad = await put('/api/v1/plans', { plans: [{ month: '2026-13', scope: 'clinic', scopeId: '', revenue: 1, visits: null, newPatients: null }] });
    expect(bad.statusCode).toBe(400);

    // On 2026-01-20: January so far is D1, D2 (Jan 10) and D7 (Jan 20) = 11500 over 20 of 31 days.
    const p = (await get('/api/v1/plans/progress?date=2026-01-20')).json();
    expect(p.mtd.from).toBe('2026-01-01');
    expect(p.mtd.to).toBe('2026-01-21');
    expect(p.mtd.revenue).toEqual({
      fact: 11500,
      plan: 26000,
      pct: 11500 / 26000,
      forecast: (11500 / 20) * 31,
      periodPlan: 26000,
      forecastPct: ((11500 / 20) * 31) / 26000,
    });
    expect(p.mtd.visits.fact).toBe(3);
    expect(p.mtd.visits.plan).toBe(8);
    // YTD: plans of January only so far; the year's plan is January + February.
    expect(p.ytd.revenue.plan).toBe(26000);
    expect(p.ytd.revenue.periodPlan).toBe(66000);
    expect(p.ytd.revenue.forecast).toBeCloseTo((11500 / 20) * 365, 6);
    expect(p.ytd.visits.periodPlan).toBe(8);

    const mine = (await get('/api/v1/plans/progress?date=2026-01-20&scope=doctor&scopeId=10', doctor)).json();
    expect(mine.mtd.revenue.fact).toBe(2500);
    expect(mine.mtd.revenue.plan).toBe(5000);
    expect((await get('/api/v1/plans/progress?date=2026-01-20&scope=doctor&scopeId=11', doctor)).statusCode).toBe(403);
  });

  it('the doctor signal', async () => {
    const r = await get('/api/v1/doctor-signal?from=2026-01-01&to=2026-02-01&days=30');
    expect(r.statusCode).toBe(200);
    const s = r.json();
    // New patients: doctor 10 → 1, doctor 11 → 1, doctor 12 → 0; median 1; nobody is above it.
    expect(s.medianNewPatients).toBe(1);
    expect(s.clinicReturnRate).toBe(0);
    expect(s.rows.map((x: { doctor: { id: string }; flagged: boolean }) => [x.doctor.id, x.flagged])).toEqual([
      ['10', false],
      ['11', false],
      ['12', false],
    ]);
  });

  it('flags a doctor with many new patients who do not come back', async () => {
    // Three more January first visits with doctor 11 (D21–D23, patients 201–203) that never return.
    const now = new Date().toISOString();
    const base = await store.db.selectFrom('b24_deal').selectAll().where('portal_id', '=', PORTAL).where('id', '=', 4).executeTakeFirstOrThrow();
    await store.db
      .insertInto('b24_deal')
      .values([21, 22, 23].map((id, i) => ({ ...base, id, contact_id: 201 + i, closedate: `2026-01-0${5 + i}`, begindate: `2026-01-0${5 + i}`, synced_at: now })))
      .execute();
    await store.db
      .insertInto('sync_run')
      .values({ portal_id: PORTAL, mode: 'incremental', status: 'finished', started_at: now, finished_at: now, requests: 1, entities: '{}', error: null })
      .execute();
    const s = (await get('/api/v1/doctor-signal?from=2026-01-01&to=2026-02-01&days=90')).json();
    // New patients: 10 → 1, 11 → 4, 12 → 0 (median 1). Returned within 90 days: 100 (doctor 10) and
    // 101 (doctor 11): the clinic 2 of 5 = 0.4, doctor 11 1 of 4 = 0.25 < 0.4 − 0.1.
    expect(s.medianNewPatients).toBe(1);
    expect(s.clinicReturnRate).toBe(0.4);
    expect(s.rows.map((x: { doctor: { id: string }; newPatients: number; returnRate: number | null; flagged: boolean }) => [x.doctor.id, x.newPatients, x.returnRate, x.flagged])).toEqual([
      ['11', 4, 0.25, true],
      ['10', 1, 1, false],
      ['12', 0, null, false],
    ]);
  });
});
