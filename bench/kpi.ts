// KPI latency and fact rebuild cost at the `network` scale (four clinics, ≈1 000 000 product rows).
// Measured in one run:
//   build      the emulator's portal synced into a SQLite store with limits off (cached under
//              data/bench by bench/network-store.ts, copied for this run), then the full fact build;
//   latency    each KPI endpoint through HTTP for a one-year period by doctor, by direction and by
//              month: the real app in a process of its own, a closed-loop load generator here
//              (CONNECTIONS requests in flight, REQUESTS per endpoint after a warm-up), p50 and p95
//              of every request's own latency — targets p95 ≤ 50 ms for every core KPI and
//              ≤ 150 ms for the cohort table;
//   rebuild    after CHANGED of the deals were rewritten by a sync (their synced_at moved, a new
//              finished run): the incremental fact refresh against the full build (target:
//              proportional to the change, not to the portal);
//   postgres   the same store copied into PostgreSQL (TEST_DATABASE_URL's server, database
//              bench_kpi), its full build and the same latencies side by side.
// Usage: npm run bench:kpi [-- --scale network|clinic --seed 1 --requests 200 --connections 2
//          --changed 0.01 --skip-pg]
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { FactBuilder, type BuildResult } from '../src/clinic/facts.js';
import { migrate, openStore, type Store } from '../src/db/database.js';
import { KpiRegistry } from '../src/kpi/registry.js';
import { signSession } from '../src/portal-app/session.js';
import { spawnServer } from './emulator-process.js';
import { NETWORK_STORE_SECRET, networkStore } from './network-store.js';

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: 'network' },
    seed: { type: 'string', default: '1' },
    requests: { type: 'string', default: '200' },
    connections: { type: 'string', default: '2' },
    changed: { type: 'string', default: '0.01' },
    'skip-pg': { type: 'boolean', default: false },
  },
});
const REQUESTS = Number(values.requests);
const CONNECTIONS = Number(values.connections);
const CHANGED = Number(values.changed);
const APP_SECRET = NETWORK_STORE_SECRET;
const YEAR = { from: '2025-01-01', to: '2026-01-01' };
const PG_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const log = (s: string) => process.stdout.write(`${s}\n`);

// ---- the SQLite store ----
const cached = await networkStore(values.scale, values.seed, log);
log(`bench:kpi — ${values.scale} scale, seed ${values.seed}, store ${cached.path} (${cached.built ? 'built now' : 'cached'})`);
mkdirSync('data/bench', { recursive: true });
const SQLITE_PATH = 'data/bench/kpi.db';
for (const suffix of ['', '-wal', '-shm']) rmSync(SQLITE_PATH + suffix, { force: true });
copyFileSync(cached.path, SQLITE_PATH);
const lite = openStore(`file:${SQLITE_PATH}`);
const portalId = cached.portalId;
const counts = await lite.db
  .selectFrom('b24_deal')
  .select(({ fn }) => fn.countAll<number>().as('deals'))
  .where('portal_id', '=', portalId)
  .executeTakeFirstOrThrow();
const rowCount = await lite.db
  .selectFrom('b24_product_row')
  .select(({ fn }) => fn.countAll<number>().as('rows'))
  .where('portal_id', '=', portalId)
  .executeTakeFirstOrThrow();
log(`${fmt(Number(counts.deals))} deals, ${fmt(Number(rowCount.rows))} product rows`);

async function build(store: Store, kind: 'full' | 'incremental'): Promise<BuildResult> {
  const r = await new FactBuilder(store.db).refresh(portalId, { full: kind === 'full' });
  if (r.kind !== kind) throw new Error(`expected a ${kind} build, got ${r.kind}`);
  return r;
}
const liteFull = await build(lite, 'full');
log(`SQLite full fact build: ${fmt(liteFull.ms / 1000, 1)} s — ${fmt(liteFull.visits)} visits, ${fmt(liteFull.patients)} patients from ${fmt(liteFull.deals)} deals`);

// ---- latency through HTTP ----
// Cold: the result cache off, so every request runs its queries (what the targets are about).
// Cached: the app as configured by default, answering repeated questions between two syncs.
const startServer = (url: string, cache: boolean) =>
  spawnServer('bench/kpi-server.ts', { DATABASE_URL: url, APP_SECRET, KPI_CACHE_SIZE: cache ? '1000' : '0' });

