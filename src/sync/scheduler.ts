// Scheduled syncs with node-cron, per portal: an incremental run on the portal's own cron expression
// (clinic settings) or SYNC_CRON, and a reconciliation (deletions) on its own or RECONCILE_CRON. The
// plan is refreshed every minute, so a changed schedule, a new install or an uninstall takes effect
// without a restart. A portal already syncing (here or in another instance, through the lease) is
// skipped until its next tick; failures are in the run log.
import { schedule, validate, type ScheduledTask } from 'node-cron';
import type { PortalRepo } from '../db/portals.js';
import { SyncBusyError, type RunSummary, type SyncEngine, type SyncMode } from './engine.js';

export interface SchedulerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** A portal's own cron expressions; null or absent = the app's default. */
export interface PortalSchedule {
  incremental?: string | null;
  reconcile?: string | null;
  /** The clinic's IANA zone: "30 3 * * *" is half past three there, not on the server's clock. */
  timeZone?: string | null;
}

export function assertCron(name: string, expr: string): void {
  if (!validate(expr)) throw new Error(`${name} is not a valid cron expression: "${expr}"`);
}

/** The cron expression in force: the portal's own when it is valid, else the app's default. */
function cronInForce(own: string | null | undefined, fallback: string): string {
  return own && validate(own) ? own : fallback;
}

const MODES = ['incremental', 'reconcile'] as const;
type ScheduledMode = (typeof MODES)[number];

export interface Scheduler {
  stop(): void;
  /** Runs `mode` for every active portal now (what a cron tick does for one portal). */
  tick(mode: SyncMode): Promise<RunSummary[]>;
  /** Re-reads portals and their schedules; the scheduler does it every minute. */
  plan(): Promise<void>;
  /** The cron expressions in force per portal. */
  schedules(): Map<string, Record<ScheduledMode, string>>;
  /** A planned portal's incremental schedule and its next run (undefined until planned). */
  nextIncremental(portalId: string): { cron: string; at: Date | null } | undefined;
}

export function startScheduler(
  deps: {
    engine: Pick<SyncEngine, 'run'>;
    portals: Pick<PortalRepo, 'list'>;
    log: SchedulerLog;
    scheduleOf?: (portalId: string) => Promise<PortalSchedule>;
  },
  cfg: { syncCron: string; reconcileCron: string; planEveryMs?: number },
): Scheduler {
  assertCron('SYNC_CRON', cfg.syncCron);
  assertCron('RECONCILE_CRON', cfg.reconcileCron);
  const defaults: Record<ScheduledMode, string> = { incremental: cfg.syncCron, reconcile: cfg.reconcileCron };

  const runOne = async (portalId: string, mode: SyncMode): Promise<RunSummary | null> => {
    try {
      const run = await deps.engine.run(portalId, mode);
      const log = run.status === 'failed' ? deps.log.warn.bind(deps.log) : deps.log.info.bind(deps.log);
      log({ portalId, mode, runId: run.runId, requests: run.requests, error: run.error }, `scheduled ${mode} sync ${run.status}`);
      return run;
    } catch (e) {
      if (!(e instanceof SyncBusyError)) throw e;
      deps.log.info({ portalId, mode }, 'portal is already syncing; skipped');
      return null;
    }
  };

  const tick = async (mode: SyncMode): Promise<RunSummary[]> => {
    const out: RunSummary[] = [];
    for (const p of await deps.portals.list()) {
      if (p.status !== 'active') continue;
      const run = await runOne(p.portalId, mode);
      if (run) out.push(run);
    }
    return out;
  };

  const tasks = new Map<string, { crons: Record<ScheduledMode, string>; timeZone: string | undefined; tasks: ScheduledTask[] }>();
  const stopPortal = (portalId: string) => {
    tasks.get(portalId)?.tasks.forEach((t) => void t.stop());
    tasks.delete(portalId);
  };
  const plan = async (): Promise<void> => {
    const active = (await deps.portals.list()).filter((p) => p.status === 'active');
    for (const portalId of tasks.keys()) if (!active.some((p) => p.portalId === portalId)) stopPortal(portalId);
    for (const { portalId } of active) {
      const own = deps.scheduleOf ? await deps.scheduleOf(portalId).catch(() => ({}) as PortalSchedule) : {};
      const crons = { ...defaults };
      for (const m of MODES) {
        const expr = own[m];
        crons[m] = cronInForce(expr, defaults[m]);
        if (expr && crons[m] !== expr) deps.log.warn({ portalId, mode: m, expr }, 'invalid cron expression in the portal settings; using the default');
      }
      const timeZone = own.timeZone ?? undefined;
      const cur = tasks.get(portalId);
      if (cur && cur.timeZone === timeZone && MODES.every((m) => cur.crons[m] === crons[m])) continue;
      stopPortal(portalId);
      tasks.set(portalId, {
        crons,
        timeZone,
        tasks: MODES.map((m) =>
          schedule(crons[m], () => runOne(portalId, m).then(() => undefined), {
            name: `${m}:${portalId}`,
            noOverlap: true,
            ...(timeZone ? { timezone: timeZone } : {}),
          }),
        ),
      });
    }
  };

  const planning = () =>
    plan().catch((e: unknown) => deps.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'sync schedule planning failed'));
  void planning();
  const every = setInterval(planning, cfg.planEveryMs ?? 60_000);
  every.unref();

  return {
    stop: () => {
      clearInterval(every);
      for (const portalId of [...tasks.keys()]) stopPortal(portalId);
    },
    tick,
    plan,
    schedules: () => new Map([...tasks].map(([k, v]) => [k, { ...v.crons }])),
    nextIncremental: (portalId) => {
      const p = tasks.get(portalId);
      return p && { cron: p.crons.incremental, at: p.tasks[MODES.indexOf('incremental')]!.getNextRun() };
    },
  };
}
