// Tenant isolation, generic over every authenticated route: the routes are enumerated from the app
// itself (app.apiRoutes, filled by an onRoute hook), and requests are built from each route's
// schema, so routes added later are covered without editing this file. Two portals install the app;
// with portal A's token no route may answer with B's data (A's answers stay identical while B's data
// changes, and never contain B's identifiers), no route may change B's rows, and a token signed for
// A that names B's member_id is refused everywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiRoute } from '../../src/http/api/index.js';
import { DEFAULT_AS_OF } from '../../src/emulator/generator/index.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { sessionKey, signWithKey } from '../../src/portal-app/session.js';
import { portalTables } from '../../src/portal-app/store.js';
import { DIALECTS } from '../fixtures/stores.js';
import { HARNESS_APP_SECRET, installByEvent, openSession, startApp, startPortal, type AppHarness } from '../fixtures/app-harness.js';

const MARKER = 'Zzyzx-PortalB-Marker';
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Dates covering the generated clinic's history (the year before DEFAULT_AS_OF). */
const DATES: Record<string, string> = { from: `${Number(DEFAULT_AS_OF.slice(0, 4)) - 1}${DEFAULT_AS_OF.slice(4)}`, to: DEFAULT_AS_OF };

function stringFor(s: { pattern?: string; minLength?: number; maxLength?: number }, key: string): string {
  const candidates = [DATES[key] ?? DATES.from!, '1', 'x', 'revenue', 'full', 'doctor'];
  const ok = (c: string) =>
    (!s.pattern || new RegExp(s.pattern).test(c)) && c.length >= (s.minLength ?? 0) && c.length <= (s.maxLength ?? Infinity);
  return candidates.find(ok) ?? 'x';
}

/** A value a route's schema accepts: examples and defaults first, then the simplest valid value
 *  (required object fields only, the first union member). */
function sample(schema: unknown, key = ''): unknown {
  const s = schema as Record<string, any> | undefined;
  if (!s) return undefined;
  if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
  if (s.default !== undefined) return s.default;
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.anyOf)) return sample(s.anyOf[0], key);
  if (Array.isArray(s.enum)) return s.enum[0];
  switch (s.type) {
    case 'object':
      return Object.fromEntries(((s.required ?? []) as string[]).map((k) => [k, sample(s.properties?.[k], k)]));
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'string':
      return stringFor(s, key);
    default:
      return undefined;
  }
}

/** A request for a route built from its schema: params, required query fields, a body. */
function requestOf(h: AppHarness, r: ApiRoute): { url: string; init: RequestInit } {
  const s = (r.schema ?? {}) as { params?: unknown; querystring?: unknown; body?: unknown };
  const params = (sample(s.params) ?? {}) as Record<string, unknown>;
  const path = r.url.replace(/:([A-Za-z0-9_]+)/g, (_m, k: string) => encodeURIComponent(String(params[k] ?? 'x')));
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries((sample(s.querystring) ?? {}) as Record<string, unknown>)) query.set(k, String(v));
  const body = MUTATING.has(r.method) ? JSON.stringify(sample(s.body) ?? {}) : undefined;
  return {
    url: `${h.url}${path}${query.size ? `?${query}` : ''}`,
    init: { method: r.method, ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}) },
  };
}

/** Calls a route; an event stream is read up to its first event. */
async function call(h: AppHarness, r: ApiRoute, token: string): Promise<{ status: number; text: string }> {
  const { url, init } = requestOf(h, r);
  const ac = new AbortController();
  const res = await fetch(url, { ...init, headers: { ...(init.headers as object), authorization: `Bearer ${token}` }, signal: ac.signal });
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) return { status: res.status, text: await res.text() };
  const reader = res.body!.getReader();
  let text = '';
  while (!/event: \w+\ndata: .*\n\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  ac.abort();
  return { status: res.status, text: /event: \w+\ndata: .*\n\n/.exec(text)?.[0] ?? text };
}

async function snapshot(h: AppHarness, portalId: string): Promise<string> {
  const db = h.store.db as any;
  const out: Record<string, unknown[]> = {};
  for (const t of await portalTables(h.store.db)) {
    const rows = await db.selectFrom(t).selectAll().where('portal_id', '=', portalId).execute();
    out[t] = rows.map((r: unknown) => JSON.stringify(r)).sort();
  }
  return JSON.stringify(out);
}

