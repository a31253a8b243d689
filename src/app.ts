// Fastify assembly: outside pieces first (security headers, rate limits, form bodies), then the app's
// services, then routes — Bitrix24's (/b24/*), the pages it frames, the session exchange and the
// authenticated /api/v1. `buildApp` is what main.ts listens with and what tests inject into.
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { RestrictionParams } from '@bitrix24/b24jssdk';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino, type DestinationStream, type Logger } from 'pino';
import qs from 'qs';
import { BiConnector, type ConnectorOptions } from './bi/connector.js';
import { BiRegistrar } from './bi/register.js';
import { biRoutes } from './bi/routes.js';
import { BiStore } from './bi/store.js';
import { PortalClients } from './bitrix/client.js';
import { DEFAULT_SYNC_CRON, type Config } from './config.js';
import { migrate, openStore, type Store } from './db/database.js';
import { PortalRepo } from './db/portals.js';
import { SecretBox } from './db/secrets.js';
import { registerApi, type ApiRoute } from './http/api/index.js';
import { b24Routes } from './http/b24.js';
import { errorHandler, notFoundHandler, AppError } from './http/errors.js';
import { CSP_DIRECTIVES, pageRoutes, type DemoFrame } from './http/pages.js';
import { sessionRoutes } from './http/session.js';
import { registry } from './kpi/services.js';
import { EventIntake } from './portal-app/events.js';
import { Installer, type InstallStep } from './portal-app/install.js';
import { loadManifest, type Manifest } from './portal-app/manifest.js';
import { SyncControl } from './portal-app/sync-control.js';
import { loadSettings } from './clinic/settings.js';
import { clinicServices } from './kpi/services.js';
import { SyncEngine, type RunSummary, type SyncOptions } from './sync/engine.js';
import { EventQueue } from './sync/event-queue.js';
import { assertCron, startScheduler, type Scheduler } from './sync/scheduler.js';

export type AppConfig = Pick<Config, 'PUBLIC_URL' | 'ALLOW_INSECURE_PORTALS'> &
  Partial<Pick<Config, 'KPI_CACHE_SIZE'>> & {
  B24_CLIENT_ID: string;
  B24_CLIENT_SECRET: string;
  APP_SECRET: string;
};

export interface Limit {
  max: number;
  /** Milliseconds. */
  timeWindow: number;
}

export interface RateLimits {
  session: Limit;
  install: Limit;
  /** Generous: a bulk edit in the portal sends an event per record, and Bitrix24 never resends one
   *  (the next incremental run would catch up, but later). */
  events: Limit;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  session: { max: 30, timeWindow: 60_000 },
  install: { max: 10, timeWindow: 60_000 },
  events: { max: 1200, timeWindow: 60_000 },
};

export interface AppOptions {
  config: AppConfig;
  store: Store;
  /** A pino logger made by `createLogger` (redacts credentials); silent when absent. */
  logger?: Logger;
  manifest?: Manifest;
  /** The SDK's limiter for portal traffic (tests open it wide). */
  restrictions?: RestrictionParams;
  sync?: SyncOptions;
  eventCoalesceMs?: number;
  rateLimits?: Partial<RateLimits>;
  /** Extra idempotent install steps (the BI Builder connector's own step always runs first). */
  installSteps?: InstallStep[];
  /** BI Builder connector tuning (tests shrink its keyset pages). */
  bi?: ConnectorOptions;
  sessionTtlSec?: number;
  streamPollMs?: number;
  /** Behind a reverse proxy: take the client address from X-Forwarded-For. */
  trustProxy?: boolean;
  /** Demo mode only (src/demo.ts): the dashboard opens outside a frame as the demo administrator. */
  demo?: DemoFrame;
  /** The incremental schedule of portals without their own (SYNC_CRON), as the pages tell it. */
  syncCron?: string;
}

export interface AppServices {
  portals: PortalRepo;
  clients: PortalClients;
  engine: SyncEngine;
  sync: SyncControl;
  queue: EventQueue;
  intake: EventIntake;
  installer: Installer;
  manifest: Manifest;
  /** The scheduler, once serveApp has started it (tests run without): the pages tell its next runs. */
  scheduler?: Pick<Scheduler, 'nextIncremental'>;
  /** Waits for background work started by requests (event work, sync runs). */
  settle(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: AppServices;
    /** Every authenticated /api/v1 route, as registered. */
    apiRoutes: ApiRoute[];
  }
}

