// Runs one KPI for a portal: the total and, when asked, rows by one dimension, each optionally
// compared with a shifted period by re-running the same query. Values come back in presentation
// units — money in account-currency units (roubles, unrounded), shares in [0, 1] — and null where
// there is nothing to divide by; never NaN, never a silent 0.
import type { Kysely } from 'kysely';
import { monthStart, today, weekStart } from '../clinic/calendar.js';
import type { FactBuilder } from '../clinic/facts.js';
import { DEFAULT_KPI_CACHE_SIZE } from '../config.js';
import type { ClinicSettings } from '../clinic/settings.js';
import type { Database } from '../db/schema.js';
import { namesFor } from './names.js';
import { comparePeriod, type Comparison, type Period } from './period.js';
import { kpiSql } from './query.js';
import { ResultCache } from './result-cache.js';
import { TIME_DIMENSIONS, type Dimension, type FilterName, type KpiDefinition, type KpiRegistry } from './registry.js';

export class KpiQueryError extends Error {}
/** No sync of the portal has finished: there are no numbers to show yet (not zeros). */
export class NotSyncedError extends Error {
  constructor(portalId: string) {
    super(`portal ${portalId} has no finished sync yet`);
  }
}

export interface KpiQuery {
  period: Period;
  by?: Dimension;
  compare?: Comparison;
  filters?: Partial<Record<FilterName, string>>;
  /** The KPI's own parameters (return_rate: days, scope). */
  params?: Record<string, string>;
  /** Local "today" (tests pin it); default: now in the portal's zone. */
  today?: string;
}

export interface Compared {
  value: number | null;
  delta: number | null;
  deltaPct: number | null;
}

export interface KpiRow {
  doctor?: { id: string | null; name: string | null };
  direction?: { id: string | null; name: string | null };
  service?: { id: string | null; name: string | null };
  source?: { id: string | null; name: string | null };
  period?: string;
  value: number | null;
  /** The parts the value was computed from, and shape extras (cohort cells, ABC class). */
  detail?: Record<string, unknown>;
  compare?: Compared;
}

export interface KpiResult {
  kpi: { id: string; label: string; unit: string };
  period: Period;
  compareWith?: { kind: Comparison; period: Period };
  params: Record<string, string>;
  syncedAt: string;
  total: { value: number | null; detail?: Record<string, unknown>; compare?: Compared };
  rows: KpiRow[];
}

interface RawRow {
  dim: string | number | null;
  value: number | null;
  [extra: string]: unknown;
}

const ALL = '\u0000all';

