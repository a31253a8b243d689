// Starting syncs on request (install, the admin's button) and reading where they stand, for the admin
// API, its progress stream and the page. The run log (sync_run) is the source: the engine writes
// per-entity progress into its running row, so every instance sees the same progress.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Portal } from '../db/portals.js';
import type { Database, SyncRunTable } from '../db/schema.js';
import { SyncBusyError, type EntityCounts, type SyncEngine, type SyncMode } from '../sync/engine.js';

export interface Run {
  id: number;
  mode: SyncRunTable['mode'];
  status: SyncRunTable['status'];
  startedAt: string;
  finishedAt: string | null;
  requests: number;
  entities: Record<string, EntityCounts>;
  error: string | null;
}

export interface SyncStatus {
  auth: 'ok' | 'needs_reauth';
  running: Run | null;
  runs: Run[];
  /** What went wrong last, in words an admin can act on; null when the last run went fine. */
  lastError: string | null;
}

export type StartResult = { runId: number } | { busy: true; runId: number | null };

const RECENT_RUNS = 20;

function toRun(r: SyncRunTable & { id: number }): Run {
  let entities: Record<string, EntityCounts> = {};
  try {
    entities = JSON.parse(r.entities) as Record<string, EntityCounts>;
  } catch {
    // A row cut short keeps an empty progress rather than failing the status.
  }
  return {
    id: Number(r.id),
    mode: r.mode,
    status: r.status,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    requests: Number(r.requests),
    entities,
    error: r.error,
  };
}

/** Turns stored error texts into a sentence for the admin screen. */
export function plainError(portal: Pick<Portal, 'status' | 'statusReason'>, lastRun: Run | undefined): string | null {
  if (portal.status === 'needs_reauth') {
    return `Bitrix24 no longer accepts the app's authorisation, so syncing has stopped. A portal administrator should open the app (or reinstall it) to restore it.${portal.statusReason ? ` Details: ${portal.statusReason}` : ''}`;
  }
  if (portal.status === 'uninstalled') return 'The app was uninstalled from the portal; nothing is synced any more.';
  if (!lastRun || lastRun.status !== 'failed' || !lastRun.error) return null;
  const e = lastRun.error;
  if (/abandoned/.test(e)) return 'The last sync was interrupted (the server restarted). The next sync continues where it stopped.';
  if (/QUERY_LIMIT|OPERATION_TIME_LIMIT|429|503/.test(e)) return `Bitrix24 asked us to slow down and the last sync gave up; it will be retried. Details: ${e}`;
  if (/ECONNREFUSED|ENOTFOUND|timeout|NETWORK|socket/i.test(e)) return `The portal could not be reached during the last sync; it will be retried. Details: ${e}`;
  return `The last sync failed: ${e}`;
}

export class SyncControl {
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly deps: { db: Kysely<Database>; engine: Pick<SyncEngine, 'run'>; log: Logger },
    private readonly opts: { pollMs?: number } = {},
  ) {}

  private async latestId(portalId: string): Promise<number> {
    const r = await this.deps.db
      .selectFrom('sync_run')
      .select((eb) => eb.fn.max('id').as('id'))
      .where('portal_id', '=', portalId)
      .executeTakeFirst();
    return Number(r?.id ?? 0);
  }

  private async runningId(portalId: string): Promise<number | null> {
    const r = await this.deps.db
      .selectFrom('sync_run')
      .select('id')
      .where('portal_id', '=', portalId)
      .where('status', '=', 'running')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    return r ? Number(r.id) : null;
  }

  private async leaseHeld(portalId: string): Promise<boolean> {
    const r = await this.deps.db.selectFrom('sync_lease').select('expires_at').where('portal_id', '=', portalId).executeTakeFirst();
    return !!r && Number(r.expires_at) > Date.now();
  }

  /** Starts a run in the background and answers with its id as soon as its row exists. */
  async start(portalId: string, mode: SyncMode): Promise<StartResult> {
    if (await this.leaseHeld(portalId)) return { busy: true, runId: await this.runningId(portalId) };
    const before = await this.latestId(portalId);
    const outcome: { settled: { ok: true } | { ok: false; error: unknown } | null } = { settled: null };
    const p = this.deps.engine.run(portalId, mode).then(
      (run) => {
        outcome.settled = { ok: true };
        this.deps.log.info({ portalId, mode, runId: run.runId, status: run.status, requests: run.requests, error: run.error }, 'sync run ended');
      },
      (error: unknown) => {
        outcome.settled = { ok: false, error };
        if (!(error instanceof SyncBusyError)) this.deps.log.error({ portalId, mode, err: error instanceof Error ? error.message : String(error) }, 'sync run could not start');
      },
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    // The engine creates the run row right after taking the lease; wait for that row (or the end).
    for (;;) {
      const id = await this.latestId(portalId);
      if (id > before) return { runId: id };
      const s = outcome.settled;
      if (s && !s.ok) {
        if (s.error instanceof SyncBusyError) return { busy: true, runId: await this.runningId(portalId) };
        throw s.error;
      }
      await new Promise((r) => setTimeout(r, this.opts.pollMs ?? 15));
    }
  }

  async status(portal: Pick<Portal, 'portalId' | 'status' | 'statusReason'>): Promise<SyncStatus> {
    const rows = await this.deps.db
      .selectFrom('sync_run')
      .selectAll()
      .where('portal_id', '=', portal.portalId)
      .orderBy('id', 'desc')
      .limit(RECENT_RUNS)
      .execute();
    const runs = rows.map((r) => toRun(r as SyncRunTable & { id: number }));
    const running = runs.find((r) => r.status === 'running') ?? null;
    const lastDone = runs.find((r) => r.status !== 'running');
    return {
      auth: portal.status === 'needs_reauth' ? 'needs_reauth' : 'ok',
      running,
      runs,
      lastError: plainError(portal, lastDone),
    };
  }

  /** Resolves when every run started here has ended (tests, shutdown). */
  async settle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }
}
