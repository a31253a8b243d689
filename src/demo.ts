// The demo: an emulated Bitrix24 portal holding a generated dental clinic, and the real app server
// installed into it through the real install path (the portal posts ONAPPINSTALL; the app proves the
// tokens, binds events and placements, starts the first full sync). Prints the portal page that
// opens the app the way Bitrix24 does. The only product file that may use the emulator.
//
// The portal runs in a worker thread of this process (this same file, the `portalThread` half):
// generating the clinic and answering the app's REST calls take about as much CPU as the app's sync
// itself, so on a second core they overlap instead of taking turns on one event loop. A worker ends
// with the process, so Ctrl-C or SIGTERM leaves nothing behind.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { RestrictionParams } from '@bitrix24/b24jssdk';
import type { Logger } from 'pino';
import { today } from './clinic/calendar.js';
import type { Config } from './config.js';
import type { InstallOptions, InstallResult } from './emulator/emulator.js';

export const DEMO_SEED = 1;
/** The generated clinic's zone (the generator's ground truth: Europe/Moscow). */
const DEMO_TIME_ZONE = 'Europe/Moscow';
export const DEMO_CLIENT_ID = 'local.clinic-analytics.demo';
/** Fixed, so restarting the demo re-installs into the same portal row instead of adding one. */
export const DEMO_MEMBER_ID = 'demo0clinic0analytics00000000001';

interface PortalStart {
  port: number;
  host: string;
}
type PortalRequest = { id: number; op: 'install'; opts: InstallOptions } | { id: number; op: 'userTokens'; clientId: string; userId: number } | { id: number; op: 'close' };
type PortalMessage =
  | { type: 'ready'; url: string; domain: string; tables: Record<string, number>; generatedMs: number }
  | { type: 'answer'; id: number; result?: unknown; error?: string };

/** The worker's half: generate the clinic, serve the portal, answer the main thread's requests. */
async function portalThread(start: PortalStart): Promise<void> {
  const [{ populateClinic }, { startEmulator }] = await Promise.all([import('./emulator/generator/index.js'), import('./emulator/server.js')]);
  const t0 = Date.now();
  let generatedMs = 0;
  const portal = await startEmulator({
    port: start.port,
    host: start.host,
    portal: { memberId: DEMO_MEMBER_ID },
    // No cloud rate limits: the demo shows the dashboard within a minute (bench:sync measures the sync under them).
    limits: 'off',
    populate: (emu) => {
      // History up to today at the clinic: the dashboard's default periods (last month, this year)
      // show the demo clinic's numbers whatever the date.
      populateClinic(emu.portal.data, { seed: DEMO_SEED, scale: 'clinic', asOf: today(DEMO_TIME_ZONE) });
      generatedMs = Date.now() - t0;
    },
  });
  const port = parentPort!;
  const post = (m: PortalMessage) => port.postMessage(m);
  port.on('message', (m: PortalRequest) => {
    const work = async (): Promise<unknown> => {
      if (m.op === 'install') return portal.emulator.installApp(m.opts);
      if (m.op === 'userTokens') return portal.emulator.userTokens(m.clientId, m.userId);
      await portal.close(); // the main thread ends this thread once it has the answer
      return null;
    };
    work().then(
      (result) => post({ type: 'answer', id: m.id, result }),
      (e: unknown) => post({ type: 'answer', id: m.id, error: e instanceof Error ? e.message : String(e) }),
    );
  });
  const tables = Object.fromEntries(Object.entries(portal.emulator.portal.data.tables).map(([k, t]) => [k, t.size]));
  post({ type: 'ready', url: portal.url, domain: portal.emulator.portal.domain, tables, generatedMs });
}

if (!isMainThread && (workerData as { demoPortal?: PortalStart } | null)?.demoPortal) {
  void portalThread((workerData as { demoPortal: PortalStart }).demoPortal);
}

