// The list engine behind every emulated `*.list` method: filter (key prefix = operator), order,
// select, fixed pages of 50, `start=-1` without a count — and the virtual cost of the page.
import type { FieldDef } from './entities.js';
import type { Row } from './entities.js';
import { RestError } from './method.js';
import { pageCost } from './limits.js';
import type { Table } from './store.js';
import { parseDate, parseDateTime } from './wire.js';

export const PAGE_SIZE = 50;

/** Legacy CDBResult (page rounding, total always), controller/RestManager (page rounding, no
 *  total/next with start=-1), ORM IRestService like user.get (exact offset). */
export type Paging = 'legacy' | 'controller' | 'orm';

type Op = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'in' | 'nin' | 'like' | 'nlike' | 'wild' | 'nwild' | 'between' | 'nbetween';

interface Cond {
  field: FieldDef;
  op: Op;
  value: unknown;
}
interface OrGroup {
  any: Filter[];
}
type Filter = { all: (Cond | OrGroup)[] };

// `><` (between) is documented only for voximplant.statistic.get; for CRM lists it is UNCONFIRMED —
// we accept it everywhere with `[from, to]` inclusive.
// Longest prefixes first so `>=` is not read as `>` + `=FIELD`.
const PREFIXES: [string, Op][] = [
  ['!><', 'nbetween'],
  ['!=%', 'nwild'],
  ['!%=', 'nwild'],
  ['><', 'between'],
  ['>=', 'ge'],
  ['<=', 'le'],
  ['!=', 'ne'],
  ['!@', 'nin'],
  ['!%', 'nlike'],
  ['=%', 'wild'],
  ['%=', 'wild'],
  ['>', 'gt'],
  ['<', 'lt'],
  ['@', 'in'],
  ['!', 'ne'],
  ['=', 'eq'],
  ['%', 'like'],
];

export function splitFilterKey(key: string): { op: Op; name: string } {
  for (const [p, op] of PREFIXES) {
    if (key.startsWith(p) && key.length > p.length) return { op, name: key.slice(p.length) };
  }
  return { op: 'eq', name: key };
}

export interface FilterOptions {
  /** Resolves a filter key's field name (without operator) to a field, or undefined if unknown. */
  resolve(name: string): FieldDef | undefined;
  /** crm.item.list rejects unknown fields with INVALID_ARG_VALUE; legacy methods drop them. */
  strict: boolean;
  /** `logic: OR` sub-filters (crm.item.list). */
  allowLogic: boolean;
  offsetMin: number;
}

function coerce(field: FieldDef, raw: unknown, offsetMin: number): unknown {
  if (Array.isArray(raw)) return raw.map((r) => coerce(field, r, offsetMin));
  if (raw === null || raw === undefined || raw === '' || raw === false) return null;
  switch (field.type) {
    case 'id':
    case 'int':
    case 'user':
    case 'money':
    case 'double':
    case 'intList': {
      const n = Number(raw);
      return Number.isFinite(n) ? n : raw;
    }
    case 'datetime':
      return parseDateTime(raw, offsetMin) ?? raw;
    case 'date':
      return parseDate(raw, offsetMin) ?? raw;
    case 'bool':
      return raw === true || raw === 'Y' || raw === '1' || raw === 1 || raw === 'true';
    case 'ufBool':
      // Filtered with 1/0 (reference §7); "Y"/"N" match nothing.
      return raw === 1 || raw === '1' ? 1 : raw === 0 || raw === '0' ? 0 : String(raw);
    default:
      return String(raw);
  }
}

export function parseFilter(raw: unknown, opts: FilterOptions): Filter {
  const out: Filter = { all: [] };
  if (raw === undefined || raw === null || raw === '') return out;
  if (typeof raw !== 'object') {
    throw new RestError('', "Parameter 'filter' must be array.", 400);
  }
  const entries = Object.entries(raw as Record<string, unknown>);
  const logic = entries.find(([k]) => k.toLowerCase() === 'logic')?.[1];
  for (const [key, value] of entries) {
    if (key.toLowerCase() === 'logic') continue;
    if (/^\d+$/.test(key) && value && typeof value === 'object' && !Array.isArray(value)) {
      if (!opts.allowLogic) continue; // legacy methods do not support sub-filters
      const sub = value as Record<string, unknown>;
      const subLogic = String(Object.entries(sub).find(([k]) => k.toLowerCase() === 'logic')?.[1] ?? 'AND');
      const children = Object.entries(sub)
        .filter(([k]) => k.toLowerCase() !== 'logic')
        .map(([k, v]) =>
          /^\d+$/.test(k) && v && typeof v === 'object' && !Array.isArray(v)
            ? parseFilter(v, opts)
            : parseFilter({ [k]: v }, opts),
        );
      if (subLogic.toUpperCase() === 'OR') out.all.push({ any: children });
      else for (const c of children) out.all.push(...c.all);
      continue;
    }
    const { op, name } = splitFilterKey(key);
    const field = opts.resolve(name);
    if (!field) {
      if (opts.strict) {
        throw new RestError('INVALID_ARG_VALUE', `Invalid filter: field '${name}' is not allowed in filter`, 400);
      }
      continue;
    }
    let effective = op;
    // LIKE on status-typed fields is an exact match (internalizeFilterFields).
    if (field.type === 'status' && op === 'like') effective = 'eq';
    out.all.push({ field, op: effective, value: coerce(field, value, opts.offsetMin) });
  }
  if (logic !== undefined && String(logic).toUpperCase() === 'OR' && opts.allowLogic) {
    return { all: [{ any: out.all.map((c) => ({ all: [c] })) }] };
  }
  return out;
}