describe.each(DIALECTS)('tenant isolation on %s', (dialect) => {
  let h: AppHarness;
  let a: RunningEmulator;
  let b: RunningEmulator;
  let tokenA: string;
  let tokenB: string;
  let routes: ApiRoute[];

  beforeAll(async () => {
    [h, a, b] = await Promise.all([startApp(dialect), startPortal(41), startPortal(42)]);
    b.emulator.portal.data.table('user').insert({ ID: 900, ACTIVE: true, NAME: MARKER, LAST_NAME: MARKER, IS_ADMIN: false, UF_DEPARTMENT: [] });
    await installByEvent(h, a);
    await installByEvent(h, b);
    await h.app.services.settle();
    // Both portals hold synced data, so the data routes answer with numbers, not "not synced".
    const runs = await h.store.db.selectFrom('sync_run').select(['portal_id', 'status', 'error']).execute();
    expect(runs.map((r) => [r.status, r.error])).toEqual([
      ['finished', null],
      ['finished', null],
    ]);
    tokenA = (await openSession(h, a, 1)).body.token;
    tokenB = (await openSession(h, b, 1)).body.token;
    routes = h.app.apiRoutes;
  });
  afterAll(async () => {
    await h?.close();
    await Promise.all([a?.close(), b?.close()]);
  });

  it('enumerates the authenticated routes', () => {
    const names = routes.map((r) => `${r.method} ${r.url}`);
    expect(names).toEqual(expect.arrayContaining(['POST /api/v1/sync', 'GET /api/v1/sync/status', 'GET /api/v1/sync/stream']));
  });

  it('every authenticated route declares a TypeBox schema', () => {
    expect(routes.filter((r) => !r.schema).map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });

  it("no route answers portal A's token with portal B's data or changes B's rows", async () => {
    const reads = routes.filter((r) => !MUTATING.has(r.method));
    const before: Record<string, string> = {};
    const bBefore: Record<string, string> = {};
    for (const r of reads) {
      const res = await call(h, r, tokenA);
      expect(res.status, `${r.method} ${r.url}: ${res.text}`).toBeLessThan(500);
      before[`${r.method} ${r.url}`] = res.text;
      bBefore[`${r.method} ${r.url}`] = (await call(h, r, tokenB)).text;
    }

    // B's data changes: new and edited deals, a new run.
    const deal = [...b.emulator.portal.data.tables.deal.all()][0]!;
    b.emulator.crm.update('deal', Number(deal.ID), { TITLE: `${MARKER} deal`, OPPORTUNITY: 123456 });
    b.emulator.crm.add('deal', { TITLE: `${MARKER} new deal`, CATEGORY_ID: 0, STAGE_ID: 'NEW', ASSIGNED_BY_ID: 900 });
    const start = await fetch(`${h.url}/api/v1/sync`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenB}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'full' }),
    });
    expect(start.status).toBe(202);
    await b.emulator.events.settle();
    await h.app.services.settle();
    await new Promise((r) => setTimeout(r, 200));
    await h.app.services.settle();

    const fingerprints = [b.emulator.portal.memberId, b.emulator.portal.domain, MARKER];
    let bChanged = 0;
    for (const r of reads) {
      const key = `${r.method} ${r.url}`;
      const res = await call(h, r, tokenA);
      expect(res.text, `${key} answered A differently after B's data changed`).toBe(before[key]);
      for (const f of fingerprints) expect(res.text.includes(f), `${key} shows B's ${f}`).toBe(false);
      if ((await call(h, r, tokenB)).text !== bBefore[key]) bChanged++;
    }
    // The change was visible to B through the same routes: the comparison above can fail.
    expect(bChanged).toBeGreaterThan(0);

    // Writes with A's token touch nothing of B (B's derived facts were rebuilt by B's reads above).
    const bSnapshot = await snapshot(h, b.emulator.portal.memberId);
    for (const r of routes.filter((x) => MUTATING.has(x.method))) {
      const res = await call(h, r, tokenA);
      expect(res.status, `${r.method} ${r.url}: ${res.text}`).toBeLessThan(500);
      for (const f of fingerprints) expect(res.text.includes(f)).toBe(false);
    }
    await h.app.services.settle();
    const after = JSON.parse(await snapshot(h, b.emulator.portal.memberId)) as Record<string, string[]>;
    const was = JSON.parse(bSnapshot) as Record<string, string[]>;
    const changed = Object.keys({ ...was, ...after }).filter((t) => JSON.stringify(was[t]) !== JSON.stringify(after[t]));
    expect(changed, JSON.stringify(changed.map((t) => [t, (after[t] ?? []).filter((r) => !(was[t] ?? []).includes(r)).slice(0, 3)]))).toEqual([]);
  });

  it("a token signed for A that names B's member_id is refused by every route", async () => {
    const now = Math.floor(Date.now() / 1000);
    const forged = signWithKey(sessionKey(HARNESS_APP_SECRET, a.emulator.portal.memberId), {
      portalId: b.emulator.portal.memberId,
      userId: 1,
      isAdmin: true,
      iat: now,
      exp: now + 600,
    });
    for (const r of routes) {
      const res = await call(h, r, forged);
      expect([r.url, res.status], res.text).toEqual([r.url, 401]);
      expect(JSON.parse(res.text)).toMatchObject({ error: 'session_invalid' });
    }
  });
});
