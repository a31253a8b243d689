// The sync engine. One run per portal at a time (a lease row). A run is a set of passes (passes.ts)
// feeding one batch queue (batcher.ts), so every request carries up to 50 commands whatever pass
// they belong to. Full load: reference data, then deals (with their product rows) and contacts by
// keyset ID ranges, each unit of ranges committed in one transaction together with its checkpoint —
// rows of the unit that the portal no longer has are deleted in the same transaction, so a full pass
// also honours deletions and a crash resumes from the last committed unit, in the pass it stopped in.
// Incremental: by DATE_MODIFY from the portal's own clock with an overlap window; product rows of
// changed deals are re-read. Reconcile: an ID-only pass removing local rows the portal no longer has.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { PortalClients } from '../bitrix/client.js';
import { needsReauth } from '../bitrix/client.js';
import type { PortalRepo } from '../db/portals.js';
import type { Database } from '../db/schema.js';
import { drive, type Source } from './batcher.js';
import { CONTACT, DEAL, type RowContext } from './entities.js';
import { EventPass, IncrementalPass, RangePass, checkpoint, type EntityCounts, type PassContext, type Trx } from './passes.js';
import { ReferenceLoad } from './reference.js';
import { PortalRest, type RestOptions } from './rest.js';

export type { EntityCounts } from './passes.js';

export type SyncMode = 'full' | 'incremental' | 'reconcile';
export type RunMode = SyncMode | 'events';

/** IDs collected from CRM events for one portal. */
export interface EventChanges {
  deals: { changed: Set<number>; deleted: Set<number> };
  contacts: { changed: Set<number>; deleted: Set<number> };
}

export interface RunSummary {
  runId: number;
  mode: RunMode;
  status: 'finished' | 'failed';
  requests: number;
  entities: Record<string, EntityCounts>;
  error: string | null;
}

export interface SyncOptions {
  /** Overlap of incremental windows, for equal timestamps and clock shifts. */
  overlapMs?: number;
  leaseMs?: number;
  patientNames?: boolean;
  rest?: RestOptions;
  /** Called after every committed unit of work (progress for the admin screen). */
  onProgress?: (entities: Record<string, EntityCounts>) => void;
  /** Called when a run has ended and released its lease (the app refreshes the clinic facts). */
  onRunEnd?: (portalId: string, run: RunSummary) => void;
  /** Incremental runs re-read reference data when it is older than this (full and reconcile runs
   *  always do); it rides in the run's first batch. Default 1 hour. */
  referenceMaxAgeMs?: number;
}

export class SyncBusyError extends Error {
  constructor(portalId: string) {
    super(`a sync of portal ${portalId} is already running`);
    this.name = 'SyncBusyError';
  }
}

/** The entities a full, incremental or reconcile run covers, in this order. */
const ENTITIES = [DEAL, CONTACT] as const;
const REFERENCE = 'reference';

type Db = Kysely<Database>;

export class SyncEngine {
  /** Lease holder of each run in progress in this engine. */
  private readonly holders = new Map<string, string>();

  constructor(
    private readonly deps: { db: Db; clients: PortalClients; portals: PortalRepo },
    private readonly opts: SyncOptions = {},
  ) {}