const norm = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);

function eq(a: unknown, b: unknown): boolean {
  if (b === null) return a === null || a === undefined || a === '' || a === 0;
  if (Array.isArray(a)) return a.some((x) => eq(x, b));
  return norm(a) === norm(b);
}

function cmp(a: unknown, b: unknown): number {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a).toLowerCase();
  const sb = String(b).toLowerCase();
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function likeRe(pattern: string, explicit: boolean): RegExp {
  const esc = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return explicit ? new RegExp(`^${esc.replace(/%/g, '.*').replace(/_/g, '.')}$`, 'i') : new RegExp(esc, 'i');
}

function test(cond: Cond, row: Row): boolean {
  const a = row[cond.field.name];
  const v = cond.value;
  const list = Array.isArray(v) ? v : [v];
  switch (cond.op) {
    case 'eq':
    case 'in':
      return list.some((x) => eq(a, x));
    case 'ne':
    case 'nin':
      return !list.some((x) => eq(a, x));
    case 'gt':
      return a !== null && a !== undefined && cmp(a, v) > 0;
    case 'ge':
      return a !== null && a !== undefined && cmp(a, v) >= 0;
    case 'lt':
      return a !== null && a !== undefined && cmp(a, v) < 0;
    case 'le':
      return a !== null && a !== undefined && cmp(a, v) <= 0;
    case 'like':
    case 'wild':
      return a !== null && a !== undefined && list.some((x) => likeRe(String(x), cond.op === 'wild').test(String(a)));
    case 'nlike':
    case 'nwild':
      return !(a !== null && a !== undefined && list.some((x) => likeRe(String(x), cond.op === 'nwild').test(String(a))));
    case 'between':
    case 'nbetween': {
      const [lo, hi] = list;
      const inside = a !== null && a !== undefined && cmp(a, lo) >= 0 && cmp(a, hi) <= 0;
      return cond.op === 'between' ? inside : !inside;
    }
  }
}

export function matches(filter: Filter, row: Row): boolean {
  for (const c of filter.all) {
    if ('any' in c) {
      if (!c.any.some((f) => matches(f, row))) return false;
    } else if (!test(c, row)) return false;
  }
  return true;
}

/** Bounds on ID implied by top-level conditions: lets keyset pages start by binary search. */
/** Candidate IDs from an indexed field's `=`/`@` condition (e.g. product rows by OWNER_ID). */
function indexedIds(filter: Filter, table: Table): number[] | undefined {
  for (const c of filter.all) {
    if ('any' in c || (c.op !== 'eq' && c.op !== 'in')) continue;
    const ids = table.lookup(c.field.name, Array.isArray(c.value) ? c.value : [c.value]);
    if (ids) return ids;
  }
  return undefined;
}

function idBounds(filter: Filter): { lo: number; hi: number; ids?: number[] } {
  let lo = -Infinity;
  let hi = Infinity;
  let ids: number[] | undefined;
  for (const c of filter.all) {
    if ('any' in c || c.field.name !== 'ID') continue;
    const v = c.value;
    if (c.op === 'gt' && typeof v === 'number') lo = Math.max(lo, Math.floor(v) + 1);
    if (c.op === 'ge' && typeof v === 'number') lo = Math.max(lo, Math.ceil(v));
    if (c.op === 'lt' && typeof v === 'number') hi = Math.min(hi, Math.ceil(v) - 1);
    if (c.op === 'le' && typeof v === 'number') hi = Math.min(hi, Math.floor(v));
    if ((c.op === 'eq' || c.op === 'in') && (Array.isArray(v) || typeof v === 'number')) {
      const list = (Array.isArray(v) ? v : [v]).filter((x): x is number => typeof x === 'number');
      ids = ids ? ids.filter((x) => list.includes(x)) : list;
    }
  }
  return { lo, hi, ...(ids ? { ids } : {}) };
}

