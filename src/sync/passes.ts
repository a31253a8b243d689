// The passes of a run, each a source of commands for the shared batch queue (batcher.ts) and the
// owner of its commits:
//   RangePass        full load or reconcile of one entity by 50-ID keyset ranges, committed in units
//                    of UNIT_RANGES ranges, each unit in one transaction with its checkpoint (and the
//                    deletion of the unit's rows the portal no longer has), in ID order;
//   IncrementalPass  changes since a watermark, by DATE_MODIFY, committed once with the new watermark;
//   EventPass        the records named by coalesced CRM events (`@ID`), committed once.
// Deals bring their product rows (RowStreams); a unit commits only when all of them are read.
import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { PAGE_SIZE, RowStreams, type Job, type Line, type RowSink, type Source } from './batcher.js';
import { DEAL, type KeysetEntity, type RowContext } from './entities.js';
import type { PortalRest } from './rest.js';

export interface EntityCounts {
  fetched: number;
  upserted: number;
  deleted: number;
}

type Db = Kysely<Database>;
export type Trx = Transaction<Database>;
type Entity = KeysetEntity<'b24_deal' | 'b24_contact'>;
type EntityRow = Insertable<Database['b24_deal']> | Insertable<Database['b24_contact']>;

const RANGE = 50;
/** Ranges per commit unit (2 500 IDs): a unit's product rows are a few batches' worth, so a crash
 *  loses little and memory stays small; batches are filled across units, so the size costs nothing. */
const UNIT_RANGES = 50;
/** Uncommitted units a pass may have open (bounds memory while product-row groups finish). */
const MAX_OPEN_UNITS = 8;

export interface PassContext {
  db: Db;
  rest: PortalRest;
  ctx: RowContext;
  runId: number;
  entities: Record<string, EntityCounts>;
  progress(): void;
  /** First statement of every commit: the lease must still be this run's (it throws otherwise);
   *  in a full run's first commit it also marks every pass of the run open. */
  begin(trx: Trx): Promise<void>;
}

function countsOf(p: PassContext, name: string): EntityCounts {
  return (p.entities[name] ??= { fetched: 0, upserted: 0, deleted: 0 });
}

export async function checkpoint(trx: Trx, portalId: string, entity: string, cursor: number | null, watermark: string | null | undefined, runId: number): Promise<void> {
  const values = { cursor, run_id: runId, updated_at: new Date().toISOString(), ...(watermark !== undefined ? { watermark } : {}) };
  await trx
    .insertInto('sync_checkpoint')
    .values({ portal_id: portalId, entity, watermark: null, ...values })
    .onConflict((oc) => oc.columns(['portal_id', 'entity']).doUpdateSet(values))
    .execute();
}

interface Unit extends RowSink {
  /** IDs in (lo, hi]. */
  lo: number;
  hi: number;
  /** Range commands sent and not answered yet. */
  waiting: number;
  rows: EntityRow[];
  seen: number[];
  /** Its product-row groups are queued (deals) — or there are none to queue. */
  grouped: boolean;
}

/** Full load (or, ID-only, reconcile) of one entity by ID ranges, from `cursor` up. */
export class RangePass implements Source {
  finished = false;
  private maxId: number | undefined;
  private probed = false;
  private next: number;
  private readonly units: Unit[] = [];
  private readonly counts: EntityCounts;
  private readonly rowCounts?: EntityCounts;
  private readonly streams?: RowStreams;

  constructor(
    private readonly p: PassContext,
    private readonly entity: Entity,
    private readonly o: {
      idsOnly: boolean;
      /** The checkpoint row of this pass. */
      key: string;
      /** Committed up to here (0: from the start). */
      cursor: number;
      /** The server time this pass started at, when it is a resumed one (else the run's start). */
      startedAt: string | null;
    },
  ) {
    this.next = o.cursor;
    this.counts = countsOf(p, entity.name);
    if (entity === DEAL) {
      this.rowCounts = countsOf(p, 'productrow');
      if (!o.idsOnly) this.streams = new RowStreams(p.ctx);
    }
  }

  get key(): string {
    return this.o.key;
  }

  /** The watermark the pass ends with: the server time at its start. */
  get startedAt(): string | null {
    return this.o.startedAt ?? this.p.rest.firstServerTime;
  }