interface Endpoint {
  name: string;
  path: string;
  target: number;
}
const registry = KpiRegistry.load();
const endpoints: Endpoint[] = [];
const q = `from=${YEAR.from}&to=${YEAR.to}`;
for (const k of registry.list()) {
  if (k.shape === 'cohort') {
    endpoints.push({ name: `${k.id}`, path: `/api/v1/kpi/${k.id}?${q}`, target: 150 });
    continue;
  }
  for (const by of ['doctor', 'direction', 'month'] as const)
    if (k.dimensions.includes(by)) endpoints.push({ name: `${k.id} by ${by}`, path: `/api/v1/kpi/${k.id}?${q}&by=${by}`, target: 50 });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function measure(base: string): Promise<Map<string, { p50: number; p95: number }>> {
  const token = signSession(APP_SECRET, { portalId, userId: 1, isAdmin: true }, 3600).token;
  const headers = { authorization: `Bearer ${token}` };
  const out = new Map<string, { p50: number; p95: number }>();
  for (const e of endpoints) {
    const once = async () => {
      const s = performance.now();
      const res = await fetch(base + e.path, { headers });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${e.path}: HTTP ${res.status}`);
      return performance.now() - s;
    };
    for (let i = 0; i < 5; i++) await once();
    const lat: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (next++ < REQUESTS) lat.push(await once());
      }),
    );
    lat.sort((a, b) => a - b);
    out.set(e.name, { p50: percentile(lat, 50), p95: percentile(lat, 95) });
    log(`  ${e.name}: p50 ${fmt(percentile(lat, 50), 1)} ms, p95 ${fmt(percentile(lat, 95), 1)} ms`);
  }
  return out;
}

async function latencies(url: string, cache = false): Promise<Map<string, { p50: number; p95: number }>> {
  const server = await startServer(url, cache);
  try {
    return await measure(server.base);
  } finally {
    server.child.kill('SIGTERM');
  }
}
log(`measuring ${endpoints.length} endpoints on SQLite: ${REQUESTS} requests each, ${CONNECTIONS} in flight…`);
const liteLat = await latencies(`file:${SQLITE_PATH}`);
log(`the same with the result cache on (the default configuration)…`);
const liteCached = await latencies(`file:${SQLITE_PATH}`, true);

// ---- incremental rebuild after CHANGED of the deals were rewritten by a sync ----
const ids = (await lite.db.selectFrom('b24_deal').select('id').where('portal_id', '=', portalId).orderBy('id').execute()).map((r) => r.id);
const nChanged = Math.max(1, Math.round(ids.length * CHANGED));
// Two shapes of the same amount of change: spread evenly over the whole history (every month's sums
// are touched: the worst case for monthly sums) and the most recent deals (what a sync usually brings).
const SHAPES = {
  spread: Array.from({ length: nChanged }, (_, i) => ids[Math.floor((i * ids.length) / nChanged)]!),
  recent: (
    await lite.db.selectFrom('b24_deal').select('id').where('portal_id', '=', portalId).where('closedate', 'is not', null).orderBy('closedate', 'desc').limit(nChanged).execute()
  ).map((r) => r.id),
};
type Shape = keyof typeof SHAPES;
/** What an incremental sync leaves behind: the changed deals rewritten, a new finished run. */
async function touch(store: Store, pick: number[]): Promise<void> {
  const now = new Date().toISOString();
  for (let i = 0; i < pick.length; i += 1000)
    await store.db.updateTable('b24_deal').set({ synced_at: now }).where('portal_id', '=', portalId).where('id', 'in', pick.slice(i, i + 1000)).execute();
  await store.db
    .insertInto('sync_run')
    .values({ portal_id: portalId, mode: 'incremental', status: 'finished', started_at: now, finished_at: now, requests: 0, entities: '{}', error: null })
    .execute();
}
const liteInc = {} as Record<Shape, BuildResult>;
for (const shape of Object.keys(SHAPES) as Shape[]) {
  await touch(lite, SHAPES[shape]);
  liteInc[shape] = await build(lite, 'incremental');
}

// ---- PostgreSQL: the same mirror copied over ----
let pgFull: BuildResult | null = null;
let pgLat: Map<string, { p50: number; p95: number }> | null = null;
let pgInc: Record<Shape, BuildResult> | null = null;
if (!values['skip-pg']) {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS bench_kpi');
  await admin.query('CREATE DATABASE bench_kpi');
  await admin.end();
  const pgUrl = PG_ADMIN_URL.replace(/\/[^/]*$/, '/bench_kpi');
  const pgStore = openStore(pgUrl);
  await migrate(pgStore);
  const t = performance.now();
  const tables = ['portal', 'b24_deal', 'b24_product_row', 'b24_contact', 'b24_user', 'b24_department', 'b24_pipeline', 'b24_status', 'b24_currency', 'b24_product', 'b24_product_section', 'b24_user_field', 'sync_run', 'sync_checkpoint'] as const;
  for (const table of tables) {
    let after = 0;
    for (;;) {
      const page = (await sql<Record<string, unknown>>`SELECT rowid AS _r, * FROM ${sql.table(table)} WHERE rowid > ${after} ORDER BY rowid LIMIT 2000`.execute(lite.db)).rows;
      if (page.length === 0) break;
      after = page.at(-1)!._r as number;
      const rows = page.map(({ _r, ...rest }) => (void _r, rest));
      await pgStore.db.insertInto(table).values(rows as never).execute();
    }
  }
  // Copied run ids: move the id sequence past them.
  await sql`SELECT setval(pg_get_serial_sequence('sync_run', 'id'), (SELECT max(id) FROM sync_run))`.execute(pgStore.db);
  log(`copied the mirror into PostgreSQL in ${fmt((performance.now() - t) / 1000, 1)} s`);
  pgFull = await build(pgStore, 'full');
  log(`PostgreSQL full fact build: ${fmt(pgFull.ms / 1000, 1)} s`);
  log(`measuring on PostgreSQL…`);
  pgLat = await latencies(pgUrl);
  pgInc = {} as Record<Shape, BuildResult>;
  for (const shape of Object.keys(SHAPES) as Shape[]) {
    await touch(pgStore, SHAPES[shape]);
    pgInc[shape] = await build(pgStore, 'incremental');
  }
  await pgStore.close();
}
await lite.close();

// ---- report ----
log('');
log(`LATENCY — one year (${YEAR.from} … ${YEAR.to}), ms through HTTP, ${REQUESTS} requests per endpoint, ${CONNECTIONS} in flight;`);
log(`cold = result cache off (every request queries the store); targets are judged cold`);
const header = ['endpoint', 'target p95', 'SQLite p50', 'SQLite p95', 'SQLite cached p95', ...(pgLat ? ['PG p50', 'PG p95', 'PG/SQLite p95'] : []), 'met (SQLite cold)'];
log(header.join(' | '));
let misses = 0;
for (const e of endpoints) {
  const l = liteLat.get(e.name)!;
  const p = pgLat?.get(e.name);
  const met = l.p95 <= e.target;
  if (!met) misses++;
  log([e.name, `≤ ${e.target}`, fmt(l.p50, 1), fmt(l.p95, 1), fmt(liteCached.get(e.name)!.p95, 1), ...(p ? [fmt(p.p50, 1), fmt(p.p95, 1), `${fmt(p.p95 / l.p95, 2)}×`] : []), met ? 'yes' : 'NO'].join(' | '));
}
log(`${endpoints.length - misses} of ${endpoints.length} endpoints within target on SQLite (cold)`);
log(`machine: load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
log('');
log(`REBUILD — after ${fmt(nChanged)} deals (${fmt(CHANGED * 100, 1)} %) were rewritten by a sync: spread over the history, or the most recent`);
log(['store', 'full build s', 'incremental s (spread)', 'spread / full', 'incremental s (recent)', 'recent / full'].join(' | '));
const rebuildRow = (name: string, full: BuildResult, inc: Record<Shape, BuildResult>) =>
  log([name, fmt(full.ms / 1000, 2), fmt(inc.spread.ms / 1000, 3), `${fmt((inc.spread.ms / full.ms) * 100, 1)} %`, fmt(inc.recent.ms / 1000, 3), `${fmt((inc.recent.ms / full.ms) * 100, 1)} %`].join(' | '));
rebuildRow('SQLite', liteFull, liteInc);
if (pgFull && pgInc) rebuildRow('PostgreSQL', pgFull, pgInc);
process.exit(0);
