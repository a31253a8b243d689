// The BI Builder connector's four endpoints, called by the emulator's BI Builder client (PHP form
// encoding, locale dates, answer validation per reference §6) against the real app, on the hand-built
// clinic of tests/fixtures/clinic-mirror.ts: every expected number is worked out by hand from its
// table, and the dataset sums are checked against the KPI runner (what GET /api/v1/kpi serves).
// Both dialects.
import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { kpiMonthColumns } from '../../src/bi/datasets.js';
import { today } from '../../src/clinic/calendar.js';
import { DEFAULT_SETTINGS, saveSettings } from '../../src/clinic/settings.js';
import { PortalRepo } from '../../src/db/portals.js';
import { SecretBox } from '../../src/db/secrets.js';
import { BiBuilderClient, BiProtocolError, phpBuildQuery, type BiFilterItem } from '../../src/emulator/bi-client.js';
import { clinicServices, registry } from '../../src/kpi/services.js';
import { PORTAL, writeClinicMirror } from '../fixtures/clinic-mirror.js';
import { createTestStore, DIALECTS, type TestStore } from '../fixtures/stores.js';

const SECRET = 'app-secret-for-bi-tests-'.padEnd(40, 'x');
const TOKEN_A = 'token-of-portal-a-0123456789abcdef';
const TOKEN_B = 'token-of-portal-b-fedcba9876543210';
const OTHER = 'kpi-test-b';
const UNSYNCED = 'never-synced';
const JAN = { from: '2026-01-01', to: '2026-02-01' };
const Q1 = { from: '2026-01-01', to: '2026-04-01' };
const JAN_RANGE: BiFilterItem = { dateRange: { field: 'VISIT_DATE', from: '2026-01-01', to: '2026-01-31' } };
const Q1_RANGE: BiFilterItem = { dateRange: { field: 'VISIT_DATE', from: '2026-01-01', to: '2026-03-31' } };

const sum = (rows: unknown[][], i: number) => rows.reduce((s, r) => s + ((r[i] as number | null) ?? 0), 0);

