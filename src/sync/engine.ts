// The sync engine. One run per portal at a time (a lease row). Full load: reference data, then deals
// (with their product rows) and contacts by keyset ID ranges, 50 ranges of 50 IDs per request, each
// request committed in one transaction together with its checkpoint — rows of the range that the
// portal no longer has are deleted in the same transaction, so a full pass also honours deletions and
// a crash resumes from the last committed range. Incremental: by DATE_MODIFY from the portal's own
// clock with an overlap window; product rows of changed deals are re-read. Reconcile: an ID-only pass
// removing local rows the portal no longer has.
import { randomUUID } from 'node:crypto';
import type { Insertable, Kysely, Transaction } from 'kysely';
import type { PortalClients } from '../bitrix/client.js';
import { needsReauth } from '../bitrix/client.js';
import type { PortalRepo } from '../db/portals.js';
import type { Database } from '../db/schema.js';
import { CONTACT, DEAL, productRow, type KeysetEntity, type RowContext } from './entities.js';
import { syncReference } from './reference.js';
import { PortalRest, type Cmd, type RestOptions } from './rest.js';

export type SyncMode = 'full' | 'incremental' | 'reconcile';
export type RunMode = SyncMode | 'events';

/** IDs collected from CRM events for one portal. */
export interface EventChanges {
  deals: { changed: Set<number>; deleted: Set<number> };
  contacts: { changed: Set<number>; deleted: Set<number> };
}

export interface EntityCounts {
  fetched: number;
  upserted: number;
  deleted: number;
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
}

export class SyncBusyError extends Error {
  constructor(portalId: string) {
    super(`a sync of portal ${portalId} is already running`);
    this.name = 'SyncBusyError';
  }
}

const RANGE = 50;
const RANGES_PER_BATCH = 50;
/** Ranges committed together (8 requests' worth): their product rows then fill whole batches, and
 *  only each unit's last product-row batch is partial (measured: 200 → 231, 400 → fewer requests). */
const RANGES_PER_UNIT = 400;
/** Deals per product-row sub-command. Big groups win (measured on the clinic: 20 → 274 requests for a
 *  full load, 50 → 231): a group's further pages ride in the same queue, so only its last page is
 *  partial. */
const DEALS_PER_ROW_CMD = 50;

type Db = Kysely<Database>;
type Trx = Transaction<Database>;

export class SyncEngine {
  /** Lease holder of each run in progress in this engine. */
  private readonly holders = new Map<string, string>();

  constructor(
    private readonly deps: { db: Db; clients: PortalClients; portals: PortalRepo },
    private readonly opts: SyncOptions = {},
  ) {}

  async run(portalId: string, mode: SyncMode): Promise<RunSummary> {
    return this.withRun(portalId, mode, async (rest, ctx, entities, runId, progress) => {
      const effective = mode === 'incremental' && !(await this.watermark(portalId, 'deal')) ? 'full' : mode;
      if (effective !== 'reconcile') {
        const ref = await syncReference(this.deps.db, rest, portalId);
        entities.reference = { fetched: Object.values(ref).reduce((a, b) => a + b, 0), upserted: 0, deleted: 0 };
      }
      // The highest ID of each entity bounds its range pass: both in one request.
      const tops =
        effective === 'incremental'
          ? {}
          : await rest.batch(
              Object.fromEntries([DEAL, CONTACT].map((e) => [e.name, { method: e.method, params: { order: { ID: 'DESC' }, select: ['ID'], start: -1 } }])),
            );
      for (const entity of [DEAL, CONTACT] as const) {
        const counts = (entities[entity.name] = { fetched: 0, upserted: 0, deleted: 0 });
        if (entity === DEAL) entities.productrow = { fetched: 0, upserted: 0, deleted: 0 };
        if (effective === 'incremental') await this.incremental(rest, entity, ctx, counts, entities, runId, progress);
        else {
          const maxId = Number((tops[entity.name]!.result as { ID: string }[])[0]?.ID ?? 0);
          await this.rangePass(rest, entity, ctx, counts, entities, runId, effective === 'reconcile', maxId, progress);
        }
      }
    });
  }

