// bench:ui — the dashboard on the demo clinic (the `npm start` demo: emulated portal, clinic scale,
// the real app installed and fully synced), opened in headless Chromium inside the portal's frame
// as Bitrix24 frames it. Prints the built bundle's gzip size (all JS, and the JS the first view
// actually loads) and, over cold loads of the Обзор view, the time to the first chart drawn and to
// every panel settled (the page's own performance marks). Targets: ≤ 350 KB gzip for the first
// view, first chart ≤ 1.0 s, all panels ≤ 2.0 s on localhost. Exits 1 when a target is missed.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { buildDashboard } from '../frontend/build.mjs';
import { createLogger } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { DEMO_CLIENT_ID, runDemo } from '../src/demo.js';
import { DASHBOARD_DIST } from '../src/http/pages.js';

const RUNS = Number(process.env.BENCH_UI_RUNS ?? 5);
const TARGET = { firstViewKb: 350, firstChartMs: 1000, allPanelsMs: 2000 };

async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const next = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port + 1, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (next && port < 65000) return port;
  }
}

const gz = (file: string) => gzipSync(readFileSync(join(DASHBOARD_DIST, 'assets', file))).length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  await buildDashboard({ quiet: true });
  const assets = readdirSync(join(DASHBOARD_DIST, 'assets')).filter((f) => f.endsWith('.js'));
  const allKb = assets.reduce((a, f) => a + gz(f), 0) / 1024;

  const dir = mkdtempSync(join(tmpdir(), 'bench-ui-'));
  const port = await freePortPair();
  Object.assign(process.env, { PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${port}`, DATABASE_URL: `file:${join(dir, 'clinic.db')}`, APP_SECRET: 'bench-ui-secret-'.padEnd(48, 'x') });
  delete process.env.B24_CLIENT_ID;
  const t0 = Date.now();
  const stop = await runDemo(loadConfig(), createLogger('warn'));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    // Ready = the first full sync has finished (what a user of `npm start` waits for).
    for (;;) {
      const h = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { lastSyncAgeSec: number | null };
      if (h.lastSyncAgeSec !== null) break;
      if (Date.now() - t0 > 300_000) throw new Error('the demo did not finish its first sync within 5 minutes');
      await new Promise((r) => setTimeout(r, 250));
    }
    const readyS = (Date.now() - t0) / 1000;
    const frameUrl = `http://127.0.0.1:${port + 1}/_emulator/frame?clientId=${encodeURIComponent(DEMO_CLIENT_ID)}&userId=1&lang=ru`;
    const firstChart: number[] = [];
    const allPanels: number[] = [];
    const steps: Record<string, number[]> = {};
    let firstViewKb = 0;
    for (let i = 0; i <= RUNS; i++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const page = await context.newPage();
      const loaded = new Set<string>();
      page.on('response', (r) => {
        const u = new URL(r.url());
        if (u.port === String(port) && u.pathname.startsWith('/assets/') && u.pathname.endsWith('.js')) loaded.add(u.pathname.slice('/assets/'.length));
      });
      await page.goto(frameUrl);
      const frame = (await (await page.waitForSelector('#b24-app-frame')).contentFrame())!;
      await frame.waitForFunction(() => performance.getEntriesByName('panels-settled').length > 0 && performance.getEntriesByName('first-chart').length > 0, null, { timeout: 30_000, polling: 50 });
      // A string, not a function: tsx would wrap inner arrow functions in a helper the page lacks.
      const marks = (await frame.evaluate(`(() => {
        const at = (n) => performance.getEntriesByName(n)[0]?.startTime ?? NaN;
        return {
          chart: at('first-chart'),
          panels: at('panels-settled'),
          steps: { frame: at('frame-ready'), session: at('session-ready'), registry: at('registry-ready') },
          failed: Object.values(window.__panels()).filter((s) => s !== 'ready').length,
        };
      })()`)) as { chart: number; panels: number; steps: Record<string, number>; failed: number };
      if (marks.failed) throw new Error(`${marks.failed} panels did not load`);
      // The first load warms the server's statement cache and the OS; it is not counted.
      if (i > 0) {
        firstChart.push(marks.chart);
        allPanels.push(marks.panels);
        for (const [k, v] of Object.entries(marks.steps)) (steps[k] ??= []).push(v);
      }
      firstViewKb = [...loaded].filter((f) => !f.startsWith('app-page')).reduce((a, f) => a + gz(f), 0) / 1024;
      await context.close();
    }
    const r = { firstViewKb, firstChartMs: median(firstChart), allPanelsMs: median(allPanels) };
    console.log(`bench:ui — demo clinic (clinic scale), Обзор in the portal frame, headless Chromium, ${RUNS} cold loads (median)`);
    console.log(`  machine: load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on 2 cores shared with other work (timings scale with it)`);
    console.log(`  demo ready (app installed, first full sync finished): ${readyS.toFixed(1)} s`);
    console.log(`  bundle: all JS ${allKb.toFixed(1)} KB gzip in ${assets.length} files; first view loads ${firstViewKb.toFixed(1)} KB gzip (target ≤ ${TARGET.firstViewKb})`);
    console.log(`  first chart drawn: ${r.firstChartMs.toFixed(0)} ms (target ≤ ${TARGET.firstChartMs}); all panels loaded: ${r.allPanelsMs.toFixed(0)} ms (target ≤ ${TARGET.allPanelsMs})`);
    console.log(`  on the way (median, from the frame's navigation): ${Object.entries(steps).map(([k, v]) => `${k} ${median(v).toFixed(0)} ms`).join(', ')}`);
    console.log(`  runs: first chart ${firstChart.map((x) => x.toFixed(0)).join(', ')} ms; all panels ${allPanels.map((x) => x.toFixed(0)).join(', ')} ms`);
    const missed = (Object.keys(TARGET) as (keyof typeof TARGET)[]).filter((k) => r[k] > TARGET[k]);
    if (missed.length) {
      console.log(`  MISSED: ${missed.join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    await browser.close();
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