  async run(portalId: string, mode: SyncMode): Promise<RunSummary> {
    return this.withRun(portalId, mode, async (p) => {
      const cps = new Map(
        (await this.deps.db.selectFrom('sync_checkpoint').selectAll().where('portal_id', '=', portalId).execute()).map((c) => [c.entity, c]),
      );
      // Incremental needs every entity's last full pass complete; otherwise the full load goes on.
      const complete = ENTITIES.every((e) => cps.get(e.name)?.cursor === null && cps.get(e.name)?.watermark);
      const effective = mode === 'incremental' && !complete ? 'full' : mode;
      const sources: Source[] = [];
      const refAt = cps.get(REFERENCE)?.updated_at;
      if (effective !== 'incremental' || !refAt || Date.now() - Date.parse(refAt) > (this.opts.referenceMaxAgeMs ?? 3_600_000)) {
        sources.push(
          new ReferenceLoad(
            this.deps.db,
            portalId,
            async (trx) => {
              await p.begin(trx);
              await checkpoint(trx, portalId, REFERENCE, null, p.rest.firstServerTime, p.runId);
            },
            (counts) => {
              p.entities.reference = { fetched: Object.values(counts).reduce((a, b) => a + b, 0), upserted: 0, deleted: 0 };
            },
          ),
        );
      }
      if (effective === 'incremental') {
        const overlap = this.opts.overlapMs ?? 5 * 60_000;
        for (const e of ENTITIES) sources.push(new IncrementalPass(p, e, shiftIso(cps.get(e.name)!.watermark!, -overlap)));
      } else {
        const idsOnly = effective === 'reconcile';
        const keys = ENTITIES.map((e) => (idsOnly ? `${e.name}:reconcile` : e.name));
        // A pass is open (cursor set) from its run's first commit until its last unit. When every
        // pass of the mode is complete, a new generation starts from the beginning; otherwise the
        // open ones (and any never run) continue and the complete ones are not read again.
        const fresh = keys.every((k) => cps.get(k)?.cursor === null);
        const passes: RangePass[] = [];
        ENTITIES.forEach((e, i) => {
          const cp = cps.get(keys[i]!);
          if (!fresh && cp?.cursor === null) {
            p.entities[e.name] = { fetched: 0, upserted: 0, deleted: 0 };
            if (e === DEAL) p.entities.productrow = { fetched: 0, upserted: 0, deleted: 0 };
            return;
          }
          const open = !fresh && cp?.cursor != null;
          // An open pass started when an earlier run read its first range: that time, kept in the
          // checkpoint while the pass is open, is the watermark the pass ends with.
          passes.push(new RangePass(p, e, { idsOnly, key: keys[i]!, cursor: open ? cp.cursor! : 0, startedAt: open ? cp.watermark : null }));
        });
        // The run's first commit marks all its passes open, so a crash in a later one resumes there
        // instead of starting over (an absent or closed checkpoint would say "not started").
        let opened = false;
        const begin = p.begin;
        p.begin = async (trx) => {
          await begin(trx);
          if (opened) return;
          for (const pass of passes) {
            const cp = cps.get(pass.key);
            if (fresh || cp?.cursor == null) await checkpoint(trx, portalId, pass.key, 0, idsOnly ? undefined : pass.startedAt, p.runId);
          }
          opened = true;
        };
        sources.push(...passes);
      }
      await drive(p.rest, sources);
    });
  }

  /**
   * Applies coalesced CRM events: one targeted batch (`@ID` filters, 50 IDs per command) re-reads
   * the changed records, their product rows in the next; IDs the portal no longer returns, and
   * deletion events, remove the local rows.
   */
  async applyEvents(portalId: string, changes: EventChanges): Promise<RunSummary> {
    return this.withRun(portalId, 'events', async (p) => {
      const sources = ENTITIES.map((e) => {
        const c = e === DEAL ? changes.deals : changes.contacts;
        return new EventPass(p, e, [...c.changed].filter((id) => !c.deleted.has(id)), [...c.deleted]);
      });
      await drive(p.rest, sources);
    });
  }

