// The sync engine against the emulator with cloud limits on the wall clock (burst 50, 2 req/s,
// operating budget on), the emulator in its own process. Measured in one run:
//   full         a full sync into a fresh SQLite store, once with the profile production uses
//                (SYNC_RESTRICTIONS, the "batch profile" column) and once with the SDK's default
//                ("cloud") profile (2 req/s, burst 50) — the same today; the column shows when
//                SYNC_RESTRICTIONS changes (--skip-batch-profile skips it): HTTP requests, wall time, rows/s,
//                peak RSS, and the time divided by the lower bound for the dataset under the limits
//                (ceil(rows / 2 500) requests, minus the burst of 50, at 2 req/s) — target ≤ 1.25;
//   incremental  after 1 % of deals were changed (crm.deal.update through the REST API): requests
//                and time (target: under 10 requests);
//   comparison   on the first 5 000 deal IDs (filter <=ID on both sides), the same data fetched
//                the way most integrations do it — the SDK's fetchList for deals and contacts plus
//                crm.deal.productrows.get per deal — against the engine (target: ≥ 20× fewer
//                requests). At 2 req/s the naive loop takes ~40 min for 5 000 deals, so by default
//                its per-deal calls are measured on a sample and extrapolated (--naive-sample all
//                runs every call).
// Request counts are the emulator's own (/_emulator/stats; setup requests are excluded by deltas);
// the client-side count (every HTTP answer the SDK's axios saw, 503s included) is printed beside.
// Usage: npm run bench:sync [-- --scale clinic|tiny|network --seed 1 --subset 5000
//          --naive-sample 300|all --skip-naive --skip-batch-profile --skip-incremental
//          --changed 0.01 --latency none|cost]
import { installApp, spawnEmulator } from './emulator-process.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiVersion, B24OAuth, ParamsFactory, type AbstractB24, type RestrictionParams } from '@bitrix24/b24jssdk';
import { PortalClients, SYNC_RESTRICTIONS, type ClientDeps } from '../src/bitrix/client.js';
import { migrate, openStore, type Store } from '../src/db/database.js';
import { PortalRepo } from '../src/db/portals.js';
import { SecretBox } from '../src/db/secrets.js';
import { SyncEngine, type EntityCounts, type RunSummary } from '../src/sync/engine.js';
import { CONTACT, DEAL, type RowContext } from '../src/sync/entities.js';
import { commandString } from '../src/sync/rest.js';

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: 'clinic' },
    seed: { type: 'string', default: '1' },
    subset: { type: 'string', default: '5000' },
    'naive-sample': { type: 'string', default: '300' },
    'skip-naive': { type: 'boolean', default: false },
    'skip-batch-profile': { type: 'boolean', default: false },
    'skip-incremental': { type: 'boolean', default: false },
    changed: { type: 'string', default: '0.01' },
    latency: { type: 'string', default: 'none' },
  },
});
const SUBSET = Number(values.subset);
const NAIVE_SAMPLE = values['naive-sample'] === 'all' ? Infinity : Number(values['naive-sample']);
const CHANGED = Number(values.changed);
if (!Number.isInteger(SUBSET) || SUBSET <= 0 || SUBSET % 50 !== 0) throw new Error('--subset must be a positive multiple of 50');
if (!(NAIVE_SAMPLE > 0)) throw new Error('--naive-sample must be a positive number or "all"');

// The cloud's limits, which the emulator enforces (src/emulator/limits.ts CLOUD_LIMITS).
const CLOUD = { burst: 50, rps: 2 };
const ROWS_PER_REQUEST = 2_500;
/** The SDK's default profile: the cloud's own 2 req/s with a burst of 50. */
const CLOUD_PROFILE: RestrictionParams = { ...ParamsFactory.getDefault() };

const benchStart = performance.now();
const secs = (ms: number) => ms / 1000;
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }).replace(/,/g, ' ');
const mb = (kb: number) => `${fmt(kb / 1024)} MB`;
const since = (t0: number) => `${fmt(secs(performance.now() - t0), 0).padStart(4)} s`;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (line: string) => console.log(`[${since(benchStart)}] ${line}`);

