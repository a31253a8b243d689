// BI Builder connector throughput at the `network` scale (four clinics, ≈1 000 000 product rows):
// `clinic_service_lines` with `limit=0` from the real app in a process of its own —
//   raw        read by a plain HTTP client: rows per second, time to first byte, and the server's
//              RSS growth (sampled from /proc every 10 ms) over its RSS before the request;
//   e2e        the same query through the emulator's BI Builder client (PHP form body, whole answer
//              buffered and validated against the table description, as the portal would see it).
// Targets: ≥ 200 000 rows/s, first byte ≤ 200 ms, RSS growth ≤ 50 MB whatever the row count.
// The store is the cached network-scale SQLite file of bench/network-store.ts (built on first use, a
// few minutes). Usage: npm run bench:bi [-- --scale network --seed 1 --runs 3]
import { spawnServer } from './emulator-process.js';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { BiBuilderClient, phpBuildQuery } from '../src/emulator/bi-client.js';
import { networkStore, NETWORK_STORE_SECRET } from './network-store.js';

const { values } = parseArgs({ options: { scale: { type: 'string', default: 'network' }, seed: { type: 'string', default: '1' }, runs: { type: 'string', default: '3' } } });
const RUNS = Number(values.runs);
const TOKEN = 'bench-bi-token-0123456789abcdefghijklmnopq';
const TABLE = 'clinic_service_lines';
const log = (s: string) => process.stdout.write(`${s}\n`);
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

const cached = await networkStore(values.scale, values.seed, log);
log(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} on ${availableParallelism()} cores`);
log(`bench:bi — ${values.scale} scale, seed ${values.seed}, store ${cached.path} (${cached.built ? 'built now' : 'cached'})`);

const { child, base } = await spawnServer('bench/bi-server.ts', { DATABASE_URL: `file:${cached.path}`, APP_SECRET: NETWORK_STORE_SECRET, PORTAL: cached.portalId, BI_TOKEN: TOKEN });

/** The server's CPU seconds so far (utime + stime): the machine is shared, so rows per CPU-second is
 *  printed beside rows per wall-clock second. */
const cpuSec = () => {
  const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const rssMb = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
/** Runs `fn` while sampling the server's RSS; returns its result and the peak growth over the start. */
async function sampled<T>(fn: () => Promise<T>): Promise<{ result: T; baseMb: number; growthMb: number }> {
  const baseMb = rssMb();
  let peak = baseMb;
  const timer = setInterval(() => (peak = Math.max(peak, rssMb())), 10);
  try {
    const result = await fn();
    peak = Math.max(peak, rssMb());
    return { result, baseMb, growthMb: peak - baseMb };
  } finally {
    clearInterval(timer);
  }
}

const url = (p: string) => `${base}/bi/${p}?portal=${encodeURIComponent(cached.portalId)}`;
function raw(body: string): Promise<{ ttfbMs: number; totalMs: number; bytes: number; text: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let ttfb = 0;
    const req = http.request(url('data'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        if (!ttfb) ttfb = performance.now() - t0;
        bytes += c.length;
        chunks.push(c);
      });
      res.on('end', () => resolve({ ttfbMs: ttfb, totalMs: performance.now() - t0, bytes, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

try {
  // Warm-up: the first call checks the facts' freshness and loads the name tables.
  await raw(phpBuildQuery({ limit: 20, connection: { token: TOKEN }, table: TABLE }));
  log(`\nraw HTTP, ${TABLE}, limit=0, every column:`);
  let rows = 0;
  for (let i = 1; i <= RUNS; i++) {
    const cpu0 = cpuSec();
    const { result: r, baseMb, growthMb } = await sampled(() => raw(phpBuildQuery({ limit: 0, connection: { token: TOKEN }, table: TABLE })));
    const cpu = cpuSec() - cpu0;
    const parsed = JSON.parse(r.text) as unknown[][];
    rows = parsed.length - 1;
    log(
      `  run ${i}: ${fmt(rows)} rows, ${fmt(r.bytes / 1e6, 1)} MB in ${fmt(r.totalMs / 1000, 2)} s — ${fmt(rows / (r.totalMs / 1000))} rows/s ` +
        `(server CPU ${fmt(cpu, 2)} s: ${fmt(rows / cpu)} rows per CPU-second), first byte ${fmt(r.ttfbMs, 1)} ms, server RSS ${fmt(baseMb)} MB + ${fmt(growthMb, 1)} MB peak`,
    );
  }

  log(`\nend to end through the emulator's BI Builder client (form body, buffered, validated):`);
  const client = new BiBuilderClient({ urlCheck: url('check'), urlTableList: url('tables'), urlTableDescription: url('describe'), urlData: url('data') }, { token: TOKEN });
  const columns = (await client.describe(TABLE)).map((c) => ({ code: c.code, type: c.type }));
  for (let i = 1; i <= RUNS; i++) {
    const t0 = performance.now();
    const cpu0 = cpuSec();
    const { result: r, baseMb, growthMb } = await sampled(() => client.data({ table: TABLE, limit: 0, columns }));
    const ms = performance.now() - t0;
    const cpu = cpuSec() - cpu0;
    if (r.rows.length !== rows) throw new Error(`the client got ${r.rows.length} rows, the raw read ${rows}`);
    // The rest of the wall time is the client's: buffering, JSON.parse and validating every value.
    log(
      `  run ${i}: ${fmt(r.rows.length)} rows in ${fmt(ms / 1000, 2)} s — ${fmt(r.rows.length / (ms / 1000))} rows/s (validation included; ` +
        `server CPU ${fmt(cpu, 2)} s), server RSS ${fmt(baseMb)} MB + ${fmt(growthMb, 1)} MB peak`,
    );
  }
  log('\ntargets: ≥ 200 000 rows/s, first byte ≤ 200 ms, server RSS growth ≤ 50 MB');
} finally {
  child.kill('SIGTERM');
}