export interface OrderKey {
  field: FieldDef;
  desc: boolean;
}

export function parseOrder(raw: unknown, resolve: (n: string) => FieldDef | undefined, strict: boolean): OrderKey[] {
  if (!raw || typeof raw !== 'object') return [];
  const keys: OrderKey[] = [];
  for (const [name, dirRaw] of Object.entries(raw as Record<string, unknown>)) {
    const dir = String(dirRaw).toUpperCase();
    if (dir !== 'ASC' && dir !== 'DESC') {
      if (strict) {
        throw new RestError('INVALID_ARG_VALUE', 'Invalid order: allowed sort directions are ASC, DESC', 400);
      }
      continue;
    }
    const field = resolve(name);
    if (!field) {
      if (strict) throw new RestError('INVALID_ARG_VALUE', `Invalid order: field '${name}' is not allowed`, 400);
      continue;
    }
    keys.push({ field, desc: dir === 'DESC' });
  }
  return keys;
}

export interface ListQuery {
  table: Table;
  filter: Filter;
  order: OrderKey[];
  /** The `start` handed over by the REST core (undefined = 0). */
  start: number | undefined;
  paging: Paging;
  /** Extra predicate applied before the filter (e.g. a method's fixed scope). */
  where?: (row: Row) => boolean;
}

export interface ListPage {
  rows: Row[];
  total?: number;
  next?: number;
  /** Virtual seconds this page cost the portal (limits.ts cost model). */
  cost: number;
}

export function runList(q: ListQuery): ListPage {
  const noCount = q.start === -1;
  const start = Math.max(0, q.start ?? 0);
  const offset = noCount ? 0 : q.paging === 'orm' ? start : Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
  const keep = (row: Row) => (!q.where || q.where(row)) && matches(q.filter, row);

  // With no `order`, legacy lists come back by ID ascending (the real default is UNCONFIRMED;
  // clients should always send an explicit order).
  const byIdOnly = q.order.length === 0 || (q.order.length === 1 && q.order[0]!.field.name === 'ID');
  const desc = byIdOnly && q.order[0]?.desc === true;
  let rows: Row[];
  let total: number | undefined;
  let scanned = 0;
  let candidates: number | undefined;
  if (byIdOnly) {
    const bounds = idBounds(q.filter);
    const { lo, hi } = bounds;
    const ids = bounds.ids ?? indexedIds(q.filter, q.table);
    candidates = ids?.length;
    const picked: Row[] = [];
    let skipped = 0;
    const iter = ids
      ? [...new Set(ids)]
          .sort((a, b) => (desc ? b - a : a - b))
          .map((id) => q.table.get(id))
          .filter((r): r is Row => r !== undefined)
      : desc
        ? q.table.descendingFrom(Number.isFinite(hi) ? hi : Number.MAX_SAFE_INTEGER)
        : q.table.ascendingFrom(Number.isFinite(lo) ? lo : -Number.MAX_SAFE_INTEGER);
    for (const row of iter) {
      scanned++;
      if (desc ? row.ID < lo : row.ID > hi) break;
      if (!keep(row)) continue;
      if (skipped < offset) {
        skipped++;
        continue;
      }
      picked.push(row);
      if (picked.length >= PAGE_SIZE) break;
    }
    rows = picked;
    if (!noCount) {
      // The COUNT(*) over the whole filtered set — what makes counted pages expensive (an indexed
      // lookup counts only its candidates, as a database would).
      total = 0;
      const candidates = ids ? ids.map((id) => q.table.get(id)).filter((r): r is Row => r !== undefined) : q.table.all();
      for (const row of candidates) if (keep(row)) total++;
      scanned += ids ? ids.length : q.table.size;
    }
  } else {
    const all: Row[] = [];
    for (const row of q.table.all()) if (keep(row)) all.push(row);
    scanned = q.table.size;
    all.sort((a, b) => {
      for (const k of q.order) {
        const c = cmp(a[k.field.name], b[k.field.name]);
        if (c !== 0) return k.desc ? -c : c;
      }
      return a.ID - b.ID;
    });
    rows = all.slice(offset, offset + PAGE_SIZE);
    if (!noCount) total = all.length;
  }

  const cost = pageCost({ rows: rows.length, counted: !noCount, tableSize: candidates ?? q.table.size, offset, scanned });
  if (noCount) {
    // Legacy and ORM methods still print a meaningless `total: 0`; controller methods print neither.
    return q.paging === 'controller' ? { rows, cost } : { rows, total: 0, cost };
  }
  const page: ListPage = { rows, total, cost };
  const after = offset + rows.length;
  if (q.paging === 'legacy') {
    if (offset + PAGE_SIZE < total!) page.next = offset + PAGE_SIZE;
  } else if (after < total!) {
    page.next = after;
  }
  return page;
}