function toNumber(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

export class KpiRunner {
  /** Results per facts version (KPI_CACHE_SIZE entries; the app sets it from the configuration). */
  readonly cache = new ResultCache<KpiResult>(DEFAULT_KPI_CACHE_SIZE);

  constructor(
    private readonly db: Kysely<Database>,
    private readonly registry: KpiRegistry,
    private readonly facts: FactBuilder,
  ) {}

  async run(portalId: string, id: string, q: KpiQuery, lang: 'ru' | 'en' = 'ru'): Promise<KpiResult> {
    const def = this.registry.get(id);
    if (!def) throw new KpiQueryError(`unknown KPI "${id}"`);
    const by = def.shape === 'cohort' ? 'month' : q.by;
    if (by && !def.dimensions.includes(by))
      throw new KpiQueryError(`KPI "${id}" has no dimension "${by}"; it has: ${def.dimensions.join(', ') || 'none'}`);
    const params = resolveParams(def, q.params ?? {});
    const { settings, syncedAt, version } = await this.facts.ensureFresh(portalId);
    if (!syncedAt) throw new NotSyncedError(portalId);
    const localToday = q.today ?? today(settings.timeZone);
    const cacheKey = JSON.stringify([id, lang, q.period.from, q.period.to, by ?? null, q.compare ?? null, sorted(q.filters), sorted(params), localToday]);
    const cached = this.cache.get(portalId, version, cacheKey);
    if (cached) return structuredClone(cached);
    const result = await this.compute({ def, portalId, q, by, params, settings, syncedAt, localToday, lang });
    this.cache.set(portalId, version, cacheKey, result);
    return structuredClone(result);
  }

  private async compute(c: {
    def: KpiDefinition;
    portalId: string;
    q: KpiQuery;
    by: Dimension | undefined;
    params: Record<string, string>;
    settings: ClinicSettings;
    syncedAt: string;
    localToday: string;
    lang: 'ru' | 'en';
  }): Promise<KpiResult> {
    const { def, portalId, q, by, params, settings, syncedAt, localToday, lang } = c;
    const exec = (period: Period, dim: Dimension | null) => this.query(def, portalId, period, dim, q.filters ?? {}, params, localToday);
    // An additive KPI whose rows carry only a value: its total is their sum, one scan instead of two.
    const both = async (period: Period): Promise<[RawRow[], RawRow[]]> => {
      if (!by) return [await exec(period, null), []];
      const rows = await exec(period, by);
      const onlyValue = rows.every((r) => Object.keys(r).length === 2);
      return [def.additive && def.shape === 'plain' && onlyValue ? sumRows(rows) : await exec(period, null), rows];
    };
    const [total, rows] = await both(q.period);
    const cmp = q.compare ? comparePeriod(q.period, q.compare) : null;
    const [cTotal, cRows] = cmp ? await both(cmp.period) : [[], []];

    const result: KpiResult = {
      kpi: { id: def.id, label: def.label[lang], unit: def.unit },
      period: q.period,
      ...(cmp && q.compare ? { compareWith: { kind: q.compare, period: cmp.period } } : {}),
      params,
      syncedAt,
      total: { value: null },
      rows: [],
    };

    if (def.shape === 'cohort') {
      result.rows = pivotCohort(rows);
      const size = result.rows.reduce((s, r) => s + ((r.detail?.size as number) ?? 0), 0);
      result.total = { value: null, detail: { size } };
      return result;
    }

    const empty = def.emptyIsZero ? 0 : null;
    const t = total[0];
    result.total = { value: t ? this.scale(def, t.value) : empty, ...detailOf(t) };
    if (cmp) result.total.compare = compared(result.total.value, cTotal[0] ? this.scale(def, cTotal[0].value) : empty);

    if (by) {
      const names = await namesFor(this.db, portalId, by, settings, rows.map((r) => String(r.dim)));
      const cByKey = new Map(cRows.map((r) => [keyOf(r.dim), r]));
      const timeKey = (d: string) => {
        const s = cmp!.shiftDate(d);
        return by === 'month' ? monthStart(s) : by === 'week' ? weekStart(s) : s;
      };
      result.rows = rows.map((r) => {
        const key = keyOf(r.dim);
        const row: KpiRow = { value: this.scale(def, r.value), ...detailOf(r) };
        if (TIME_DIMENSIONS.includes(by)) row.period = String(r.dim);
        else {
          const dimId = r.dim === null ? null : String(r.dim);
          row[by as 'doctor'] = { id: dimId, name: dimId === null ? null : (names.get(dimId) ?? `#${dimId}`) };
        }
        if (cmp) {
          const c = cByKey.get(TIME_DIMENSIONS.includes(by) && r.dim !== null ? timeKey(String(r.dim)) : key);
          row.compare = compared(row.value, c ? this.scale(def, c.value) : def.emptyIsZero ? 0 : null);
        }
        return row;
      });
      if (TIME_DIMENSIONS.includes(by)) result.rows.sort((a, b) => (a.period ?? '').localeCompare(b.period ?? ''));
      else result.rows.sort((a, b) => (b.value ?? -Infinity) - (a.value ?? -Infinity));
      if (def.shape === 'abc' && by === 'service') rankAbc(result.rows, result.total.value);
    }
    return result;
  }

  private scale(def: KpiDefinition, v: unknown): number | null {
    const n = toNumber(v);
    return n === null ? null : def.unit === 'money' ? n / 100 : n;
  }

  private async query(
    def: KpiDefinition,
    portalId: string,
    period: Period,
    dim: Dimension | null,
    filters: Partial<Record<FilterName, string>>,
    params: Record<string, string>,
    localToday: string,
  ): Promise<RawRow[]> {
    const query = kpiSql(def, { portalId, period, by: dim ? [dim] : [], filters, params, today: localToday });
    const res = await query.execute(this.db);
    return res.rows as RawRow[];
  }
}

/** An object's entries in key order, so equal queries make equal cache keys. */
function sorted(o: Record<string, string | undefined> | undefined): [string, string | undefined][] {
  return Object.entries(o ?? {}).sort((a, b) => a[0].localeCompare(b[0]));
}

function resolveParams(def: KpiDefinition, given: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of def.params) {
    const v = given[p.name] ?? p.default;
    if (!p.values.includes(v))
      throw new KpiQueryError(`${p.name} must be one of ${p.values.join(', ')} for KPI "${def.id}", got "${v}"`);
    out[p.name] = v;
  }
  return out;
}

