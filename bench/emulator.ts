// How fast the emulator serves list pages with limits off — it must never be the bottleneck of a
// sync benchmark (target: at least 20 000 rows/s). Strategies are measured side by side in one run
// on the same generated clinic:
//   keyset       crm.deal.list, filter >ID, start=-1, one page per HTTP request
//   keyset-batch batch of 50 ID-range sub-commands (start=-1), ~2 500 rows per HTTP request
//   counted      classic start=0,50,100… pages with a COUNT on every page
//   item-keyset  crm.item.list (numeric typing) keyset pages
// Usage: npm run bench:emulator [-- --scale clinic|network --seconds 5]
import { parseArgs } from 'node:util';
import { spawnEmulator } from './emulator-process.js';

const { values } = parseArgs({ options: { scale: { type: 'string', default: 'clinic' }, seconds: { type: 'string', default: '4' } } });
const budgetMs = Number(values.seconds) * 1000;

const t0 = Date.now();
const { child, url, accessToken: auth, banner } = await spawnEmulator(['--limits', 'off', '--scale', values.scale!]);
console.log(banner, `\n(started in ${Date.now() - t0} ms)`);
const stats = await (await fetch(`${url}/_emulator/stats`)).json();
const maxDealId: number = stats.tables.deal + 20_000; // ids have holes (deleted deals); ranges past the end come back empty

async function post(method: string, body: unknown): Promise<any> {
  const res = await fetch(`${url}/rest/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...(body as object), auth }),
  });
  if (res.status !== 200) throw new Error(`${method}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

interface Result {
  name: string;
  requests: number;
  rows: number;
  ms: number;
}

/** Runs `step` until the table is exhausted or the time budget is spent. */
async function measure(name: string, step: (state: { last: number; start: number }) => Promise<number>): Promise<Result> {
  const state = { last: 0, start: 0 };
  let rows = 0;
  let requests = 0;
  const begin = performance.now();
  while (performance.now() - begin < budgetMs) {
    const n = await step(state);
    requests++;
    rows += n;
    if (n === 0) {
      state.last = 0;
      state.start = 0;
    }
  }
  return { name, requests, rows, ms: performance.now() - begin };
}

const results: Result[] = [];
results.push(
  await measure('keyset', async (s) => {
    const r = await post('crm.deal.list', { order: { ID: 'ASC' }, filter: { '>ID': s.last }, start: -1 });
    const page = r.result as { ID: string }[];
    if (page.length) s.last = Number(page[page.length - 1]!.ID);
    return page.length;
  }),
);
results.push(
  await measure('keyset-batch', async (s) => {
    const cmd: Record<string, string> = {};
    for (let i = 0; i < 50; i++) {
      const lo = s.last + i * 50;
      cmd[`p${i}`] = `crm.deal.list?order[ID]=ASC&filter[>ID]=${lo}&filter[<=ID]=${lo + 50}&start=-1`;
    }
    const r = await post('batch', { halt: 0, cmd });
    let n = 0;
    for (const page of Object.values(r.result.result as Record<string, unknown[]>)) n += page.length;
    s.last += 2500;
    if (s.last > maxDealId) s.last = 0;
    return n || 1;
  }),
);
results.push(
  await measure('counted', async (s) => {
    const r = await post('crm.deal.list', { order: { ID: 'ASC' }, start: s.start });
    s.start = r.next ?? 0;
    return (r.result as unknown[]).length;
  }),
);
results.push(
  await measure('item-keyset', async (s) => {
    const r = await post('crm.item.list', { entityTypeId: 2, order: { id: 'ASC' }, filter: { '>id': s.last }, start: -1 });
    const items = r.result.items as { id: number }[];
    if (items.length) s.last = items[items.length - 1]!.id;
    return items.length;
  }),
);
child.kill('SIGTERM');

const base = results[0]!;
console.log('\nstrategy       requests/s   rows/s     vs keyset');
for (const r of results) {
  const rps = (r.requests / r.ms) * 1000;
  const rows = (r.rows / r.ms) * 1000;
  console.log(
    `${r.name.padEnd(14)} ${rps.toFixed(1).padStart(10)} ${rows.toFixed(0).padStart(9)}   ×${(rows / ((base.rows / base.ms) * 1000)).toFixed(2)}`,
  );
}
const best = Math.max(...results.map((r) => (r.rows / r.ms) * 1000));
console.log(`\nbest: ${best.toFixed(0)} rows/s (target ≥ 20 000) → ${best >= 20_000 ? 'OK' : 'BELOW TARGET'}`);