  /**
   * Applies coalesced CRM events: one targeted batch (`@ID` filters, 50 IDs per command) re-reads
   * the changed records with their product rows; IDs the portal no longer returns, and deletion
   * events, remove the local rows.
   */
  async applyEvents(portalId: string, changes: EventChanges): Promise<RunSummary> {
    return this.withRun(portalId, 'events', async (rest, ctx, entities, _runId, progress) => {
      for (const entity of [DEAL, CONTACT] as const) {
        const c = entity === DEAL ? changes.deals : changes.contacts;
        const counts = (entities[entity.name] = { fetched: 0, upserted: 0, deleted: 0 });
        if (entity === DEAL) entities.productrow = { fetched: 0, upserted: 0, deleted: 0 };
        const ids = [...c.changed].filter((id) => !c.deleted.has(id));
        const raw: Record<string, unknown>[] = [];
        for (const part of chunk(chunk(ids, 50), 50)) {
          const cmds: Record<string, Cmd> = {};
          part.forEach((g, i) => {
            cmds[`i${i}`] = { method: entity.method, params: { filter: { '@ID': g }, select: entity.select(ctx), start: -1 } };
          });
          const res = await rest.batch(cmds);
          for (const r of Object.values(res)) raw.push(...((r.result as Record<string, unknown>[]) ?? []));
        }
        counts.fetched += raw.length;
        const rows = raw.map((r) => entity.toRow(r, ctx));
        const found = new Set(rows.map((r) => Number(r.id)));
        const gone = [...c.deleted, ...ids.filter((id) => !found.has(id))];
        const lines = entity === DEAL ? await this.fetchProductRows(rest, [...found], ctx) : [];
        if (entity === DEAL) entities.productrow!.fetched += lines.length;
        await this.deps.db.transaction().execute(async (trx) => {
          await this.fence(trx, portalId);
          if (rows.length) counts.upserted += await upsert(trx, entity.table, rows);
          for (const part of chunk(gone, 500)) {
            const res = await trx.deleteFrom(entity.table).where('portal_id', '=', portalId).where('id', 'in', part).executeTakeFirst();
            counts.deleted += Number(res.numDeletedRows);
          }
          if (entity === DEAL) {
            entities.productrow!.upserted += await replaceProductRows(trx, portalId, [...found, ...gone], lines);
          }
        });
        progress();
      }
    });
  }