/** The total row of an additive KPI from its rows' values. */
function sumRows(rows: RawRow[]): RawRow[] {
  if (rows.length === 0) return [];
  return [{ dim: null, value: rows.reduce((s, r) => s + (toNumber(r.value) ?? 0), 0) }];
}

function keyOf(dim: unknown): string {
  return dim === null || dim === undefined ? ALL : String(dim);
}

/** Extra columns of a row as `detail`; `*_minor` money columns become account-currency units. */
function detailOf(r: RawRow | undefined): { detail?: Record<string, unknown> } {
  if (!r) return {};
  const detail: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === 'dim' || k === 'value') continue;
    const n = toNumber(v);
    if (k.endsWith('_minor')) detail[camel(k.slice(0, -'_minor'.length))] = n === null ? null : n / 100;
    else detail[camel(k)] = n;
  }
  return Object.keys(detail).length ? { detail } : {};
}

function camel(s: string): string {
  return s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Change against the comparison; for shares the delta is in share points (pp on screen). */
function compared(value: number | null, base: number | null): Compared {
  const delta = value !== null && base !== null ? value - base : null;
  const deltaPct = delta !== null && base !== null && base !== 0 ? delta / Math.abs(base) : null;
  return { value: base, delta, deltaPct };
}

/**
 * ABC by cumulative share of revenue, rows ranked by revenue (kpi.md §3): a service is A while the
 * services ranked above it hold less than 80 % (so the one crossing 80 % is A — a single service
 * earning 90 % is A, not B), B below 95 %, C the rest.
 */
function rankAbc(rows: KpiRow[], total: number | null): void {
  let cum = 0;
  for (const r of rows) {
    const v = r.value ?? 0;
    const before = total ? cum / total : null;
    cum += v;
    const share = total ? v / total : null;
    const cumShare = total ? cum / total : null;
    const abc = before === null ? null : before < 0.8 ? 'A' : before < 0.95 ? 'B' : 'C';
    r.detail = { ...r.detail, share, cumShare, abc };
  }
}

/** (cohort month, months since, patients) → one row per cohort with its cells as shares. */
function pivotCohort(rows: RawRow[]): KpiRow[] {
  const byCohort = new Map<string, { size: number; cells: Map<number, number> }>();
  for (const r of rows) {
    const key = String(r.dim);
    let c = byCohort.get(key);
    if (!c) byCohort.set(key, (c = { size: 0, cells: new Map() }));
    const k = Number(r.months_since);
    const n = Number(r.patients);
    if (k === 0) c.size = n;
    else c.cells.set(k, n);
  }
  return [...byCohort.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([period, c]) => {
      const maxK = Math.max(0, ...c.cells.keys());
      const cells = Array.from({ length: maxK + 1 }, (_, k) => {
        const patients = k === 0 ? c.size : (c.cells.get(k) ?? 0);
        return { monthsSince: k, patients, share: c.size ? patients / c.size : null };
      });
      return { period, value: null, detail: { size: c.size, cells } };
    });
}