/** Log fields that may hold credentials, wherever they appear. */
export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.application_token',
  '*.applicationToken',
  '*.AUTH_ID',
  '*.REFRESH_ID',
  '*.APPLICATION_TOKEN',
  '*.token',
  '*.secret',
  '*.clientSecret',
  '*.client_secret',
  '*.webhookUrl',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: LOG_REDACT, censor: '[redacted]' },
      serializers: {
        // Paths only: a query string is not ours to log.
        req: (req: { method?: string; url?: string; ip?: string }) => ({ method: req.method, url: req.url?.split('?')[0], ip: req.ip }),
      },
    },
    destination,
  );
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { config, store } = opts;
  const log = opts.logger ?? pino({ level: 'silent' });
  const manifest = opts.manifest ?? loadManifest();
  const limits = { ...DEFAULT_RATE_LIMITS, ...opts.rateLimits };
  const allowInsecure = config.ALLOW_INSECURE_PORTALS;
  const oauthApp = { clientId: config.B24_CLIENT_ID, clientSecret: config.B24_CLIENT_SECRET };

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: 256 * 1024,
    trustProxy: opts.trustProxy ?? false,
    // Unknown fields in our own JSON bodies are refused with a message naming them, not dropped.
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Outside pieces.
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    // Bitrix24 frames our pages: framing is governed by CSP frame-ancestors, per portal.
    frameguard: false,
    crossOriginEmbedderPolicy: false,
  });
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, ctx) => new AppError(429, 'rate_limited', `too many requests: retry in ${ctx.after}`),
  });
  await app.register(formbody, { parser: (s: string) => qs.parse(s, { depth: 4, parameterLimit: 200, arrayLimit: 50 }) });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  // Services.
  const db = store.db;
  const portals = new PortalRepo(db, new SecretBox(config.APP_SECRET));
  const clients = new PortalClients({ db, portals, oauthApp, allowInsecure, ...(opts.restrictions ? { restrictions: opts.restrictions } : {}) });
  // After every run, bring the clinic facts up to date in the background, so the next dashboard
  // request finds them built (a KPI request would otherwise do it, and wait for it).
  const { facts, runner } = clinicServices(db);
  if (config.KPI_CACHE_SIZE !== undefined) runner.cache.capacity = config.KPI_CACHE_SIZE;
  const factWork = new Set<Promise<unknown>>();
  const engine = new SyncEngine(
    { db, clients, portals },
    {
      ...opts.sync,
      onRunEnd: (portalId, run) => {
        opts.sync?.onRunEnd?.(portalId, run);
        if (run.status !== 'finished') return;
        // Not for a portal that uninstalled meanwhile: its rows are being (or were) deleted.
        const p = portals
          .get(portalId)
          .then((portal) => (portal?.status === 'active' ? facts.ensureFresh(portalId) : undefined))
          .catch((e: unknown) => log.error({ err: e, portalId }, 'clinic facts refresh after sync failed'))
          .finally(() => factWork.delete(p));
        factWork.add(p);
      },
    },
  );
  const sync = new SyncControl({ db, engine, log });
  const queue = new EventQueue(
    {
      // Events still queued when a portal uninstalls must not start runs against it.
      applyEvents: async (portalId, changes): Promise<RunSummary> => {
        const p = await portals.get(portalId);
        if (p?.status !== 'active') return { runId: 0, mode: 'events', status: 'finished', requests: 0, entities: {}, error: null };
        return engine.applyEvents(portalId, changes);
      },
    },
    {
      ...(opts.eventCoalesceMs !== undefined ? { coalesceMs: opts.eventCoalesceMs } : {}),
      onRun: (portalId, run) => log.info({ portalId, runId: run.runId, status: run.status, entities: run.entities, error: run.error }, 'event sync run'),
    },
  );
  const intake = new EventIntake({ db, portals, clients, queue, log });
  // BI Builder: the connector serves /bi/*, and registers itself in the portal at every install.
  const biConnector = new BiConnector(db, store.dialect, new BiStore(db, new SecretBox(config.APP_SECRET)), registry, opts.bi);
  const biRegistrar = new BiRegistrar({ store: biConnector.store, datasets: biConnector.datasets, publicUrl: config.PUBLIC_URL, log });
  const installer = new Installer({
    db,
    portals,
    clients,
    sync,
    manifest,
    publicUrl: config.PUBLIC_URL,
    oauthApp,
    allowInsecure,
    log,
    steps: [biRegistrar.installStep(), ...(opts.installSteps ?? [])],
  });
  const services: AppServices = {
    portals,
    clients,
    engine,
    sync,
    queue,
    intake,
    installer,
    manifest,
    settle: async () => {
      await intake.settle();
      await sync.settle();
      await Promise.all([...factWork]);
    },
  };
  app.decorate('services', services);
  app.decorate('bi', { connector: biConnector, registrar: biRegistrar, clients });
  const apiRoutes: ApiRoute[] = [];
  app.decorate('apiRoutes', apiRoutes);
  app.addHook('onClose', async () => {
    queue.close();
    await intake.settle();
    await Promise.all([...factWork]);
  });

  // Routes.
  await app.register(b24Routes, { manifest, installer, intake, rateLimits: { install: limits.install, events: limits.events } });
  await app.register(pageRoutes, { db, portals, manifest, ...(opts.demo ? { demo: opts.demo } : {}) });
  await app.register(biRoutes, { connector: biConnector });
  await app.register(sessionRoutes, {
    db,
    portals,
    sync,
    appSecret: config.APP_SECRET,
    clientId: config.B24_CLIENT_ID,
    allowInsecure,
    ...(opts.sessionTtlSec !== undefined ? { ttlSec: opts.sessionTtlSec } : {}),
    rateLimit: limits.session,
    // As the scheduler planned it; a portal it has not planned yet (it plans every minute) has just
    // been installed, so it has no schedule of its own and SYNC_CRON applies.
    schedule: (portalId) => {
      const planned = services.scheduler?.nextIncremental(portalId);
      return { cron: planned?.cron ?? opts.syncCron ?? DEFAULT_SYNC_CRON, nextAt: planned?.at?.toISOString() ?? null };
    },
  });
  await registerApi(app, { db, portals, sync, appSecret: config.APP_SECRET, streamPollMs: opts.streamPollMs ?? 1000 }, apiRoutes);

  app.get('/healthz', { schema: {} }, async (_req, reply) => {
    try {
      const last = await db.selectFrom('sync_run').select((eb) => eb.fn.max('finished_at').as('at')).where('status', '=', 'finished').executeTakeFirst();
      const at = last?.at ? String(last.at) : null;
      return reply.send({ ok: true, store: 'ok', lastSyncAgeSec: at ? Math.round((Date.now() - Date.parse(at)) / 1000) : null });
    } catch {
      return reply.code(503).send({ ok: false, store: 'unreachable', lastSyncAgeSec: null });
    }
  });

  return app;
}