  /** Lease, run log, client, error classification around one unit of sync work. */
  private async withRun(
    portalId: string,
    mode: RunMode,
    work: (rest: PortalRest, ctx: RowContext, entities: Record<string, EntityCounts>, runId: number, progress: () => void) => Promise<void>,
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
    try {
      const inserted = await db
        .insertInto('sync_run')
        .values({ portal_id: portalId, mode, status: 'running', started_at: startedAt, requests: 0, entities: '{}', error: null, finished_at: null })
        .returning('id')
        .executeTakeFirstOrThrow();
      runId = Number(inserted.id);
      const b24 = await this.deps.clients.get(portalId);
      rest = new PortalRest(b24, this.opts.rest);
      const ctx: RowContext = { portalId, syncedAt: startedAt, patientNames: this.opts.patientNames ?? false };
      const progress = () => {
        this.opts.onProgress?.(entities);
        void db.updateTable('sync_run').set({ requests: rest!.requests, entities: JSON.stringify(entities) }).where('id', '=', runId).execute();
      };
      await work(rest, ctx, entities, runId, progress);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      if (needsReauth(e)) {
        await this.deps.portals.setStatus(portalId, 'needs_reauth', error);
        this.deps.clients.forget(portalId);
      }
    } finally {
      clearInterval(renew);
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
    return { runId, mode, status: error ? 'failed' : 'finished', requests: rest?.requests ?? 0, entities, error };
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

  private async watermark(portalId: string, entity: string): Promise<string | null> {
    const r = await this.deps.db
      .selectFrom('sync_checkpoint')
      .select(['watermark', 'cursor'])
      .where('portal_id', '=', portalId)
      .where('entity', '=', entity)
      .executeTakeFirst();
    return r && r.cursor === null ? r.watermark : null;
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

  private async checkpoint(trx: Trx, portalId: string, entity: string, cursor: number | null, watermark: string | null | undefined, runId: number): Promise<void> {
    await this.fence(trx, portalId);
    const values = { cursor, run_id: runId, updated_at: new Date().toISOString(), ...(watermark !== undefined ? { watermark } : {}) };
    await trx
      .insertInto('sync_checkpoint')
      .values({ portal_id: portalId, entity, watermark: null, ...values })
      .onConflict((oc) => oc.columns(['portal_id', 'entity']).doUpdateSet(values))
      .execute();
  }

  /** Full load (or reconcile) of one entity by ID ranges, resuming from the checkpoint cursor. */
  private async rangePass(
    rest: PortalRest,
    entity: KeysetEntity<'b24_deal' | 'b24_contact'>,
    ctx: RowContext,
    counts: EntityCounts,
    all: Record<string, EntityCounts>,
    runId: number,
    idsOnly: boolean,
    maxId: number,
    progress: () => void,
  ): Promise<void> {
    const { db } = this.deps;
    const key = idsOnly ? `${entity.name}:reconcile` : entity.name;
    const cp = await db.selectFrom('sync_checkpoint').select(['cursor', 'watermark']).where('portal_id', '=', ctx.portalId).where('entity', '=', key).executeTakeFirst();
    let cursor = cp?.cursor ?? 0;
    // An open pass (a run died in it) started when an earlier run read its first range: that time,
    // kept in the checkpoint while the pass is open, is the watermark the pass ends with.
    const passStartedAt = cp?.cursor != null && cp.watermark ? cp.watermark : rest.firstServerTime;
    while (true) {
      const cmds: Cmd[] = [];
      for (let i = 0; i < RANGES_PER_UNIT && cursor + i * RANGE < maxId; i++) {
        const lo = cursor + i * RANGE;
        cmds.push({
          method: entity.method,
          params: { order: { ID: 'ASC' }, filter: { '>ID': lo, '<=ID': lo + RANGE }, select: idsOnly ? ['ID'] : entity.select(ctx), start: -1 },
        });
      }
      const n = cmds.length;
      const hi = cursor + n * RANGE;
      const last = n === 0 || hi >= maxId;
      // Past maxId at the start: rows created since are the incremental pass's job, but local rows
      // above it that the portal does not have are stale all the same.
      const upper = last ? Number.MAX_SAFE_INTEGER : hi;
      const raw: Record<string, unknown>[] = [];
      for (const part of chunk(cmds, RANGES_PER_BATCH)) {
        const res = await rest.batch(Object.fromEntries(part.map((c, i) => [`r${i}`, c])));
        for (const r of Object.values(res)) raw.push(...((r.result as Record<string, unknown>[]) ?? []));
      }
      counts.fetched += raw.length;
      const rows = idsOnly ? [] : raw.map((r) => entity.toRow(r, ctx));
      const seen = raw.map((r) => Number(r.ID));
      const lines = entity === DEAL && !idsOnly ? await this.fetchProductRows(rest, seen, ctx) : [];
      if (entity === DEAL) all.productrow!.fetched += lines.length;
      await db.transaction().execute(async (trx) => {
        if (rows.length) counts.upserted += await upsert(trx, entity.table, rows);
        counts.deleted += await deleteMissing(trx, entity.table, ctx.portalId, cursor, upper, seen);
        if (entity === DEAL && !idsOnly) all.productrow!.upserted += await replaceProductRows(trx, ctx.portalId, seen, lines);
        if (entity === DEAL) all.productrow!.deleted += await deleteOrphanRows(trx, ctx.portalId, cursor, upper);
        await this.checkpoint(trx, ctx.portalId, key, last ? null : hi, idsOnly ? undefined : passStartedAt, runId);
      });
      progress();
      if (last) break;
      cursor = hi;
    }
  }

  /**
   * Product rows of the given deals, through crm.item.productrow.list with arrays of deal IDs. Groups
   * go into batches from one queue, so the continuation of a group that filled its page (more rows
   * behind it) rides in the next batch's free slots instead of a batch of its own.
   */
  private async fetchProductRows(rest: PortalRest, dealIds: number[], ctx: RowContext): Promise<Insertable<Database['b24_product_row']>[]> {
    const out: Insertable<Database['b24_product_row']>[] = [];
    const queue = chunk(dealIds, DEALS_PER_ROW_CMD).map((ids) => ({ ids, after: 0 }));
    while (queue.length) {
      const part = queue.splice(0, 50);
      const cmds: Record<string, Cmd> = {};
      part.forEach((g, i) => {
        cmds[`g${i}`] = {
          method: 'crm.item.productrow.list',
          params: { filter: { '=ownerType': 'D', '=ownerId': g.ids, '>id': g.after }, order: { id: 'ASC' }, start: -1 },
        };
      });
      const res = await rest.batch(cmds);
      part.forEach((g, i) => {
        const rows = (res[`g${i}`]!.result as { productRows?: Record<string, unknown>[] }).productRows ?? [];
        out.push(...rows.map((r) => productRow(r, ctx)));
        // A full page may have more behind it: continue that group after its last row.
        if (rows.length === 50) queue.push({ ids: g.ids, after: Number(rows[49]!.id) });
      });
    }
    return out;
  }

  /** Changes since the watermark (minus the overlap), by offset pages packed into batches. */
  private async incremental(
    rest: PortalRest,
    entity: KeysetEntity<'b24_deal' | 'b24_contact'>,
    ctx: RowContext,
    counts: EntityCounts,
    all: Record<string, EntityCounts>,
    runId: number,
    progress: () => void,
  ): Promise<void> {
    const mark = (await this.watermark(ctx.portalId, entity.name))!;
    const since = shiftIso(mark, -(this.opts.overlapMs ?? 5 * 60_000));
    const params = { order: { ID: 'ASC' }, filter: { '>=DATE_MODIFY': since }, select: entity.select(ctx) };
    const passStartedAt = rest.firstServerTime;
    const first = await rest.call(entity.method, { ...params, start: 0 });
    const raw = [...((first.result as Record<string, unknown>[]) ?? [])];
    const total = first.total ?? raw.length;
    for (let start = 50; start < total; start += 50 * 50) {
      const cmds: Record<string, Cmd> = {};
      for (let s = start, i = 0; s < total && i < 50; s += 50, i++) cmds[`p${i}`] = { method: entity.method, params: { ...params, start: s } };
      const res = await rest.batch(cmds);
      for (const r of Object.values(res)) raw.push(...((r.result as Record<string, unknown>[]) ?? []));
    }
    counts.fetched += raw.length;
    const rows = dedupe(raw.map((r) => entity.toRow(r, ctx)));
    const ids = rows.map((r) => Number(r.id));
    const lines = entity === DEAL ? await this.fetchProductRows(rest, ids, ctx) : [];
    if (entity === DEAL) all.productrow!.fetched += lines.length;
    await this.deps.db.transaction().execute(async (trx) => {
      if (rows.length) counts.upserted += await upsert(trx, entity.table, rows);
      if (entity === DEAL) all.productrow!.upserted += await replaceProductRows(trx, ctx.portalId, ids, lines);
      await this.checkpoint(trx, ctx.portalId, entity.name, null, passStartedAt, runId);
    });
    progress();
  }
}

function chunk<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function dedupe<T extends { id?: unknown }>(rows: T[]): T[] {
  return [...new Map(rows.map((r) => [r.id, r])).values()];
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

async function upsert<T extends 'b24_deal' | 'b24_contact' | 'b24_product_row'>(trx: Trx, table: T, rows: Insertable<Database[T]>[]): Promise<number> {
  const cols = Object.keys(rows[0]!).filter((c) => c !== 'portal_id' && c !== 'id');
  for (const part of chunk(rows, 200)) {
    await trx
      .insertInto(table)
      .values(part as never)
      .onConflict((oc) =>
        oc.columns(['portal_id', 'id'] as never).doUpdateSet(Object.fromEntries(cols.map((c) => [c, (eb: { ref(x: string): unknown }) => eb.ref(`excluded.${c}`)])) as never),
      )
      .execute();
  }
  return rows.length;
}

async function deleteMissing(trx: Trx, table: 'b24_deal' | 'b24_contact', portalId: string, lo: number, hi: number, seen: number[]): Promise<number> {
  let q = trx.deleteFrom(table).where('portal_id', '=', portalId).where('id', '>', lo).where('id', '<=', hi);
  if (seen.length) q = q.where('id', 'not in', seen);
  const res = await q.executeTakeFirst();
  return Number(res.numDeletedRows);
}

async function replaceProductRows(trx: Trx, portalId: string, dealIds: number[], lines: Insertable<Database['b24_product_row']>[]): Promise<number> {
  for (const ids of chunk(dealIds, 500)) {
    await trx.deleteFrom('b24_product_row').where('portal_id', '=', portalId).where('deal_id', 'in', ids).execute();
  }
  for (const part of chunk(lines, 200)) await trx.insertInto('b24_product_row').values(part).execute();
  return lines.length;
}

/** Product rows whose deal (in the range) is gone. */
async function deleteOrphanRows(trx: Trx, portalId: string, lo: number, hi: number): Promise<number> {
  const res = await trx
    .deleteFrom('b24_product_row')
    .where('portal_id', '=', portalId)
    .where('deal_id', '>', lo)
    .where('deal_id', '<=', hi)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('b24_deal as d').select('d.id').whereRef('d.portal_id', '=', 'b24_product_row.portal_id').whereRef('d.id', '=', 'b24_product_row.deal_id'))),
    )
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}