/** The main thread's handle on the portal worker. */
class PortalWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private seq = 0;
  private closing = false;
  private exited = false;
  /** Told when the thread ends without being asked to (the portal is gone; the app stays up). */
  onLost?: (error: Error) => void;
  readonly ready: Promise<Extract<PortalMessage, { type: 'ready' }>>;

  constructor(start: PortalStart) {
    const self = import.meta.url;
    // Under tsx (`npm start`) a worker does not inherit its loader: register it before loading this file.
    const entry = self.endsWith('.ts')
      ? `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(self)}); })`
      : `import(${JSON.stringify(self)})`;
    // The same young generation as `npm start` gives the main thread (--max-semi-space-size=64): the
    // many short-lived page objects stay out of the old generation holding the whole portal.
    this.worker = new Worker(entry, { eval: true, workerData: { demoPortal: start }, resourceLimits: { maxYoungGenerationSizeMb: 192 } });
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (m: PortalMessage) => {
        if (m.type === 'ready') return resolve(m);
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.error !== undefined) p?.reject(new Error(m.error));
        else p?.resolve(m.result);
      });
      this.worker.on('error', reject);
      this.worker.once('exit', (code) => {
        this.exited = true;
        const gone = new Error(`the demo portal's thread stopped (exit code ${code})`);
        reject(gone);
        for (const p of this.pending.values()) p.reject(gone);
        this.pending.clear();
        if (!this.closing) this.onLost?.(gone);
      });
    });
  }

  private ask<T>(req: { op: 'install'; opts: InstallOptions } | { op: 'userTokens'; clientId: string; userId: number } | { op: 'close' }): Promise<T> {
    const id = ++this.seq;
    if (this.exited) return Promise.reject(new Error("the demo portal's thread has stopped"));
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...req, id });
    });
  }

  install(opts: InstallOptions): Promise<InstallResult> {
    return this.ask({ op: 'install', opts });
  }

  userTokens(clientId: string, userId: number): Promise<{ accessToken: string }> {
    return this.ask({ op: 'userTokens', clientId, userId });
  }

  /** Closes the portal's server (waiting for its event deliveries), then ends the thread. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.race([this.ask({ op: 'close' }).catch(() => undefined), new Promise((r) => setTimeout(r, 5000).unref())]);
    await this.worker.terminate();
  }
}

/** APP_SECRET for the demo: the configured one, else one generated on first start and kept. */
function demoSecret(config: Config): string {
  if (config.APP_SECRET) return config.APP_SECRET;
  const dir = config.DATABASE_URL.startsWith('file:') && config.DATABASE_URL !== 'file::memory:' ? dirname(config.DATABASE_URL.slice(5)) : 'data';
  const file = join(dir, 'demo-app-secret');
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 32) return kept;
  } catch {
    // First start.
  }
  mkdirSync(dir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

export async function runDemo(config: Config, log: Logger): Promise<() => Promise<void>> {
  const t0 = Date.now();
  // Loaded here, not at the top: the portal's thread loads this file too and needs none of the app.
  const [{ serveApp }, { purgePortal }, { ParamsFactory }] = await Promise.all([
    import('./app.js'),
    import('./portal-app/store.js'),
    import('@bitrix24/b24jssdk'),
  ]);
  /** The demo portal has no rate limits, so the app's client need not pace itself to the cloud's 2 req/s. */
  const restrictions: RestrictionParams = {
    ...ParamsFactory.getDefault(),
    rateLimit: { burstLimit: 10_000, drainRate: 1_000, adaptiveEnabled: false },
  };
  const appSecret = demoSecret(config);
  // The portal generates its clinic while the app opens its store and starts listening.
  const portal = new PortalWorker({ port: config.PORT === 0 ? 0 : config.PORT + 1, host: config.HOST });
  portal.ready.catch(() => undefined);
  // The app's OAuth credentials exist only between the portal and the app.
  const clientSecret = randomBytes(24).toString('base64url');
  const domain = portal.ready.then((r) => r.domain);
  // The dashboard opened at the app's own URL (no portal around it) acts as the portal's administrator.
  const demo = {
    frameAuth: async () => ({ accessToken: (await portal.userTokens(DEMO_CLIENT_ID, 1)).accessToken, memberId: DEMO_MEMBER_ID, domain: await domain }),
  };
  let served: Awaited<ReturnType<typeof serveApp>>;
  let ready: Awaited<typeof portal.ready>;
  try {
    served = await serveApp(
      { ...config, B24_CLIENT_ID: DEMO_CLIENT_ID, B24_CLIENT_SECRET: clientSecret, APP_SECRET: appSecret, ALLOW_INSECURE_PORTALS: true },
      log,
      { demo, restrictions },
    );
  } catch (e) {
    await portal.close();
    throw e;
  }
  // The clinic is generated afresh at every start with its history up to today: the copy a previous
  // start mirrored (another day's clinic) goes first, so no deal of it lingers.
  await purgePortal(served.store.db, DEMO_MEMBER_ID);
  const appMs = Date.now() - t0;
  try {
    ready = await portal.ready;
  } catch (e) {
    await served.stop();
    await portal.close();
    throw e;
  }
  const portalMs = Date.now() - t0;
  const appUrl = config.PUBLIC_URL;
  const inst = await portal.install({ clientId: DEMO_CLIENT_ID, clientSecret, handlerUrl: `${appUrl}/`, installUrl: `${appUrl}/b24/install` });
  if (inst.installEventStatus !== 200) {
    await served.stop();
    await portal.close();
    throw new Error(`the demo portal could not install the app at ${appUrl}/b24/install (answer ${String(inst.installEventStatus)}): is PUBLIC_URL reachable from this machine?`);
  }
  portal.onLost = (e) => log.error({ err: e.message }, 'the demo portal stopped; restart `npm start` to get it back');
  const t = ready.tables;
  const frame = `${ready.url}/_emulator/frame?clientId=${encodeURIComponent(DEMO_CLIENT_ID)}&userId=1&lang=ru`;
  log.info(
    {
      portal: ready.url,
      app: appUrl,
      deals: t.deal,
      contacts: t.contact,
      productRows: t.productrow,
      users: t.user,
      ms: { generated: ready.generatedMs, appListening: appMs, portalListening: portalMs, installed: Date.now() - t0 },
    },
    'demo clinic portal is running with the app installed; first full sync started',
  );
  console.log(
    [
      '',
      'Demo: an emulated Bitrix24 portal with a generated dental clinic, and the app installed into it.',
      `  The dashboard (demo data):  ${appUrl}/`,
      `  Inside the emulated portal, as Bitrix24 frames it:  ${frame}`,
      `  (another user: change userId)`,
      `  Portal stats: ${ready.url}/_emulator/stats`,
      '',
    ].join('\n'),
  );
  return async () => {
    await served.stop();
    await portal.close();
  };
}
