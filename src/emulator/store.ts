// In-memory tables of the emulated portal. Rows keep typed internal values (see entities.ts).
// Each table keeps its IDs sorted so keyset pages (`>ID`, ORDER BY ID) start by binary search:
// the emulator must never be the bottleneck of a sync benchmark.
import { ENTITIES, type EntityName, type Row } from './entities.js';

/** Secondary indexes (field → value → ids), so `=ownerId` lookups of product rows don't scan. */
const INDEXED: Partial<Record<EntityName, string[]>> = { productrow: ['OWNER_ID'] };

export class Table {
  readonly rows = new Map<number, Row>();
  /** IDs in ascending order (kept sorted on insert and delete). */
  readonly ids: number[] = [];
  private seq = 0;
  private readonly indexes = new Map<string, Map<unknown, Set<number>>>();

  constructor(readonly entity: EntityName) {
    for (const f of INDEXED[entity] ?? []) this.indexes.set(f, new Map());
  }

  /** IDs whose `field` equals one of `values`, or undefined when the field has no index. */
  lookup(field: string, values: unknown[]): number[] | undefined {
    const idx = this.indexes.get(field);
    if (!idx) return undefined;
    const out: number[] = [];
    for (const v of values) for (const id of idx.get(v) ?? []) out.push(id);
    return out;
  }

  private index(row: Row, add: boolean): void {
    for (const [field, idx] of this.indexes) {
      const v = row[field];
      let set = idx.get(v);
      if (add) {
        if (!set) idx.set(v, (set = new Set()));
        set.add(row.ID);
      } else set?.delete(row.ID);
    }
  }

  get size(): number {
    return this.rows.size;
  }

  nextId(): number {
    return this.seq + 1;
  }

  /** Inserts a row; assigns the next ID when `row.ID` is absent. Returns the stored row. */
  insert(row: Omit<Row, 'ID'> & { ID?: number }): Row {
    const id = row.ID ?? this.seq + 1;
    if (this.rows.has(id)) throw new Error(`${this.entity} ${id} already exists`);
    // The caller's object becomes the row (no copy): generating a million rows stays fast.
    const stored = row as Row;
    stored.ID = id;
    this.rows.set(id, stored);
    this.index(stored, true);
    if (id > this.seq) this.seq = id;
    const last = this.ids[this.ids.length - 1];
    if (last === undefined || id > last) this.ids.push(id);
    else this.ids.splice(lowerBound(this.ids, id), 0, id);
    return stored;
  }

  get(id: number): Row | undefined {
    return this.rows.get(id);
  }

  update(id: number, patch: Record<string, unknown>): Row | undefined {
    const row = this.rows.get(id);
    if (!row) return undefined;
    this.index(row, false);
    Object.assign(row, patch, { ID: id });
    this.index(row, true);
    return row;
  }

  delete(id: number): boolean {
    const row = this.rows.get(id);
    if (!row) return false;
    this.index(row, false);
    this.rows.delete(id);
    const at = lowerBound(this.ids, id);
    if (this.ids[at] === id) this.ids.splice(at, 1);
    return true;
  }

  /** Rows in ID order starting at the first ID >= `fromId`. */
  *ascendingFrom(fromId: number): Generator<Row> {
    for (let i = lowerBound(this.ids, fromId); i < this.ids.length; i++) {
      const row = this.rows.get(this.ids[i]!);
      if (row) yield row;
    }
  }

  /** Rows in descending ID order starting at the last ID <= `toId`. */
  *descendingFrom(toId: number): Generator<Row> {
    for (let i = lowerBound(this.ids, toId + 1) - 1; i >= 0; i--) {
      const row = this.rows.get(this.ids[i]!);
      if (row) yield row;
    }
  }

  all(): IterableIterator<Row> {
    return this.rows.values();
  }
}

/** First index whose value is >= x. */
export function lowerBound(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class PortalData {
  readonly tables = Object.fromEntries(
    (Object.keys(ENTITIES) as EntityName[]).map((e) => [e, new Table(e)]),
  ) as Record<EntityName, Table>;

  table(entity: EntityName): Table {
    return this.tables[entity];
  }
}