describe.each(DIALECTS)('BI Builder connector on %s', (dialect) => {
  let store: TestStore;
  let app: FastifyInstance;
  let base: string;
  const urls = (portal: string) => ({
    urlCheck: `${base}/bi/check?portal=${portal}`,
    urlTableList: `${base}/bi/tables?portal=${portal}`,
    urlTableDescription: `${base}/bi/describe?portal=${portal}`,
    urlData: `${base}/bi/data?portal=${portal}`,
  });
  /** `null` token: no `connection` at all (PHP omits the empty array). */
  const client = (token: string | null = TOKEN_A, portal = PORTAL, locale: 'ru' | 'en' = 'ru') =>
    new BiBuilderClient(urls(portal), token === null ? {} : { token }, { locale, idleTimeoutMs: 5000 });
  const columnsOf = async (table: string) => (await client().describe(table)).map((c) => ({ code: c.code, type: c.type }));
  const data = async (table: string, select?: string[], filter?: BiFilterItem[], limit = 0, c = client()) =>
    c.data({ table, select, filter, limit, columns: await columnsOf(table), ...(select ? { mapFields: Object.fromEntries(select.map((s) => [s, s])) } : {}) });
  const post = (path: string, body: string, portal = PORTAL) =>
    fetch(`${base}${path}?portal=${portal}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  const kpi = (id: string, period = JAN, params?: Record<string, string>) => clinicServices(store.db).runner.run(PORTAL, id, { period, ...(params ? { params } : {}) });

  beforeAll(async () => {
    store = await createTestStore(dialect);
    const portals = new PortalRepo(store.db, new SecretBox(SECRET));
    for (const p of [PORTAL, OTHER, UNSYNCED]) {
      if (p !== UNSYNCED) await writeClinicMirror(store.db, p);
      await saveSettings(store.db, p, { ...DEFAULT_SETTINGS, appointment: { pipelines: [7], noShowStages: [] } }, null);
      await portals.registerOAuth({
        portalId: p,
        domain: `${p}.bitrix24.ru`,
        clientEndpoint: `https://${p}.bitrix24.ru/rest/`,
        serverEndpoint: 'https://oauth.bitrix.info/rest/',
        scope: ['crm', 'biconnector'],
        userId: 1,
        tokens: { accessToken: 'a', refreshToken: 'r', expiresAt: 2_000_000_000 },
        applicationToken: `app-${p}`,
      });
    }
    app = await buildApp({
      config: { PUBLIC_URL: 'http://127.0.0.1:1', B24_CLIENT_ID: 'local.bi', B24_CLIENT_SECRET: 'x', APP_SECRET: SECRET, ALLOW_INSECURE_PORTALS: true },
      store,
      bi: { batchRows: 3 },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const bi = app.bi.connector.store;
    await bi.save(PORTAL, { status: 'registered', secret: bi.seal(TOKEN_A) });
    await bi.save(OTHER, { status: 'registered', secret: bi.seal(TOKEN_B) });
    await bi.save(UNSYNCED, { status: 'registered', secret: bi.seal(TOKEN_A) });
  });
  afterAll(async () => {
    await app?.close();
    await store?.dispose();
  });

  describe('authentication', () => {
    it('check answers 200 with a non-empty JSON body for the right secret', async () => {
      expect(await client().check()).toEqual({ status: 200, body: '{"status":"ok"}' });
    });

    it('wrong, missing, empty secrets and unknown portals are 401 on every endpoint, nothing served', async () => {
      const cases: [string, BiBuilderClient][] = [
        ['wrong', client('nope')],
        ['missing', client(null)],
        ['empty', client('')],
        ['A on B', client(TOKEN_A, OTHER)],
        ['B on A', client(TOKEN_B, PORTAL)],
        ['unknown portal', client(TOKEN_A, 'no-such-portal')],
      ];
      for (const [what, c] of cases) {
        for (const call of [() => c.check(), () => c.tables(), () => c.describe('clinic_visits'), () => c.data({ table: 'clinic_visits', limit: 20 })]) {
          const e = await call().catch((x: unknown) => x);
          expect([what, e instanceof BiProtocolError ? e.status : e]).toEqual([what, 401]);
          expect((e as BiProtocolError).body).not.toMatch(/VISIT|DEAL/);
        }
      }
      // Without a portal in the URL the route refuses the request before anything else.
      const res = await fetch(`${base}/bi/check`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `connection%5Btoken%5D=${TOKEN_A}` });
      expect(res.status).toBe(400);
    });

    it("portal B's secret serves B's data on B's URL, not A's", async () => {
      const b = await data('clinic_visits', ['DEAL_ID'], undefined, 0, client(TOKEN_B, OTHER));
      expect(b.rows).toHaveLength(10);
    });

    it('a portal whose first sync has not finished: connection and tables work, data is a 503 (never an empty table)', async () => {
      expect(await client(TOKEN_A, UNSYNCED).check()).toMatchObject({ status: 200 });
      expect((await client(TOKEN_A, UNSYNCED).tables()).length).toBe(7);
      const e = (await client(TOKEN_A, UNSYNCED).data({ table: 'clinic_visits', limit: 20 }).catch((x: unknown) => x)) as BiProtocolError;
      expect([e.status, JSON.parse(e.body!).error]).toEqual([503, 'not_synced']);
    });

    it('an uninstalled portal is refused', async () => {
      await store.db.updateTable('portal').set({ status: 'uninstalled' }).where('portal_id', '=', OTHER).execute();
      expect(((await client(TOKEN_B, OTHER).check().catch((e: unknown) => e)) as BiProtocolError).status).toBe(401);
      await store.db.updateTable('portal').set({ status: 'active' }).where('portal_id', '=', OTHER).execute();
    });
  });

  describe('tables and descriptions', () => {
    const ALL = ['clinic_visits', 'clinic_service_lines', 'clinic_patients', 'clinic_doctors', 'clinic_directions', 'clinic_kpi_month', 'clinic_return_cohort'];

    it('searchString absent, empty and set', async () => {
      expect((await client().tables()).map((t) => t.code)).toEqual(ALL);
      expect((await client().tables('')).map((t) => t.code)).toEqual(ALL);
      expect((await client().tables('kpi')).map((t) => t.code)).toEqual(['clinic_kpi_month']);
      expect((await client().tables('Пациенты')).map((t) => t.code)).toEqual(['clinic_patients']);
      expect(await client().tables('nothing-like-this')).toEqual([]);
    });

    it('every table has a non-empty description in the five types, with the fields the issue names', async () => {
      const types = new Set<string>();
      for (const t of ALL) for (const c of await client().describe(t)) types.add(c.type);
      expect([...types].sort()).toEqual(['date', 'double', 'int', 'string']);
      const codes = async (t: string) => (await client().describe(t)).map((c) => c.code);
      expect(await codes('clinic_visits')).toEqual(expect.arrayContaining(['VISIT_ID', 'VISIT_DATE', 'CONTACT_ID', 'ASSIGNED_BY_ID', 'DOCTOR_NAME', 'DIRECTION_ID', 'DIRECTION_NAME', 'REVENUE', 'IS_FIRST_VISIT', 'VISIT_NUMBER', 'CATEGORY_ID', 'STAGE_ID']));
      expect(await codes('clinic_service_lines')).toEqual(expect.arrayContaining(['ROW_ID', 'DEAL_ID', 'VISIT_DATE', 'PRODUCT_ID', 'SERVICE_NAME', 'SECTION', 'DIRECTION_ID', 'QUANTITY', 'PRICE', 'REVENUE', 'ASSIGNED_BY_ID']));
      expect(await codes('clinic_patients')).toEqual(expect.arrayContaining(['CONTACT_ID', 'FIRST_VISIT_DATE', 'FIRST_DOCTOR_ID', 'FIRST_DIRECTION_ID', 'VISITS', 'LIFETIME_REVENUE', 'LAST_VISIT_DATE']));
      expect((await codes('clinic_kpi_month')).slice(0, 3)).toEqual(['MONTH', 'DOCTOR_ID', 'DIRECTION_ID']);
    });

    it('an unknown or missing table is a 400 naming it', async () => {
      const e = (await client().describe('crm_deal').catch((x: unknown) => x)) as BiProtocolError;
      expect(e.status).toBe(400);
      expect(JSON.parse(e.body!)).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/unknown table "crm_deal"/) });
      const res = await post('/bi/describe', phpBuildQuery({ connection: { token: TOKEN_A } }));
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/table: missing/) });
    });
  });

  describe('data', () => {
    it('preview (limit=20, no select/filter/mapFields): every column of every table, typed', async () => {
      for (const t of (await client().tables()).map((x) => x.code)) {
        const cols = await columnsOf(t);
        const r = await client().data({ table: t, limit: 20, columns: cols });
        expect(r.header).toEqual(cols.map((c) => c.code));
        expect(r.rows.length).toBeGreaterThan(0);
        expect(r.rows.length).toBeLessThanOrEqual(20);
      }
    });

    it('clinic_visits: the visits, typed, in select order; limit honoured, limit=0 is every row', async () => {
      const r = await data('clinic_visits', ['VISIT_DATE', 'DEAL_ID', 'REVENUE', 'ASSIGNED_BY_ID', 'DOCTOR_NAME', 'IS_FIRST_VISIT', 'CONTACT_ID']);
      expect(r.header).toEqual(['VISIT_DATE', 'DEAL_ID', 'REVENUE', 'ASSIGNED_BY_ID', 'DOCTOR_NAME', 'IS_FIRST_VISIT', 'CONTACT_ID']);
      expect(r.rows).toEqual([
        ['2026-01-10', 1, 2000, 10, 'Иванов Иван', 1, 100],
        ['2026-01-10', 2, 500, 10, 'Иванов Иван', 0, 100],
        ['2026-02-15', 3, 30000, 11, 'Петрова Анна', 0, 100],
        ['2026-01-31', 4, 1500, 11, 'Петрова Анна', 1, 101],
        ['2026-03-05', 5, 1000, 11, 'Петрова Анна', 0, 101],
        ['2025-12-20', 6, 30000, 12, 'Сидоров Олег', 1, 102],
        ['2026-01-20', 7, 9000, 12, 'Сидоров Олег', 0, 102],
        ['2026-02-01', 8, 500, 10, 'Иванов Иван', 0, null],
        ['2026-02-20', 11, 1000, null, null, 1, 103],
        ['2026-03-31', 12, 4500, 11, 'Петрова Анна', 0, 103],
      ]);
      expect((await data('clinic_visits', ['DEAL_ID'], undefined, 2)).rows).toEqual([[1], [2]]);
      // Keyset pages of 3 rows: limit 7 ends inside the third page.
      expect((await data('clinic_visits', ['DEAL_ID'], undefined, 7)).rows.flat()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    });

    it('a date range in the portal format equals the KPI API for January and the quarter', async () => {
      for (const [range, period, revenue, visits] of [[JAN_RANGE, JAN, 13000, 4], [Q1_RANGE, Q1, 50000, 9]] as const) {
        const r = await data('clinic_visits', ['VISIT_ID', 'REVENUE', 'IS_FIRST_VISIT'], [range]);
        expect([sum(r.rows, 1), r.rows.length, sum(r.rows, 2)]).toEqual([revenue, visits, (await kpi('new_patients', period)).total.value]);
        expect(sum(r.rows, 1)).toBe((await kpi('revenue', period)).total.value);
        expect(r.rows.length).toBe((await kpi('visits', period)).total.value);
      }
      // The same range as the English culture renders it (MM/DD/YYYY hh:mi:ss am/pm).
      const en = await data('clinic_visits', ['VISIT_ID'], [JAN_RANGE], 0, client(TOKEN_A, PORTAL, 'en'));
      expect(en.rows.flat()).toEqual([1, 2, 4, 7]);
    });

    it('dates: a time of day on a date field, ISO literals, a day range with no visits (header only)', async () => {
      const at = (k: string, v: string) => phpBuildQuery({ select: ['DEAL_ID'], filter: { [k]: v }, limit: 0, connection: { token: TOKEN_A }, table: 'clinic_visits' });
      const ids = async (body: string) => ((await (await post('/bi/data', body)).json()) as number[][]).slice(1).flat();
      // D4 is on 31 January: after 10:00 that day it no longer qualifies, up to 23:59:59 it does.
      expect(await ids(at('>=VISIT_DATE', '31.01.2026 10:00:00'))).toEqual([3, 5, 8, 11, 12]);
      expect(await ids(at('>=VISIT_DATE', '31.01.2026 00:00:00'))).toEqual([3, 4, 5, 8, 11, 12]);
      expect(await ids(at('<VISIT_DATE', '2026-01-10 00:00:01'))).toEqual([1, 2, 6]);
      expect(await ids(at('<VISIT_DATE', '2026-01-10'))).toEqual([6]);
      expect(await ids(at('=VISIT_DATE', '2026-01-10T00:00:00'))).toEqual([1, 2]);
      expect(await ids(at('>VISIT_DATE', '03/05/2026 11:30:00 pm'))).toEqual([12]);
      const none = await data('clinic_visits', ['DEAL_ID', 'REVENUE'], [{ dateRange: { field: 'VISIT_DATE', from: '2030-01-01', to: '9999-12-31' } }]);
      expect(none.raw).toBe('[["DEAL_ID","REVENUE"]]');
    });

    it('OR groups, negations, contains, between, IN, IS_NULL', async () => {
      const q = async (filter: BiFilterItem[], select = ['DEAL_ID', 'REVENUE']) => data('clinic_visits', select, filter);
      // Doctors 10 or 12 in Q1: D1 2000 + D2 500 + D8 500 (10), D7 9000 (12).
      const or = await q([Q1_RANGE, { or: [{ field: 'ASSIGNED_BY_ID', op: '=', value: 10 }, { field: 'ASSIGNED_BY_ID', op: '=', value: 12 }] }]);
      expect([or.rows.map((r) => r[0]), sum(or.rows, 1)]).toEqual([[1, 2, 7, 8], 12000]);
      // Not doctor 11 in Q1: the visit without a doctor (D11) stays.
      const not = await q([Q1_RANGE, { field: 'ASSIGNED_BY_ID', op: '=', value: 11, negate: true }]);
      expect([not.rows.map((r) => r[0]), sum(not.rows, 1)]).toEqual([[1, 2, 7, 8, 11], 13000]);
      const contains = await q([{ field: 'DOCTOR_NAME', op: '%', value: 'Петров' }]);
      expect(contains.rows.map((r) => r[0])).toEqual([3, 4, 5, 12]);
      const notContains = await q([{ field: 'DOCTOR_NAME', op: '%', value: 'Петров', negate: true }]);
      expect(notContains.rows.map((r) => r[0])).toEqual([1, 2, 6, 7, 8, 11]);
      const between = await q([{ field: 'REVENUE', op: '><', value: [1000, 9000] }]);
      expect(between.rows.map((r) => r[0])).toEqual([1, 4, 5, 7, 11, 12]);
      const notBetween = await q([{ field: 'REVENUE', op: '><', value: [1000, 9000], negate: true }]);
      expect(notBetween.rows.map((r) => r[0])).toEqual([2, 3, 6, 8]);
      const inList = await q([{ field: 'DEAL_ID', op: '=', value: [1, 3, 5, 99] }]);
      expect(inList.rows.map((r) => r[0])).toEqual([1, 3, 5]);
      const isNull = await q([{ field: 'ASSIGNED_BY_ID', op: 'isNull' }]);
      expect(isNull.rows.map((r) => r[0])).toEqual([11]);
      const notNull = await q([{ field: 'CONTACT_ID', op: 'isNull', negate: true }]);
      expect(notNull.rows.map((r) => r[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 11, 12]);
      const cmp = await q([{ field: 'REVENUE', op: '>', value: 1500 }, { field: 'REVENUE', op: '<=', value: 9000 }]);
      expect(cmp.rows.map((r) => r[0])).toEqual([1, 7, 12]);
      // Nested: (doctor 12) OR (doctor 10 AND revenue ≥ 1000), written as PHP nests it.
      const nested = phpBuildQuery({
        select: ['DEAL_ID'],
        filter: new Map<string | number, unknown>([
          [0, new Map<string | number, unknown>([['LOGIC', 'OR'], [0, { '=ASSIGNED_BY_ID': '12' }], [1, { '=ASSIGNED_BY_ID': '10', '>=REVENUE': '1000' }]])],
        ]) as never,
        limit: 0,
        connection: { token: TOKEN_A },
        table: 'clinic_visits',
      });
      expect(await (await post('/bi/data', nested)).json()).toEqual([['DEAL_ID'], [1], [6], [7]]);
    });

    it('unknown fields, bad operators and malformed values are 400 with the reason', async () => {
      const bodyWith = (extra: Record<string, unknown>) => phpBuildQuery({ limit: 0, connection: { token: TOKEN_A }, table: 'clinic_visits', ...extra });
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ filter: { '>=NO_SUCH': '1' } }, /unknown field "NO_SUCH"/],
        [{ filter: { '>=VISIT_DATE': '31.02.2026' } }, /"31\.02\.2026" is not a date/],
        [{ filter: { '>=VISIT_DATE': 'yesterday' } }, /is not a date/],
        [{ filter: { '=DEAL_ID': '1 OR 1=1' } }, /"1 OR 1=1" is not an integer/],
        [{ filter: { '>REVENUE': '1e' } }, /is not a number/],
        [{ filter: { '~DEAL_ID': '1' } }, /is not \[!\]<operator><FIELD>/],
        [{ filter: { '><REVENUE': '5' } }, /takes \[from, to\]/],
        [{ filter: { 0: { LOGIC: 'XOR', 0: { '=DEAL_ID': '1' } } } }, /LOGIC\] must be AND or OR/],
        [{ select: ['DEAL_ID', 'PASSWORD'] }, /select\[1\]: unknown field "PASSWORD"/],
        [{ select: 'DEAL_ID' }, /select must be an array/],
        [{ limit: '-1' }, /limit must be a non-negative integer/],
      ];
      for (const [extra, reason] of cases) {
        const res = await post('/bi/data', bodyWith(extra));
        const body = (await res.json()) as { error: string; message: string };
        expect([JSON.stringify(extra), res.status, body.error]).toEqual([JSON.stringify(extra), 400, 'invalid_request']);
        expect(body.message).toMatch(reason);
      }
      const malformed = await post('/bi/data', `connection%5Btoken%5D=${TOKEN_A}&table=clinic_visits&filter%5B%3DDEAL_ID%5D=%E0%A4%A`);
      expect(malformed.status).toBe(400);
    });

    it('injection attempts in keys and values are refused or bound, never executed', async () => {
      const attempts: Record<string, unknown>[] = [
        { filter: { '=DEAL_ID) OR (1=1': '1' } },
        { filter: { '>=VISIT_DATE; DROP TABLE clinic_visit; --': '01.01.2026' } },
        { select: ['DEAL_ID, (SELECT secret FROM bi_connector) AS X'] },
        { filter: { '=DEAL_ID': "1'; DELETE FROM clinic_visit; --" } },
        { table: 'clinic_visits f; DROP TABLE clinic_visit; --' },
      ];
      for (const a of attempts) {
        const res = await post('/bi/data', phpBuildQuery({ limit: 0, connection: { token: TOKEN_A }, table: 'clinic_visits', ...a }));
        expect([JSON.stringify(a), res.status]).toEqual([JSON.stringify(a), 400]);
      }
      // A string value is data: it matches nothing and changes nothing.
      for (const v of ["x' OR '1'='1", "C1:WON'; DELETE FROM clinic_visit; --", '%', '_']) {
        const r = await data('clinic_visits', ['DEAL_ID'], [{ field: 'STAGE_ID', op: '=', value: v }]);
        expect([v, r.rows]).toEqual([v, []]);
        const c = await data('clinic_visits', ['DEAL_ID'], [{ field: 'STAGE_ID', op: '%', value: v }]);
        expect([v, c.rows]).toEqual([v, []]);
      }
      const left = await store.db.selectFrom('clinic_visit').select((eb) => eb.fn.countAll<number>().as('n')).where('portal_id', '=', PORTAL).executeTakeFirstOrThrow();
      expect(Number(left.n)).toBe(10);
    });

    it('clinic_service_lines: sums equal the KPI API (service revenue, quantity) for January', async () => {
      const r = await data('clinic_service_lines', ['ROW_ID', 'DEAL_ID', 'PRODUCT_ID', 'SERVICE_NAME', 'SECTION', 'QUANTITY', 'PRICE', 'REVENUE'], [JAN_RANGE]);
      expect(sum(r.rows, 7)).toBe((await kpi('service_revenue')).total.value);
      expect(sum(r.rows, 5)).toBe((await kpi('quantity')).total.value);
      // January's rows: D1 P1 1000 × 2, D2 P2 500 × 1, D7 the USD row at 9000.
      expect(r.rows.map((x) => [x[1], x[5], x[6], x[7]])).toEqual([
        [1, 2, 1000, 2000],
        [2, 1, 500, 500],
        [7, 1, 9000, 9000],
      ]);
      // SECTION is the catalog section's name (P1, P2 in 501 Терапия, P3 in 502 Ортопедия), and filters by it.
      expect(r.rows.map((x) => [x[2], x[4]])).toEqual([
        [1, 'Терапия'],
        [2, 'Терапия'],
        [3, 'Ортопедия'],
      ]);
      const ortho = await data('clinic_service_lines', ['DEAL_ID', 'SECTION'], [{ field: 'SECTION', op: '=', value: 'Ортопедия' }]);
      expect(ortho.rows).toEqual([
        [3, 'Ортопедия'],
        [6, 'Ортопедия'],
        [7, 'Ортопедия'],
      ]);
    });

    it('clinic_patients: LTV of January\'s new patients equals the KPI API', async () => {
      const r = await data('clinic_patients', ['CONTACT_ID', 'LIFETIME_REVENUE', 'VISITS', 'FIRST_DOCTOR_ID'], [{ dateRange: { field: 'FIRST_VISIT_DATE', from: '2026-01-01', to: '2026-01-31' } }]);
      // 100: 2000 + 500 + 30000; 101: 1500 + 1000.
      expect(r.rows).toEqual([
        [100, 32500, 3, 10],
        [101, 2500, 2, 11],
      ]);
      expect(sum(r.rows, 1) / r.rows.length).toBe((await kpi('ltv')).total.value);
    });

    it('clinic_doctors and clinic_directions name what the visits use', async () => {
      expect((await data('clinic_doctors', ['DOCTOR_ID', 'DOCTOR_NAME', 'VISITS'])).rows).toEqual([
        [10, 'Иванов Иван', 3],
        [11, 'Петрова Анна', 4],
        [12, 'Сидоров Олег', 2],
      ]);
      expect((await data('clinic_directions', ['DIRECTION_ID', 'DIRECTION_NAME', 'VISITS'])).rows).toEqual([
        [1, 'Терапия', 6],
        [2, 'Ортопедия', 4],
      ]);
    });

    it('clinic_kpi_month: columns come from the registry, and its sums over a period equal every KPI of the API', async () => {
      const cols = kpiMonthColumns(registry);
      const codes = cols.map((c) => c.code);
      expect(codes).toEqual(expect.arrayContaining(['REVENUE', 'VISITS', 'NEW_PATIENTS', 'QUANTITY', 'SERVICE_REVENUE', 'UNIQUE_PATIENTS', 'REPEAT_PATIENTS', 'LTV_COHORT', 'LTV_TOTAL', 'RETURN_RATE_180_CLINIC_RETURNED', 'RETURN_RATE_180_CLINIC_COHORT', 'RETURN_RATE_30_DOCTOR_RETURNED']));
      expect(new Set(codes).size).toBe(codes.length);
      const r = await data('clinic_kpi_month', undefined, [{ dateRange: { field: 'MONTH', from: '2026-01-01', to: '2026-03-31' } }]);
      const at = (code: string) => r.header.indexOf(code);
      const localToday = today(DEFAULT_SETTINGS.timeZone);
      const total = async (id: string, params?: Record<string, string>) =>
        (await clinicServices(store.db).runner.run(PORTAL, id, { period: Q1, today: localToday, ...(params ? { params } : {}) })).total;
      // Hand-checked: Q1 revenue 50 000, 9 visits, 3 new patients; LTV of the quarter's cohort.
      expect([sum(r.rows, at('REVENUE')), sum(r.rows, at('VISITS')), sum(r.rows, at('NEW_PATIENTS'))]).toEqual([50000, 9, 3]);
      // Every summable column against the runner: additive values, and the parts of every ratio.
      for (const c of cols.filter((x) => !x.perRow)) {
        const t = await total(c.kpi, c.params);
        const want = c.column === 'value' ? (c.times ? (t.value as number) * (t.detail?.[c.times] as number) : t.value) : (t.detail?.[c.column.replace(/_minor$/, '').replace(/_([a-z])/g, (_, x: string) => x.toUpperCase())] as number);
        expect([c.code, sum(r.rows, at(c.code))]).toEqual([c.code, expect.closeTo(want ?? 0, 6)]);
      }
      // Ratios from summed parts: average check, LTV.
      expect(sum(r.rows, at('REVENUE')) / sum(r.rows, at('VISITS'))).toBeCloseTo((await total('avg_check')).value!, 9);
      expect(sum(r.rows, at('LTV_TOTAL')) / sum(r.rows, at('LTV_COHORT'))).toBeCloseTo((await total('ltv')).value!, 9);
      // January alone, by month row: 13 000 and 4 visits (the KPI test's numbers).
      const jan = r.rows.filter((x) => x[0] === '2026-01-01');
      expect([sum(jan, at('REVENUE')), sum(jan, at('VISITS'))]).toEqual([13000, 4]);
    });

    it('clinic_kpi_month computed only for the months a MONTH filter keeps gives the same rows as over all history', async () => {
      const all = await data('clinic_kpi_month');
      const inRange = (m: unknown) => typeof m === 'string' && m >= '2026-02-01' && m <= '2026-03-01';
      const want = all.rows.filter((x) => inRange(x[0]));
      // By hand from the fixture: February D3 30 000, D8 500, D11 1 000; March D5 1 000, D12 4 500.
      const at = (code: string) => all.header.indexOf(code);
      expect([sum(want, at('REVENUE')), sum(want, at('VISITS'))]).toEqual([37000, 5]);
      // The same range as a locale date range, as `><`, and with a time inside the last day.
      for (const filter of [
        [{ dateRange: { field: 'MONTH', from: '2026-02-01', to: '2026-03-31' } }],
        [{ field: 'MONTH', op: '><', value: ['01.02.2026', '31.03.2026'] }],
        [{ field: 'MONTH', op: '>=', value: '2026-02-01' }, { field: 'MONTH', op: '<', value: '01.04.2026 00:00:00' }],
      ] as BiFilterItem[][]) {
        const got = await data('clinic_kpi_month', undefined, filter);
        expect(got.header).toEqual(all.header);
        expect([JSON.stringify(filter), got.rows]).toEqual([JSON.stringify(filter), want]);
      }
      // An OR across months cannot narrow: both months, nothing lost.
      const either = await data('clinic_kpi_month', undefined, [
        { or: [{ field: 'MONTH', op: '=', value: '2026-01-01' }, { field: 'MONTH', op: '=', value: '2026-03-01' }] },
      ] as BiFilterItem[]);
      expect(either.rows).toEqual(all.rows.filter((x) => x[0] === '2026-01-01' || x[0] === '2026-03-01'));
    });

    it('clinic_return_cohort: cohort sizes and month cells equal the KPI API', async () => {
      const r = await data('clinic_return_cohort', ['COHORT_MONTH', 'MONTHS_SINCE', 'COHORT_SIZE', 'PATIENTS'], [{ dateRange: { field: 'COHORT_MONTH', from: '2026-01-01', to: '2026-03-31' } }]);
      const api = await kpi('return_cohort', Q1);
      const cells = new Map<string, number>();
      for (const [m, k, , p] of r.rows as [string, number, number, number][]) cells.set(`${m}/${k}`, (cells.get(`${m}/${k}`) ?? 0) + p);
      for (const row of api.rows) {
        const size = row.detail?.size as number;
        expect([row.period, cells.get(`${row.period}/0`)]).toEqual([row.period, size]);
      }
      // January's cohort: 100 and 101 (2 patients); in month 1 (February) 100 came back, in month 2 101.
      expect([cells.get('2026-01-01/0'), cells.get('2026-01-01/1'), cells.get('2026-01-01/2')]).toEqual([2, 1, 1]);
    });
  });

  describe('streaming', () => {
    const EXTRA = 150_000;
    let big: FastifyInstance;
    let bigBase: string;
    let existing: number;
    beforeAll(async () => {
      // Many service lines at once, straight into the fact table (a refresh only follows a new sync,
      // and none comes): far more bytes than the sockets between client and server can hold.
      await clinicServices(store.db).facts.ensureFresh(PORTAL);
      existing = Number((await store.db.selectFrom('clinic_service_line').select((eb) => eb.fn.countAll<number>().as('n')).where('portal_id', '=', PORTAL).executeTakeFirstOrThrow()).n);
      const series =
        dialect === 'postgres'
          ? sql`SELECT g AS n FROM generate_series(1, ${EXTRA}) g`
          : sql`WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${EXTRA}) SELECT n FROM s`;
      await sql`INSERT INTO clinic_service_line (portal_id, row_id, deal_id, patient_id, doctor_id, direction_id, visit_date, visit_week, visit_month, service_id, service_name, section_id, quantity, price_minor, revenue_minor)
        SELECT ${PORTAL}, 1000000 + n, 1, 100, '10', '1', '2025-06-01', '2025-05-26', '2025-06-01', 'name:Bulk', 'Bulk "service" \\ line, a long name to make the rows wide', NULL, 1, 12345, 12345 FROM (${series}) x`.execute(store.db);
      // PostgreSQL plans the keyset pages from statistics; autovacuum gathers them after a fact build,
      // a test that reads right after a bulk insert has to ask for them.
      if (dialect === 'postgres') await sql`ANALYZE clinic_service_line`.execute(store.db);
      big = await buildApp({
        config: { PUBLIC_URL: 'http://127.0.0.1:1', B24_CLIENT_ID: 'local.bi', B24_CLIENT_SECRET: 'x', APP_SECRET: SECRET, ALLOW_INSECURE_PORTALS: true },
        store,
        bi: { batchRows: 500 },
      });
      await big.listen({ port: 0, host: '127.0.0.1' });
      bigBase = `http://127.0.0.1:${(big.server.address() as { port: number }).port}`;
    });
    afterAll(async () => big?.close());

    const open = (body: string, onResponse: (res: http.IncomingMessage, req: http.ClientRequest) => void) => {
      const req = http.request(`${bigBase}/bi/data?portal=${PORTAL}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => onResponse(res, req));
      req.end(body);
      return req;
    };

    it('limit=0 returns every row, as valid JSON, the first byte early', async () => {
      const t0 = performance.now();
      let first = 0;
      const text = await new Promise<string>((resolve, reject) => {
        open(phpBuildQuery({ select: ['ROW_ID', 'SERVICE_NAME', 'REVENUE'], limit: 0, connection: { token: TOKEN_A }, table: 'clinic_service_lines' }), (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            if (!first) first = performance.now() - t0;
            chunks.push(c);
          });
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        }).on('error', reject);
      });
      const parsed = JSON.parse(text) as unknown[][];
      expect(parsed.length).toBe(1 + existing + EXTRA);
      // In key order within and across pages (each page's rows are joined by the store).
      expect(parsed.slice(2).findIndex((r, i) => (r[0] as number) <= (parsed[i + 1]![0] as number))).toBe(-1);
      expect(parsed[parsed.length - 1]).toEqual([1_000_000 + EXTRA, 'Bulk "service" \\ line, a long name to make the rows wide', 123.45]);
      expect(first).toBeLessThan(1000);
    });

    it('a client that goes away mid-stream stops the reading of the store', async () => {
      const stats = big.bi.connector.stats;
      const before = stats.pages;
      await new Promise<void>((resolve, reject) => {
        const req = open(phpBuildQuery({ limit: 0, connection: { token: TOKEN_A }, table: 'clinic_service_lines' }), (res, r) => {
          res.once('data', () => {
            res.pause();
            // Let the server fill the sockets, then go away.
            setTimeout(() => {
              r.destroy();
              resolve();
            }, 200);
          });
        });
        req.on('error', () => undefined);
        setTimeout(() => reject(new Error('no data')), 10_000);
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(stats.open).toBe(0);
      // 300 pages of 500 rows in the table; only what filled the sockets was read.
      expect(stats.pages - before).toBeLessThan(EXTRA / 500 / 2);
      expect(stats.pages - before).toBeGreaterThan(0);
      // The server still answers.
      expect(await client().check()).toMatchObject({ status: 200 });
    });
  });

  describe('values as the store writes them', () => {
    beforeAll(async () => {
      // Past every other row (the streaming rows end at 1 150 000), read by a ROW_ID filter.
      await store.db.insertInto('b24_product_section').values({ portal_id: PORTAL, id: 503, name: 'Хирургия "A/B"', parent_id: null, catalog_id: 25, problems: null, synced_at: '2026-04-01T00:00:00Z' }).execute();
      await sql`INSERT INTO clinic_service_line (portal_id, row_id, deal_id, patient_id, doctor_id, direction_id, visit_date, visit_week, visit_month, service_id, service_name, section_id, quantity, price_minor, revenue_minor) VALUES
        (${PORTAL}, 3000001, ${sql.raw('9007199254740993')}, NULL, '10', NULL, '2026-02-28', '2026-02-23', '2026-02-01', '42', ${'Имплант "Nobel" \\ 1\t2\n3\u0001 😀'}, 503, 1.5, -12345, -5),
        (${PORTAL}, 3000002, 2, 100, NULL, '1', '2026-03-01 09:30:00', '2026-02-23', '2026-03-01', 'name:Консультация', NULL, 999, 2, 100000, 0)`.execute(store.db);
    });

    it('clinic_service_lines: huge ids exact, negative money, escaped names, dates cut to the day, nulls', async () => {
      const res = await post('/bi/data', phpBuildQuery({ filter: { '>=ROW_ID': '3000001' }, limit: 0, connection: { token: TOKEN_A }, table: 'clinic_service_lines' }));
      expect(res.status).toBe(200);
      // Every column in the dataset's order. DEAL_ID 2^53 + 1 stays exact (a JS number would not);
      // PRICE −12345 kopecks = −123.45, REVENUE −5 = −0.05; QUANTITY 2 and PRICE 1000 without a fraction;
      // service_id `name:…` has no PRODUCT_ID; section 999 does not exist (null); the time of a date is cut.
      expect(await res.text()).toBe(
        '[["ROW_ID","DEAL_ID","VISIT_DATE","PRODUCT_ID","SERVICE_NAME","SECTION","DIRECTION_ID","QUANTITY","PRICE","REVENUE","ASSIGNED_BY_ID","CONTACT_ID"],' +
          '[3000001,9007199254740993,"2026-02-28",42,"Имплант \\"Nobel\\" \\\\ 1\\t2\\n3\\u0001 😀","Хирургия \\"A/B\\"",null,1.5,-123.45,-0.05,10,null],' +
          '[3000002,2,"2026-03-01",null,null,null,1,2,1000,0,null,100]]',
      );
    });
  });
});