  take(max: number): Job[] {
    const out: Job[] = [];
    if (!this.probed && max > 0) {
      // The highest ID bounds the pass. Ranges of the first unit go out alongside it unseen.
      this.probed = true;
      out.push({
        cmd: { method: this.entity.method, params: { order: { ID: 'DESC' }, select: ['ID'], start: -1 } },
        done: (r) => {
          this.maxId = Number((r.result as { ID: string }[] | undefined)?.[0]?.ID ?? 0);
        },
      });
    }
    if (this.streams) out.push(...this.streams.take(max - out.length));
    while (out.length < max) {
      const job = this.range();
      if (!job) break;
      out.push(job);
    }
    return out;
  }

  spare(max: number): Job[] {
    return this.streams?.spare(max) ?? [];
  }

  private range(): Job | undefined {
    const lo = this.next;
    if (lo >= (this.maxId ?? this.o.cursor + UNIT_RANGES * RANGE)) return undefined;
    let u = this.units.at(-1);
    if (!u || lo >= u.hi) {
      if (this.units.length >= MAX_OPEN_UNITS) return undefined;
      u = { lo, hi: lo + UNIT_RANGES * RANGE, waiting: 0, rows: [], seen: [], grouped: false, lines: [], open: 0 };
      this.units.push(u);
    }
    const unit = u;
    unit.waiting++;
    this.next = lo + RANGE;
    const { entity, p } = this;
    return {
      cmd: {
        method: entity.method,
        params: { order: { ID: 'ASC' }, filter: { '>ID': lo, '<=ID': lo + RANGE }, select: this.o.idsOnly ? ['ID'] : entity.select(p.ctx), start: -1 },
      },
      done: (r) => {
        const raw = (r.result as Record<string, unknown>[] | undefined) ?? [];
        this.counts.fetched += raw.length;
        for (const x of raw) {
          unit.seen.push(Number(x.ID));
          if (!this.o.idsOnly) unit.rows.push(entity.toRow(x, p.ctx));
        }
        unit.waiting--;
      },
    };
  }

  /** Every range of the unit has been sent. */
  private issued(u: Unit): boolean {
    return this.next >= u.hi || (this.maxId !== undefined && this.next >= this.maxId);
  }

  async settle(): Promise<boolean> {
    if (this.finished) return false;
    for (const u of this.units) {
      if (!u.grouped && u.waiting === 0 && this.issued(u)) {
        u.grouped = true;
        this.streams?.add(u.seen, u);
      }
    }
    // Nothing (left) to read below the top: one empty last unit still removes stale rows above.
    if (!this.units.length && this.maxId !== undefined && this.next >= this.maxId) {
      this.units.push({ lo: this.next, hi: this.next, waiting: 0, rows: [], seen: [], grouped: true, lines: [], open: 0 });
    }
    let did = false;
    while (this.units.length && this.maxId !== undefined) {
      const u = this.units[0]!;
      if (!u.grouped || u.open > 0) break;
      this.units.shift();
      await this.commit(u, u.hi >= this.maxId);
      did = true;
      if (this.finished) break;
    }
    return did;
  }

  private async commit(u: Unit, last: boolean): Promise<void> {
    const { p, entity, o } = this;
    // Past the top at the start: rows created since are the incremental pass's job, but local rows
    // above it that the portal does not have are stale all the same.
    const upper = last ? Number.MAX_SAFE_INTEGER : u.hi;
    if (this.rowCounts) this.rowCounts.fetched += u.lines.length;
    await p.db.transaction().execute(async (trx) => {
      await p.begin(trx);
      if (u.rows.length) this.counts.upserted += await upsert(trx, entity.table, u.rows);
      this.counts.deleted += await deleteMissing(trx, entity.table, p.ctx.portalId, u.lo, upper, u.seen);
      if (this.streams) this.rowCounts!.upserted += await replaceProductRows(trx, p.ctx.portalId, u.seen, u.lines);
      if (this.rowCounts) this.rowCounts.deleted += await deleteOrphanRows(trx, p.ctx.portalId, u.lo, upper);
      await checkpoint(trx, p.ctx.portalId, o.key, last ? null : u.hi, o.idsOnly ? undefined : this.startedAt, p.runId);
    });
    if (last) this.finished = true;
    p.progress();
  }
}

/** Rows of one entity read by ID: offset pages of a filter, or `@ID` lists. Deals bring their
 *  product rows; everything commits in one transaction at the end. */
abstract class ListPass implements Source {
  finished = false;
  protected readonly queue: Job[] = [];
  protected waiting = 0;
  protected readonly rows = new Map<number, EntityRow>();
  protected readonly sink: RowSink = { lines: [], open: 0 };
  protected readonly counts: EntityCounts;
  protected readonly rowCounts?: EntityCounts;
  protected readonly streams?: RowStreams;

