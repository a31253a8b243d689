// One command queue for a whole run. Every request is a batch of up to 50 commands drawn from all the
// run's sources at once — deal ID ranges, product-row groups and their continuation pages, contact
// ranges, reference data — so no batch goes out half empty at the edge of a unit or an entity; only
// the commits stay per unit. Sources are asked in priority order; what the earlier ones leave free
// the later ones fill.
import type { Insertable } from 'kysely';
import type { Database } from '../db/schema.js';
import { productRow, type RowContext } from './entities.js';
import type { Cmd, CmdResult, PortalRest } from './rest.js';

export const BATCH_SIZE = 50;
export const PAGE_SIZE = 50;

export interface Job {
  cmd: Cmd;
  done(r: CmdResult): void;
}

export interface Source {
  /** Up to `max` (maybe 0) commands that can go now, the most urgent first; called once a batch. */
  take(max: number): Job[];
  /** Commands that only use slots the batch would otherwise waste (asked after every `take`). */
  spare?(max: number): Job[];
  /** Commits what became complete; true when it did something. */
  settle(): Promise<boolean>;
  readonly finished: boolean;
}

/** Runs the sources to completion, one filled batch per request. */
export async function drive(rest: PortalRest, sources: Source[]): Promise<void> {
  while (!sources.every((s) => s.finished)) {
    const jobs: Job[] = [];
    // Every source is asked, even with no room left: a take() starts the source's new round.
    for (const s of sources) jobs.push(...s.take(BATCH_SIZE - jobs.length));
    for (const s of sources) if (jobs.length < BATCH_SIZE && s.spare) jobs.push(...s.spare(BATCH_SIZE - jobs.length));
    if (jobs.length) {
      const res = await rest.batch(Object.fromEntries(jobs.map((j, i) => [`c${i}`, j.cmd])));
      jobs.forEach((j, i) => j.done(res[`c${i}`]!));
    }
    let settled = false;
    for (const s of sources) settled = (await s.settle()) || settled;
    if (!jobs.length && !settled && !sources.every((s) => s.finished)) throw new Error('sync stalled: work pending but nothing to send (a bug)');
  }
}

export type Line = Insertable<Database['b24_product_row']>;

/** Where the product rows of a set of deals go; `open` counts its streams not yet finished. */
export interface RowSink {
  lines: Line[];
  open: number;
}

interface Stream {
  ids: number[];
  /** Keyset position: rows with a greater id are still to read. */
  after: number;
  /** Rows this stream has read (for the rows-per-deal estimate). */
  read: number;
  sink: RowSink;
}

/** Rows per group the group size aims at: ten pages, so a group's last, partial page is a small
 *  share of it, while its pages (read one per batch) do not keep a unit open for long. */
const TARGET_ROWS_PER_GROUP = 500;
/** Deals per command, at most. Every page of a group carries all its deal IDs (~37 bytes each in the
 *  command string), so bigger groups trade upload for fewer partial pages. Measured on the clinic
 *  (141 044 deals, 2.3 rows each): 100 → 205 requests, 150 → 200, 200 → 199. */
const MAX_DEALS_PER_GROUP = 150;
const MIN_DEALS_PER_GROUP = 20;

/**
 * Product rows of deals through crm.item.productrow.list with arrays of deal IDs (`=ownerId`), keyset
 * by row id. A group whose page came back full continues after its last row; continuations go before
 * new groups. Slots a batch would leave empty are used to split a group in two (both halves keep its
 * keyset position, so together they read exactly its remaining rows), which shortens the tail.
 */
export class RowStreams {
  private readonly cont: Stream[] = [];
  private readonly fresh: Stream[] = [];
  /** Streams put into the batch being assembled (spare() may split them: not yet sent). */
  private round: { s: Stream; job: Job }[] = [];
  private rows = 0;
  private deals = 0;

  constructor(private readonly ctx: RowContext) {}

  get idle(): boolean {
    return this.cont.length === 0 && this.fresh.length === 0;
  }

  /** Reads the product rows of `ids` into `sink`. */
  add(ids: number[], sink: RowSink): void {
    if (!ids.length) return;
    // Average rows per deal seen so far (3 before any): groups of about TARGET_ROWS_PER_GROUP rows.
    const perDeal = this.deals ? Math.max(this.rows / this.deals, 0.01) : 3;
    const size = Math.min(MAX_DEALS_PER_GROUP, Math.max(MIN_DEALS_PER_GROUP, Math.round(TARGET_ROWS_PER_GROUP / perDeal)));
    const n = Math.ceil(ids.length / size);
    for (let k = 0; k < n; k++) {
      this.fresh.push({ ids: ids.slice(Math.floor((k * ids.length) / n), Math.floor(((k + 1) * ids.length) / n)), after: 0, read: 0, sink });
      sink.open++;
    }
  }

  take(max: number): Job[] {
    this.round = [];
    const out: Job[] = [];
    while (out.length < max && (this.cont.length || this.fresh.length)) {
      const s = (this.cont.length ? this.cont : this.fresh).shift()!;
      const job = this.job(s);
      this.round.push({ s, job });
      out.push(job);
    }
    return out;
  }

  spare(max: number): Job[] {
    const out: Job[] = [];
    while (out.length < max) {
      // The largest group of this batch, continuations (known to have more rows) first.
      const score = (s: Stream) => (s.after > 0 ? 1e9 : 0) + s.ids.length;
      let best: { s: Stream; job: Job } | undefined;
      for (const r of this.round) if (r.s.ids.length >= 2 && (!best || score(r.s) > score(best.s))) best = r;
      if (!best) break;
      const half = best.s.ids.length >> 1;
      const other: Stream = { ids: best.s.ids.slice(half), after: best.s.after, read: 0, sink: best.s.sink };
      best.s.ids = best.s.ids.slice(0, half);
      best.job.cmd = this.cmd(best.s);
      other.sink.open++;
      const job = this.job(other);
      this.round.push({ s: other, job });
      out.push(job);
    }
    return out;
  }

  private cmd(s: Stream): Cmd {
    return {
      method: 'crm.item.productrow.list',
      params: { filter: { '=ownerType': 'D', '=ownerId': s.ids, '>id': s.after }, order: { id: 'ASC' }, start: -1 },
    };
  }

  private job(s: Stream): Job {
    return {
      cmd: this.cmd(s),
      done: (r) => {
        const rows = (r.result as { productRows?: Record<string, unknown>[] } | undefined)?.productRows ?? [];
        for (const row of rows) s.sink.lines.push(productRow(row, this.ctx));
        s.read += rows.length;
        if (rows.length >= PAGE_SIZE) {
          // A full page may have more behind it.
          s.after = Number(rows[rows.length - 1]!.id);
          this.cont.push(s);
        } else {
          this.rows += s.read;
          this.deals += s.ids.length;
          s.sink.open--;
        }
      },
    };
  }
}
