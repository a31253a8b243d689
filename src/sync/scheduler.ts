// Scheduled syncs with node-cron: an incremental run for every active portal on SYNC_CRON and a
// reconciliation (deletions) on RECONCILE_CRON. A portal already syncing (here or in another
// instance, through the lease) is skipped until the next tick; failures are in the run log.
import { schedule, validate, type ScheduledTask } from 'node-cron';
import type { PortalRepo } from '../db/portals.js';
import { SyncBusyError, type RunSummary, type SyncEngine, type SyncMode } from './engine.js';

export interface SchedulerLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export function assertCron(name: string, expr: string): void {
  if (!validate(expr)) throw new Error(`${name} is not a valid cron expression: "${expr}"`);
}

export function startScheduler(
  deps: { engine: Pick<SyncEngine, 'run'>; portals: Pick<PortalRepo, 'list'>; log: SchedulerLog },
  cfg: { syncCron: string; reconcileCron: string },
): { stop(): void; tick(mode: SyncMode): Promise<RunSummary[]> } {
  assertCron('SYNC_CRON', cfg.syncCron);
  assertCron('RECONCILE_CRON', cfg.reconcileCron);
  const tick = async (mode: SyncMode): Promise<RunSummary[]> => {
    const out: RunSummary[] = [];
    for (const p of await deps.portals.list()) {
      if (p.status !== 'active') continue;
      try {
        const run = await deps.engine.run(p.portalId, mode);
        out.push(run);
        const log = run.status === 'failed' ? deps.log.warn.bind(deps.log) : deps.log.info.bind(deps.log);
        log({ portalId: p.portalId, mode, runId: run.runId, requests: run.requests, error: run.error }, `scheduled ${mode} sync ${run.status}`);
      } catch (e) {
        if (!(e instanceof SyncBusyError)) throw e;
        deps.log.info({ portalId: p.portalId, mode }, 'portal is already syncing; skipped');
      }
    }
    return out;
  };
  const tasks: ScheduledTask[] = [
    schedule(cfg.syncCron, () => tick('incremental'), { name: 'sync-incremental', noOverlap: true }),
    schedule(cfg.reconcileCron, () => tick('reconcile'), { name: 'sync-reconcile', noOverlap: true }),
  ];
  return {
    stop: () => tasks.forEach((t) => void t.stop()),
    tick,
  };
}