  /** Lease, run log, client, error classification around one unit of sync work. */
  private async withRun(
    portalId: string,
    mode: RunMode,
    work: (p: PassContext) => Promise<void>,
  ): Promise<RunSummary> {
    const holder = randomUUID();
    if (!(await this.acquireLease(portalId, holder))) throw new SyncBusyError(portalId);
    this.holders.set(portalId, holder);
    // Renewal only extends this holder's row: it never re-creates a released or taken lease. A failed
    // renewal is no reason to stop by itself (the commits are fenced), nor an unhandled rejection.
    const renew = setInterval(() => void this.renewLease(portalId, holder).catch(() => false), (this.opts.leaseMs ?? 120_000) / 3);
    const { db } = this.deps;
    const startedAt = new Date().toISOString();
    // Holding the lease, no other run of this portal is alive: a 'running' row is one whose process
    // died (killed, crashed) and could not say so.
    await db
      .updateTable('sync_run')
      .set({ status: 'failed', finished_at: startedAt, error: 'abandoned: the process running it stopped' })
      .where('portal_id', '=', portalId)
      .where('status', '=', 'running')
      .execute();
    let runId = 0;
    const entities: Record<string, EntityCounts> = {};
    let rest: PortalRest | undefined;
    let error: string | null = null;
    let logged: Promise<unknown> = Promise.resolve();
    try {
      const inserted = await db
        .insertInto('sync_run')
        .values({ portal_id: portalId, mode, status: 'running', started_at: startedAt, requests: 0, entities: '{}', error: null, finished_at: null })
        .returning('id')
        .executeTakeFirstOrThrow();
      runId = Number(inserted.id);
      const b24 = await this.deps.clients.get(portalId);
      const r = (rest = new PortalRest(b24, this.opts.rest));
      const ctx: RowContext = { portalId, syncedAt: startedAt, patientNames: this.opts.patientNames ?? false };
      await work({
        db,
        rest: r,
        ctx,
        runId,
        entities,
        // Progress goes into the run log in the background, one write after another, and the final
        // write waits for them; a failed one is not the run's failure.
        progress: () => {
          this.opts.onProgress?.(entities);
          const snapshot = { requests: r.requests, entities: JSON.stringify(entities) };
          logged = logged.then(() => db.updateTable('sync_run').set(snapshot).where('id', '=', runId).execute()).catch(() => undefined);
        },
        begin: (trx) => this.fence(trx, portalId),
      });
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      if (needsReauth(e)) {
        await this.deps.portals.setStatus(portalId, 'needs_reauth', error);
        this.deps.clients.forget(portalId);
      }
    } finally {
      clearInterval(renew);
      await logged;
      if (runId) {
        await db
          .updateTable('sync_run')
          .set({ status: error ? 'failed' : 'finished', finished_at: new Date().toISOString(), requests: rest?.requests ?? 0, entities: JSON.stringify(entities), error })
          .where('id', '=', runId)
          .execute();
      }
      await db.deleteFrom('sync_lease').where('portal_id', '=', portalId).where('holder', '=', holder).execute();
      this.holders.delete(portalId);
    }
    const summary: RunSummary = { runId, mode, status: error ? 'failed' : 'finished', requests: rest?.requests ?? 0, entities, error };
    if (runId) this.opts.onRunEnd?.(portalId, summary);
    return summary;
  }

  /** Takes or renews the portal's lease; a lease whose holder stopped renewing expires. */
  async acquireLease(portalId: string, holder: string): Promise<boolean> {
    const now = Date.now();
    const expires = now + (this.opts.leaseMs ?? 120_000);
    await this.deps.db
      .insertInto('sync_lease')
      .values({ portal_id: portalId, holder, expires_at: expires })
      .onConflict((oc) =>
        oc
          .column('portal_id')
          .doUpdateSet({ holder, expires_at: expires })
          .where((eb) => eb.or([eb('sync_lease.expires_at', '<', now), eb('sync_lease.holder', '=', holder)])),
      )
      .execute();
    const row = await this.deps.db.selectFrom('sync_lease').select('holder').where('portal_id', '=', portalId).executeTakeFirst();
    return row?.holder === holder;
  }

  /** Extends the lease while `holder` has it; false when it is gone (released, or taken after expiry). */
  private async renewLease(portalId: string, holder: string, db: Db | Trx = this.deps.db): Promise<boolean> {
    const res = await db
      .updateTable('sync_lease')
      .set({ expires_at: Date.now() + (this.opts.leaseMs ?? 120_000) })
      .where('portal_id', '=', portalId)
      .where('holder', '=', holder)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** First thing in every commit: the lease must still be this run's. The row lock the renewal takes
   *  keeps a competing `acquireLease` waiting until the commit is done. */
  private async fence(trx: Trx, portalId: string): Promise<void> {
    if (!(await this.renewLease(portalId, this.holders.get(portalId) ?? '', trx))) {
      throw new Error(`the sync lease of portal ${portalId} was lost to another instance; this run stops`);
    }
  }
}

function shiftIso(iso: string, ms: number): string {
  // Keep the portal's own offset notation: the value goes back to that portal's filter.
  const off = /([+-]\d{2}:\d{2}|Z)$/.exec(iso)?.[1] ?? 'Z';
  const t = Date.parse(iso) + ms;
  if (off === 'Z') return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const sign = off[0] === '-' ? -1 : 1;
  const mins = sign * (Number(off.slice(1, 3)) * 60 + Number(off.slice(4, 6)));
  return new Date(t + mins * 60_000).toISOString().replace(/\.\d{3}Z$/, off);
}