// ---- the emulator, in its own process --------------------------------------------------------------
const { child, url, banner } = await spawnEmulator(['--limits', 'cloud', '--scale', values.scale!, '--seed', values.seed!, '--latency', values.latency!]);
const tmp = mkdtempSync(join(tmpdir(), 'bench-sync-'));
const stores: Store[] = [];
let exitCode = 0;
process.once('SIGINT', () => {
  child.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
  process.exit(130);
});

interface EmuStats {
  requests: number;
  calls: Record<string, number>;
  tables: Record<string, number>;
  memberId: string;
}
async function emuStats(): Promise<EmuStats> {
  return (await fetch(`${url}/_emulator/stats`)).json() as Promise<EmuStats>;
}
/** Peak RSS of the emulator process (Linux), kB. */
function emulatorPeakKb(): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const install = (clientId: string) => installApp(url, clientId);

/** A direct REST call outside the SDK (setup only), waiting out 503s. */
async function rest(auth: string, method: string, body: Record<string, unknown>): Promise<any> {
  for (;;) {
    const res = await fetch(`${url}/rest/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, auth }) });
    if (res.status === 503) {
      await sleep(1000);
      continue;
    }
    if (res.status !== 200) throw new Error(`${method}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  }
}

// The portal's leaky bucket is shared by every phase: before a measured phase, wait until what the
// previous traffic put into it has drained, so each phase starts with the full burst.
let settledAt = 0;
async function settle(): Promise<void> {
  const s = await emuStats();
  const level = Math.min(CLOUD.burst, s.requests - settledAt);
  settledAt = s.requests;
  if (level <= 0) return;
  const ms = (level / CLOUD.rps + 1) * 1000;
  log(`letting the portal's request bucket drain (${fmt(secs(ms), 0)} s)`);
  await sleep(ms);
}

// ---- what the client side sees: every HTTP answer through the SDK's axios ------------------------
interface Wire {
  answers: number;
  byStatus: Record<string, number>;
  busyMs: number;
}
const newWire = (): Wire => ({ answers: 0, byStatus: {}, busyMs: 0 });
const instrumented = new WeakSet<object>();

/** Counts the SDK's HTTP answers by status and the time spent in them. With `cap`, the engine's
 *  max-ID probes (`order[ID]=DESC`, plain or inside a batch) get an `<=ID` filter, so its range pass stops at the cap: the
 *  engine itself is unchanged and never learns about the restriction. */
function instrument(b24: AbstractB24, wire: Wire, cap?: { deal: number; contact: number }): void {
  if (instrumented.has(b24)) return;
  instrumented.add(b24);
  const ax = b24.getHttpClient(ApiVersion.v2).ajaxClient;
  const started = new WeakMap<object, number>();
  ax.interceptors.request.use((config) => {
    started.set(config, performance.now());
    const m = /\/crm\.(deal|contact)\.list(?:\?|$)/.exec(config.url ?? '');
    const data = config.data as { order?: { ID?: string }; filter?: Record<string, unknown>; cmd?: Record<string, string> } | undefined;
    if (cap && m && data && typeof data === 'object' && data.order?.ID === 'DESC') {
      data.filter = { ...(data.filter ?? {}), '<=ID': m[1] === 'deal' ? cap.deal : cap.contact };
    }
    // The engine asks both highest IDs in one batch: cap those commands inside it.
    if (cap && /\/batch(?:\?|$)/.test(config.url ?? '') && data?.cmd) {
      for (const [k, c] of Object.entries(data.cmd)) {
        const e = /^crm\.(deal|contact)\.list\?.*order%5BID%5D=DESC/.exec(c);
        if (e) data.cmd[k] = `${c}&filter%5B%3C%3DID%5D=${e[1] === 'deal' ? cap.deal : cap.contact}`;
      }
    }
    return config;
  });
  const note = (status: string, config: object | undefined) => {
    wire.answers++;
    wire.byStatus[status] = (wire.byStatus[status] ?? 0) + 1;
    const t = config && started.get(config);
    if (t) wire.busyMs += performance.now() - t;
  };
  ax.interceptors.response.use(
    (res) => {
      note(String(res.status), res.config);
      return res;
    },
    (err: { response?: { status?: number }; code?: string; config?: object }) => {
      note(String(err.response?.status ?? err.code ?? 'network'), err.config);
      return Promise.reject(err as Error);
    },
  );
}

class BenchClients extends PortalClients {
  readonly wire = newWire();
  readonly sdk: AbstractB24[] = [];
  constructor(
    deps: ClientDeps,
    private readonly cap?: { deal: number; contact: number },
  ) {
    super(deps);
  }
  override async get(portalId: string): Promise<AbstractB24> {
    const b24 = await super.get(portalId);
    if (!instrumented.has(b24)) this.sdk.push(b24);
    instrument(b24, this.wire, this.cap);
    return b24;
  }
}

function sdkLimiterStats(b24s: AbstractB24[]): { limitHits: number; retries: number; adaptiveDelays: number; adaptiveMs: number } {
  const out = { limitHits: 0, retries: 0, adaptiveDelays: 0, adaptiveMs: 0 };
  for (const b of b24s) {
    const s = b.getHttpClient(ApiVersion.v2).getStats() as unknown as Record<string, number>;
    out.limitHits += s.limitHits ?? 0;
    out.retries += s.retries ?? 0;
    out.adaptiveDelays += s.adaptiveDelays ?? 0;
    out.adaptiveMs += s.totalAdaptiveDelay ?? 0;
  }
  return out;
}

// ---- the product side: a fresh store, the installed app's portal, the engine ----------------------
interface Side {
  store: Store;
  portals: PortalRepo;
  portalId: string;
  app: { clientId: string; clientSecret: string };
}
async function freshSide(name: string): Promise<Side> {
  const store = openStore(`file:${join(tmp, name, 'bench.db')}`);
  stores.push(store);
  await migrate(store);
  const inst = await install('local.bench');
  const portals = new PortalRepo(store.db, new SecretBox('b'.repeat(32)));
  await portals.registerOAuth({
    portalId: inst.memberId,
    domain: inst.domain,
    clientEndpoint: inst.clientEndpoint,
    serverEndpoint: inst.serverEndpoint,
    scope: inst.scope,
    userId: inst.userId,
    tokens: { accessToken: inst.accessToken, refreshToken: inst.refreshToken, expiresAt: inst.expires },
    applicationToken: inst.applicationToken,
  });
  return { store, portals, portalId: inst.memberId, app: { clientId: inst.clientId, clientSecret: inst.clientSecret } };
}

interface Measured {
  requests: number;
  wire: Wire;
  ms: number;
  run: RunSummary;
  rows: number;
  sdk: ReturnType<typeof sdkLimiterStats>;
  /** PortalRest's own sleeps: back-off after transient errors and operating-budget waits. */
  restSleeps: { n: number; ms: number };
  maxRssKb: number;
  /** Method calls the emulator served in the phase, batch sub-commands included. */
  calls: Record<string, number>;
}

async function runEngine(label: string, side: Side, mode: 'full' | 'incremental', restrictions: RestrictionParams, cap?: { deal: number; contact: number }): Promise<Measured> {
  await settle();
  const clients = new BenchClients({ db: side.store.db, portals: side.portals, oauthApp: side.app, allowInsecure: true, restrictions }, cap);
  const restSleeps = { n: 0, ms: 0 };
  let counts: Record<string, EntityCounts> = {};
  const engine = new SyncEngine(
    { db: side.store.db, clients, portals: side.portals },
    {
      onProgress: (e) => (counts = e),
      rest: {
        sleep: (ms) => {
          restSleeps.n++;
          restSleeps.ms += ms;
          log(`  ${label}: PortalRest sleeps ${fmt(secs(ms), 1)} s (operating budget or back-off)`);
          return sleep(ms);
        },
      },
    },
  );
  const s0 = await emuStats();
  log(`${label}: ${mode} run started`);
  const t0 = performance.now();
  const ticker = setInterval(() => {
    void emuStats().then((s) => {
      const c = (k: string) => fmt(counts[k]?.fetched ?? 0);
      log(
        `  ${label}: ${since(t0)} · deals ${c('deal')} · product rows ${c('productrow')} · contacts ${c('contact')} · ` +
          `requests ${fmt(s.requests - s0.requests)} · 503 ${clients.wire.byStatus['503'] ?? 0} · 429 ${clients.wire.byStatus['429'] ?? 0}`,
      );
    });
  }, 15_000);
  let run: RunSummary;
  try {
    run = await engine.run(side.portalId, mode);
  } finally {
    clearInterval(ticker);
  }
  const ms = performance.now() - t0;
  const s1 = await emuStats();
  if (run.error) throw new Error(`${label}: the ${mode} run failed: ${run.error}`);
  const rows = ['deal', 'productrow', 'contact'].reduce((a, k) => a + (run.entities[k]?.fetched ?? 0), 0);
  const m: Measured = {
    requests: s1.requests - s0.requests,
    wire: clients.wire,
    ms,
    run,
    rows,
    sdk: sdkLimiterStats(clients.sdk),
    restSleeps,
    maxRssKb: process.resourceUsage().maxRSS,
    calls: Object.fromEntries(Object.entries(s1.calls).map(([k, v]) => [k, v - (s0.calls[k] ?? 0)]).filter(([, v]) => Number(v) > 0)),
  };
  log(`${label}: ${mode} run finished in ${fmt(secs(ms), 1)} s, ${fmt(m.requests)} requests, ${fmt(rows)} rows`);
  return m;
}

// ---- the naive integration: fetchList per entity, crm.deal.productrows.get per deal ---------------
interface Naive {
  deals: number;
  contacts: number;
  listRequests: number;
  listMs: number;
  sampleDeals: number;
  sampleRows: number;
  sampleRequests: number;
  sampleMs: number;
  /** ms per deal over the second half of the sample (the burst long spent): the steady rate. */
  steadyMsPerDeal: number;
  wire: Wire;
  sdk: ReturnType<typeof sdkLimiterStats>;
}

async function runNaive(dealCap: number, contactCap: number, ctx: RowContext): Promise<Naive> {
  await settle();
  const inst = await install('local.bench.naive');
  const b24 = new B24OAuth(
    {
      applicationToken: '',
      userId: inst.userId,
      memberId: inst.memberId,
      accessToken: inst.accessToken,
      refreshToken: inst.refreshToken,
      expires: inst.expires,
      expiresIn: 3600,
      scope: inst.scope.join(','),
      domain: inst.domain,
      clientEndpoint: inst.clientEndpoint,
      serverEndpoint: inst.serverEndpoint,
      status: 'L',
    },
    { clientId: inst.clientId, clientSecret: inst.clientSecret },
    { restrictionParams: ParamsFactory.getDefault() },
  );
  b24.offClientSideWarning();
  const wire = newWire();
  instrument(b24, wire);
  const progress = { what: 'deals', done: 0 };
  const s0 = await emuStats();
  const t0 = performance.now();
  const ticker = setInterval(() => log(`  naive: ${since(t0)} · ${progress.what} ${fmt(progress.done)} · requests seen ${fmt(wire.answers)} · 503 ${wire.byStatus['503'] ?? 0}`), 15_000);
  log(`naive: fetchList crm.deal.list (ID ≤ ${fmt(dealCap)}), crm.contact.list (ID ≤ ${fmt(contactCap)}), then crm.deal.productrows.get per deal`);
  try {
    const dealIds: number[] = [];
    for await (const page of b24.actions.v2.fetchList.make<{ ID: string }>({ method: 'crm.deal.list', params: { filter: { '<=ID': dealCap }, select: DEAL.select(ctx) } })) {
      for (const d of page) dealIds.push(Number(d.ID));
      progress.done = dealIds.length;
    }
    progress.what = 'contacts';
    progress.done = 0;
    for await (const page of b24.actions.v2.fetchList.make({ method: 'crm.contact.list', params: { filter: { '<=ID': contactCap }, select: CONTACT.select(ctx) } })) {
      progress.done += page.length;
    }
    const contacts = progress.done;
    const listMs = performance.now() - t0;
    const s1 = await emuStats();
    const sample = dealIds.slice(0, Math.min(dealIds.length, NAIVE_SAMPLE));
    log(`naive: lists done in ${fmt(secs(listMs), 1)} s (${fmt(s1.requests - s0.requests)} requests); crm.deal.productrows.get for ${fmt(sample.length)} of ${fmt(dealIds.length)} deals`);
    progress.what = 'deals with product rows';
    progress.done = 0;
    let rows = 0;
    const t1 = performance.now();
    let tHalf = t1;
    for (const [i, id] of sample.entries()) {
      if (i === Math.floor(sample.length / 2)) tHalf = performance.now();
      const r = await b24.actions.v2.call.make<unknown[]>({ method: 'crm.deal.productrows.get', params: { id } });
      if (!r.isSuccess) throw new Error(`crm.deal.productrows.get ${id}: ${r.getErrorMessages().join('; ')}`);
      rows += r.getData()!.result.length;
      progress.done++;
    }
    const sampleMs = performance.now() - t1;
    const s2 = await emuStats();
    return {
      deals: dealIds.length,
      contacts,
      listRequests: s1.requests - s0.requests,
      listMs,
      sampleDeals: sample.length,
      sampleRows: rows,
      sampleRequests: s2.requests - s1.requests,
      sampleMs,
      steadyMsPerDeal: (performance.now() - tHalf) / Math.max(1, sample.length - Math.floor(sample.length / 2)),
      wire,
      sdk: sdkLimiterStats([b24]),
    };
  } finally {
    clearInterval(ticker);
  }
}

/** Changes `share` of the portal's deals (evenly spread IDs) through crm.deal.update in batches. */
async function changeDeals(side: Side, share: number): Promise<number> {
  const ids = (await side.store.db.selectFrom('b24_deal').select('id').where('portal_id', '=', side.portalId).orderBy('id').execute()).map((r) => Number(r.id));
  const k = Math.max(1, Math.round(ids.length * share));
  const pick = Array.from({ length: k }, (_, i) => ids[Math.floor((i * ids.length) / k)]!);
  const inst = await install('local.bench.changes');
  let failed = 0;
  for (let i = 0; i < pick.length; i += 50) {
    const cmd: Record<string, string> = {};
    pick.slice(i, i + 50).forEach((id, j) => {
      cmd[`u${j}`] = commandString({ method: 'crm.deal.update', params: { id, fields: { TITLE: `bench change ${i + j}`, OPPORTUNITY: 1000 + ((i + j) % 997) } } });
    });
    const r = await rest(inst.accessToken, 'batch', { halt: 0, cmd });
    const errors = r.result?.result_error ?? {};
    failed += Array.isArray(errors) ? errors.length : Object.keys(errors).length;
  }
  if (failed) throw new Error(`${failed} of ${pick.length} crm.deal.update commands failed`);
  return pick.length;
}

// =====================================================================================================
try {
  const stats0 = await emuStats();
  const t = stats0.tables;
  const dataset = { deals: t.deal ?? 0, rows: t.productrow ?? 0, contacts: t.contact ?? 0 };
  const totalRows = dataset.deals + dataset.rows + dataset.contacts;
  const boundRequests = Math.ceil(totalRows / ROWS_PER_REQUEST);
  const boundSec = Math.max(0, boundRequests - CLOUD.burst) / CLOUD.rps;
  console.log(banner);
  log(
    `dataset: scale ${values.scale}, seed ${values.seed}: ${fmt(dataset.deals)} deals, ${fmt(dataset.rows)} product rows, ${fmt(dataset.contacts)} contacts; ` +
      `emulator limits: cloud (burst ${CLOUD.burst}, ${CLOUD.rps} req/s, operating budget on), latency ${values.latency}`,
  );
  const ctx: RowContext = { portalId: stats0.memberId, syncedAt: '', patientNames: false };

  // -- full runs --
  const profiles: { key: string; title: string; restrictions: RestrictionParams }[] = [
    ...(values['skip-batch-profile'] ? [] : [{ key: 'batch', title: 'SDK batch profile', restrictions: SYNC_RESTRICTIONS }]),
    { key: 'cloud', title: 'cloud profile', restrictions: CLOUD_PROFILE },
  ];
  const full: Record<string, { side: Side; m: Measured }> = {};
  for (const p of profiles) {
    const side = await freshSide(p.key);
    full[p.key] = { side, m: await runEngine(`full/${p.key}`, side, 'full', p.restrictions) };
  }

  // -- incremental --
  const incr: Record<string, Measured> = {};
  let changed = 0;
  if (!values['skip-incremental']) {
    await settle();
    const anySide = full.cloud!.side;
    const s0 = await emuStats();
    changed = await changeDeals(anySide, CHANGED);
    const s1 = await emuStats();
    log(`changed ${fmt(changed)} deals (${fmt(CHANGED * 100, 1)} %) through crm.deal.update, ${s1.requests - s0.requests} setup requests (not counted)`);
    for (const p of profiles) incr[p.key] = await runEngine(`incremental/${p.key}`, full[p.key]!.side, 'incremental', p.restrictions);
  }

  // -- the subset comparison --
  // Contacts: those the subset's deals point to, i.e. IDs up to the largest CONTACT_ID among them,
  // rounded up to a multiple of 50 so the engine's 50-ID ranges end exactly at the cap.
  await settle();
  const setup = await install('local.bench.setup');
  const top = await rest(setup.accessToken, 'crm.deal.list', { order: { CONTACT_ID: 'DESC' }, filter: { '<=ID': SUBSET, '>CONTACT_ID': 0 }, select: ['ID', 'CONTACT_ID'], start: -1 });
  const maxContact = Number((top.result as { CONTACT_ID: string }[])[0]?.CONTACT_ID ?? 0);
  const cap = { deal: SUBSET, contact: Math.max(50, Math.ceil(maxContact / 50) * 50) };
  let naive: Naive | undefined;
  if (!values['skip-naive']) naive = await runNaive(cap.deal, cap.contact, ctx);
  const subSide = await freshSide('subset');
  const ours = await runEngine('subset/ours', subSide, 'full', SYNC_RESTRICTIONS, cap);
  const emuPeak = emulatorPeakKb();

  // ---- the table ----------------------------------------------------------------------------------
  const W = 50;
  const cols = profiles.map((p) => p.key);
  const head = (title: string, names: string[]) => {
    console.log(`\n${title}`);
    console.log(`${''.padEnd(W)}${names.map((n) => n.padStart(22)).join('')}`);
  };
  const row = (label: string, vals: string[], note = '') => console.log(`${label.padEnd(W)}${vals.map((v) => v.padStart(22)).join('')}${note ? `   ${note}` : ''}`);
  const status = (w: Wire, s: string) => String(w.byStatus[s] ?? 0);
  const other = (w: Wire) => String(Object.entries(w.byStatus).filter(([k]) => !['200', '503', '429'].includes(k)).reduce((a, [, v]) => a + v, 0));
  const profileNote = (r: RestrictionParams) => `(${r.rateLimit?.drainRate} rps, burst ${r.rateLimit?.burstLimit})`;

  head(
    `FULL SYNC — dataset: scale "${values.scale}" (seed ${values.seed}), the generator scale closest to 100 000 deals / 300 000 rows / 30 000 contacts:\n` +
      `  ${fmt(dataset.deals)} deals + ${fmt(dataset.rows)} product rows + ${fmt(dataset.contacts)} contacts = ${fmt(totalRows)} rows (emulator /_emulator/stats)`,
    profiles.map((p) => p.title),
  );
  row('', profiles.map((p) => profileNote(p.restrictions)));
  const F = cols.map((k) => full[k]!.m);
  row('HTTP requests (emulator count)', F.map((m) => fmt(m.requests)));
  row('HTTP answers seen by the client', F.map((m) => fmt(m.wire.answers)));
  row('  of which 503 / 429 / other non-200', F.map((m) => `${status(m.wire, '503')} / ${status(m.wire, '429')} / ${other(m.wire)}`));
  row("engine's own count (RunSummary.requests)", F.map((m) => fmt(m.run.requests)));
  row('rows fetched (deals + product rows + contacts)', F.map((m) => fmt(m.rows)));
  row('wall time, s', F.map((m) => fmt(secs(m.ms), 1)));
  row('rows per second', F.map((m) => fmt(m.rows / secs(m.ms))));
  row('  time inside HTTP requests, s', F.map((m) => fmt(secs(m.wire.busyMs), 1)));
  row('  time elsewhere (SDK limiter, engine, SQLite), s', F.map((m) => fmt(secs(m.ms - m.wire.busyMs), 1)));
  row('  SDK limiter hits / retries / adaptive delays', F.map((m) => `${m.sdk.limitHits} / ${m.sdk.retries} / ${m.sdk.adaptiveDelays}`));
  row('  PortalRest sleeps (operating / back-off), s', F.map((m) => `${m.restSleeps.n} / ${fmt(secs(m.restSleeps.ms), 1)}`));
  row('method calls (batch sub-commands included)', F.map(() => ''));
  for (const meth of [...new Set(F.flatMap((m) => Object.keys(m.calls)))].sort()) row(`  ${meth}`, F.map((m) => fmt(m.calls[meth] ?? 0)));
  row('peak RSS of the sync process (maxRSS so far)', F.map((m) => mb(m.maxRssKb)));
  row(
    `lower bound: ceil(${fmt(totalRows)} / ${fmt(ROWS_PER_REQUEST)}) = ${boundRequests} req`,
    cols.map(() => `${fmt(boundSec, 1)} s`),
    `(${boundRequests} − ${CLOUD.burst} burst) / ${CLOUD.rps} req/s`,
  );
  row('requests ÷ bound requests', F.map((m) => `${fmt(m.requests / boundRequests, 2)}×`));
  row('time ÷ lower bound (target ≤ 1.25)', F.map((m) => (boundSec > 0 ? `${fmt(secs(m.ms) / boundSec, 2)} ${secs(m.ms) / boundSec <= 1.25 ? 'OK' : 'MISS'}` : 'bound 0')));
  row(
    'time at the cloud rate for our request count',
    F.map((m) => `${fmt(Math.max(0, m.requests - CLOUD.burst) / CLOUD.rps, 1)} s`),
    '(our requests − 50) / 2: the floor for this engine',
  );
  console.log(`peak RSS of the emulator process (VmHWM, includes generating the portal): ${emuPeak === null ? 'n/a (no /proc)' : mb(emuPeak)}`);

  if (!values['skip-incremental']) {
    head(`INCREMENTAL — after ${fmt(changed)} deals (${fmt(CHANGED * 100, 1)} %) were changed through crm.deal.update (TITLE, OPPORTUNITY)`, profiles.map((p) => p.title));
    const I = cols.map((k) => incr[k]!);
    row('HTTP requests (emulator count)', I.map((m) => `${fmt(m.requests)} ${m.requests < 10 ? 'OK' : 'MISS'}`), 'target < 10');
    row('HTTP answers seen by the client (503 / 429)', I.map((m) => `${fmt(m.wire.answers)} (${status(m.wire, '503')} / ${status(m.wire, '429')})`));
    row('wall time, s', I.map((m) => fmt(secs(m.ms), 1)));
    row('deals / product rows / contacts fetched', I.map((m) => ['deal', 'productrow', 'contact'].map((k) => fmt(m.run.entities[k]?.fetched ?? 0)).join(' / ')));
    row('method calls (batch sub-commands included)', I.map(() => ''));
    for (const meth of [...new Set(I.flatMap((m) => Object.keys(m.calls)))].sort()) row(`  ${meth}`, I.map((m) => fmt(m.calls[meth] ?? 0)));
  }

  const subsetRows = ours.rows;
  head(
    `COMPARISON — the first ${fmt(SUBSET)} deal IDs of the same portal (filter <=ID ${fmt(SUBSET)} on both sides): ${fmt(ours.run.entities.deal?.fetched ?? 0)} deals, ` +
      `${fmt(ours.run.entities.productrow?.fetched ?? 0)} product rows,\n  contacts ID ≤ ${fmt(cap.contact)} (the largest CONTACT_ID of those deals, rounded up to 50): ${fmt(ours.run.entities.contact?.fetched ?? 0)}`,
    ['naive (SDK default)', 'ours (batch profile)'],
  );
  if (naive) {
    const perDeal = naive.steadyMsPerDeal;
    const full = naive.sampleDeals === naive.deals;
    const naiveRequests = naive.listRequests + (full ? naive.sampleRequests : naive.deals);
    const naiveMs = naive.listMs + (full ? naive.sampleMs : naive.sampleMs + perDeal * (naive.deals - naive.sampleDeals));
    const mark = full ? '' : ' *';
    row('HTTP requests (emulator count)', [`${fmt(naiveRequests)}${mark}`, fmt(ours.requests)]);
    row('  lists (fetchList) / per-deal productrows.get', [`${fmt(naive.listRequests)} / ${fmt(naiveRequests - naive.listRequests)}${mark}`, '']);
    row('HTTP answers seen by the client (503 / 429)', [`${fmt(naive.wire.answers)} (${status(naive.wire, '503')} / ${status(naive.wire, '429')})`, `${fmt(ours.wire.answers)} (${status(ours.wire, '503')} / ${status(ours.wire, '429')})`]);
    row('wall time, s', [`${fmt(secs(naiveMs), 1)}${mark}`, fmt(secs(ours.ms), 1)]);
    row('rows fetched', [`${fmt(naive.deals + naive.contacts + naive.sampleRows)}${mark}`, fmt(subsetRows)]);
    row('ratio naive ÷ ours: requests (target ≥ 20×)', [`${fmt(naiveRequests / ours.requests, 0)}× ${naiveRequests / ours.requests >= 20 ? 'OK' : 'MISS'}`, '']);
    row('ratio naive ÷ ours: time', [`${fmt(naiveMs / ours.ms, 0)}×`, '']);
    if (naive.deals !== (ours.run.entities.deal?.fetched ?? 0) || naive.contacts !== (ours.run.entities.contact?.fetched ?? 0)) {
      console.log(`  NOTE: the two sides saw different data: naive ${naive.deals} deals / ${naive.contacts} contacts`);
    }
    if (!full) {
      console.log(
        `  * crm.deal.productrows.get was run for the first ${fmt(naive.sampleDeals)} of ${fmt(naive.deals)} deals: ${fmt(naive.sampleRequests)} requests (emulator count), ` +
          `${fmt(secs(naive.sampleMs), 1)} s, ${fmt(naive.sampleRows)} product rows;\n    the rest is extrapolated: one request per deal at ${fmt(perDeal, 0)} ms per deal (measured over the sample's second half) ` +
          `(lists measured in full: ${fmt(naive.listRequests)} requests, ${fmt(secs(naive.listMs), 1)} s). --naive-sample all runs every call.`,
      );
    }
    console.log(`  naive SDK limiter hits / retries: ${naive.sdk.limitHits} / ${naive.sdk.retries}; ours also read the reference data (in its first batches) the naive side skips`);
  } else {
    row('HTTP requests (emulator count)', ['skipped', fmt(ours.requests)]);
    row('wall time, s', ['skipped', fmt(secs(ours.ms), 1)]);
  }
  console.log(`\nbench process peak RSS: ${mb(process.resourceUsage().maxRSS)}; total bench time ${fmt(secs(performance.now() - benchStart), 0)} s`);
} catch (e) {
  console.error(e);
  exitCode = 1;
} finally {
  child.kill('SIGTERM');
  for (const s of stores) await s.close().catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);