  constructor(
    protected readonly p: PassContext,
    protected readonly entity: Entity,
  ) {
    this.counts = countsOf(p, entity.name);
    if (entity === DEAL) {
      this.rowCounts = countsOf(p, 'productrow');
      this.streams = new RowStreams(p.ctx);
    }
  }

  take(max: number): Job[] {
    const out = this.queue.splice(0, max);
    this.waiting += out.length;
    if (this.streams) out.push(...this.streams.take(max - out.length));
    return out;
  }

  spare(max: number): Job[] {
    return this.streams?.spare(max) ?? [];
  }

  protected list(params: Record<string, unknown>, then?: (r: { total?: number }) => void): Job {
    return {
      cmd: { method: this.entity.method, params: { ...params, select: this.entity.select(this.p.ctx) } },
      done: (r) => {
        this.waiting--;
        const raw = (r.result as Record<string, unknown>[] | undefined) ?? [];
        this.counts.fetched += raw.length;
        const fresh: number[] = [];
        for (const x of raw) {
          const row = this.entity.toRow(x, this.p.ctx);
          const id = Number(row.id);
          // Offset pages over a set that changes meanwhile can repeat a record.
          if (!this.rows.has(id)) fresh.push(id);
          this.rows.set(id, row);
        }
        this.streams?.add(fresh, this.sink);
        then?.(r);
      },
    };
  }

  async settle(): Promise<boolean> {
    if (this.finished || this.queue.length || this.waiting || this.sink.open) return false;
    if (this.rowCounts) this.rowCounts.fetched += this.sink.lines.length;
    await this.p.db.transaction().execute(async (trx) => {
      await this.p.begin(trx);
      await this.write(trx);
    });
    this.finished = true;
    this.p.progress();
    return true;
  }

  protected abstract write(trx: Trx): Promise<void>;
}

/** Changes since the watermark (minus the overlap): a counted first page, then the other pages. */
export class IncrementalPass extends ListPass {
  constructor(p: PassContext, entity: Entity, since: string) {
    super(p, entity);
    const params = { order: { ID: 'ASC' }, filter: { '>=DATE_MODIFY': since } };
    this.queue.push(
      this.list({ ...params, start: 0 }, (r) => {
        for (let start = PAGE_SIZE; start < (r.total ?? 0); start += PAGE_SIZE) this.queue.push(this.list({ ...params, start }));
      }),
    );
  }

  protected async write(trx: Trx): Promise<void> {
    const { p } = this;
    const rows = [...this.rows.values()];
    if (rows.length) this.counts.upserted += await upsert(trx, this.entity.table, rows);
    if (this.rowCounts) this.rowCounts.upserted += await replaceProductRows(trx, p.ctx.portalId, [...this.rows.keys()], this.sink.lines);
    // The run's first answer came before any of this pass's pages were read.
    await checkpoint(trx, p.ctx.portalId, this.entity.name, null, p.rest.firstServerTime, p.runId);
  }
}

/** The records named by CRM events (`@ID`, 50 a command); IDs the portal no longer returns, and
 *  deletion events, remove the local rows (and their product rows). */
export class EventPass extends ListPass {
  constructor(
    p: PassContext,
    entity: Entity,
    private readonly changed: number[],
    private readonly deleted: number[],
  ) {
    super(p, entity);
    for (let i = 0; i < changed.length; i += 50) this.queue.push(this.list({ filter: { '@ID': changed.slice(i, i + 50) }, start: -1 }));
  }

  protected async write(trx: Trx): Promise<void> {
    const { p } = this;
    const found = [...this.rows.keys()];
    const gone = [...this.deleted, ...this.changed.filter((id) => !this.rows.has(id))];
    if (found.length) this.counts.upserted += await upsert(trx, this.entity.table, [...this.rows.values()]);
    for (const part of chunk(gone, 500)) {
      const res = await trx.deleteFrom(this.entity.table).where('portal_id', '=', p.ctx.portalId).where('id', 'in', part).executeTakeFirst();
      this.counts.deleted += Number(res.numDeletedRows);
    }
    if (this.rowCounts) this.rowCounts.upserted += await replaceProductRows(trx, p.ctx.portalId, [...found, ...gone], this.sink.lines);
  }
}

export function chunk<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

async function upsert<T extends 'b24_deal' | 'b24_contact'>(trx: Trx, table: T, rows: Insertable<Database[T]>[] | EntityRow[]): Promise<number> {
  const cols = Object.keys(rows[0]!).filter((c) => c !== 'portal_id' && c !== 'id');
  for (const part of chunk(rows as unknown[], 200)) {
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

async function replaceProductRows(trx: Trx, portalId: string, dealIds: number[], lines: Line[]): Promise<number> {
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