export interface RunningApp {
  app: FastifyInstance;
  store: Store;
  stop(): Promise<void>;
}

/** The real app as a process serves it: store migrated, app listening on HOST:PORT, scheduler on. */
export async function serveApp(
  config: AppConfig & Pick<Config, 'PORT' | 'HOST' | 'DATABASE_URL' | 'SYNC_CRON' | 'RECONCILE_CRON'>,
  log: Logger,
  extra: Partial<AppOptions> = {},
): Promise<RunningApp> {
  assertCron('SYNC_CRON', config.SYNC_CRON);
  assertCron('RECONCILE_CRON', config.RECONCILE_CRON);
  const store = openStore(config.DATABASE_URL);
  await migrate(store);
  const app = await buildApp({ config, store, logger: log, syncCron: config.SYNC_CRON, ...extra });
  await app.listen({ port: config.PORT, host: config.HOST });
  const scheduler = startScheduler(
    {
      engine: app.services.engine,
      portals: app.services.portals,
      log,
      scheduleOf: async (portalId) => {
        const settings = await loadSettings(store.db, portalId);
        return { ...settings.schedule, timeZone: settings.timeZone };
      },
    },
    { syncCron: config.SYNC_CRON, reconcileCron: config.RECONCILE_CRON },
  );
  app.services.scheduler = scheduler;
  return {
    app,
    store,
    stop: async () => {
      scheduler.stop();
      await app.close();
      await store.close();
    },
  };
}
