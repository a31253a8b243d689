// The `filter` of a urlData call (reference §1.8) compiled into a SQL condition. Keys are dataset
// field NAMEs with an operator prefix — `>=`, `<=`, `>`, `<`, `=`, `%` (contains), `><` (between),
// `@` (in), none (equals) — optionally negated by a leading `!`; arrays mean IN; numeric keys are
// groups `{LOGIC: OR|AND, 0: {…}, 1: {…}}`; top-level entries are ANDed. Only the field's trusted
// expression enters the SQL text; every value is bound. Anything not understood is a FilterError (400)
// naming the key: a silently dropped filter would hand Superset rows it did not ask for.
//
// Decisions on the reference's UNCONFIRMED points, made here:
// - Date literals: the portal culture's form (`31.05.2025 17:01:55`, ru) and the stock English one
//   (`05/31/2025 05:01:55 pm`, month first), and ISO (`2025-05-31[ 17:01:55]`, `T` allowed, a zone
//   suffix ignored). No time-zone shift: REST datasets get none (§1.8) and our dates are the portal's
//   local days. On a `date` field a literal with a time compares as that instant against the day's
//   midnight: `>= 01.01.2025 10:00:00` starts on 2 January, `<= 31.12.2025 23:59:59` ends on
//   31 December; `=` compares calendar days.
// - IS_NULL arrives as `=FIELD=0` (PHP false), indistinguishable from "= 0": `=` with the single
//   value "0" matches 0 or NULL ("0" or NULL on strings; NULL alone on dates, where "0" cannot be a
//   value). Our ids are never 0, so both readings select the same rows where it matters.
// - Negation (`!`, EXCLUDE) keeps the rows where the condition is not true, NULLs included (an
//   exclusion of "doctor 10" keeps the visits without a doctor).
// - `%` is a plain substring test, case-sensitive, identical on SQLite and PostgreSQL (`%` and `_`
//   in the value are literal characters).
import { sql, type RawBuilder } from 'kysely';
import { addDays } from '../clinic/calendar.js';
import type { Dialect } from '../db/database.js';
import type { BiField } from './datasets.js';
import type { FormMap, FormValue } from './form.js';

export class FilterError extends Error {}

type Op = '=' | '>=' | '<=' | '>' | '<' | '%' | '><' | '@';
const KEY = /^(!?)(><|>=|<=|=|>|<|%|@)?([A-Za-z][A-Za-z0-9_]*)$/;
const MAX_DEPTH = 6;

export interface FilterContext {
  dialect: Dialect;
  /** A NAME (as sent: dataset field name, or a name mapped by `mapFields`) → the field, or undefined. */
  field(name: string): BiField | undefined;
  dataset: string;
}

const validDay = (y: number, m: number, d: number) => {
  const t = new Date(Date.UTC(y, m - 1, d));
  return y >= 1 && t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
};
const p2 = (n: number) => String(n).padStart(2, '0');

export interface Instant {
  day: string;
  time: string;
}

/** A filter date literal → local day and time, or null when it is not one of the accepted forms. */
export function parseBiDate(s: string): Instant | null {
  let y: number, mo: number, d: number;
  let h = 0,
    mi = 0,
    sec = 0;
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(s))) {
    [y, mo, d] = [+m[1]!, +m[2]!, +m[3]!];
    if (m[4] !== undefined) [h, mi, sec] = [+m[4], +m[5]!, +(m[6] ?? 0)];
  } else if ((m = /^(\d{2})\.(\d{2})\.(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(s))) {
    [d, mo, y] = [+m[1]!, +m[2]!, +m[3]!];
    if (m[4] !== undefined) [h, mi, sec] = [+m[4], +m[5]!, +(m[6] ?? 0)];
  } else if ((m = /^(\d{2})\/(\d{2})\/(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?(?: ?([aApP][mM]))?)?$/.exec(s))) {
    [mo, d, y] = [+m[1]!, +m[2]!, +m[3]!];
    if (m[4] !== undefined) {
      [h, mi, sec] = [+m[4], +m[5]!, +(m[6] ?? 0)];
      const ampm = m[7]?.toLowerCase();
      if (ampm) {
        if (h < 1 || h > 12) return null;
        h = (h % 12) + (ampm === 'pm' ? 12 : 0);
      }
    }
  } else return null;
  if (!validDay(y, mo, d) || h > 23 || mi > 59 || sec > 59) return null;
  return { day: `${String(y).padStart(4, '0')}-${p2(mo)}-${p2(d)}`, time: `${p2(h)}:${p2(mi)}:${p2(sec)}` };
}

const DATE_FORMS = 'DD.MM.YYYY[ HH:MI:SS], MM/DD/YYYY[ HH:MI:SS am|pm] or YYYY-MM-DD[ HH:MM:SS]';

function scalar(key: string, f: BiField, raw: string): string | number {
  switch (f.type) {
    case 'int':
      if (!/^-?\d{1,15}$/.test(raw)) throw new FilterError(`filter ${key}: "${clip(raw)}" is not an integer`);
      return Number(raw);
    case 'double':
      if (!/^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d{1,3})?$/.test(raw)) throw new FilterError(`filter ${key}: "${clip(raw)}" is not a number`);
      return Number(raw);
    case 'string':
      return raw;
    case 'date':
    case 'datetime': {
      const t = parseBiDate(raw);
      if (!t) throw new FilterError(`filter ${key}: "${clip(raw)}" is not a date (${DATE_FORMS})`);
      return f.type === 'date' ? t.day : `${t.day} ${t.time}`;
    }
  }
}

const clip = (s: string) => (s.length > 60 ? `${s.slice(0, 57)}...` : s);

function list(key: string, v: FormValue): string[] {
  if (typeof v === 'string') return [v];
  const out: string[] = [];
  for (const x of v.values()) {
    if (typeof x !== 'string') throw new FilterError(`filter ${key}: a value list may not nest further`);
    out.push(x);
  }
  return out;
}

/** One comparison of a `date` field (stored `YYYY-MM-DD`) with a literal that may carry a time. */
function dateBound(key: string, op: '>=' | '<=' | '>' | '<', raw: string): { op: string; day: string } {
  const t = parseBiDate(raw);
  if (!t) throw new FilterError(`filter ${key}: "${clip(raw)}" is not a date (${DATE_FORMS})`);
  const midnight = t.time === '00:00:00';
  if (op === '>=') return midnight ? { op: '>=', day: t.day } : { op: '>=', day: addDays(t.day, 1) };
  if (op === '<') return midnight ? { op: '<', day: t.day } : { op: '<=', day: t.day };
  return { op, day: t.day };
}

function condition(ctx: FilterContext, key: string, value: FormValue): RawBuilder<unknown> {
  const m = KEY.exec(key);
  if (!m) throw new FilterError(`filter key "${clip(key)}" is not [!]<operator><FIELD>`);
  const negate = m[1] === '!';
  const op = (m[2] ?? '=') as Op;
  const name = m[3]!;
  const f = ctx.field(name);
  if (!f) throw new FilterError(`filter ${key}: unknown field "${name}" in ${ctx.dataset}`);
  const e = sql.raw(f.expr);
  const values = list(key, value);
  let cond: RawBuilder<unknown>;
  const cmp = (o: '>=' | '<=' | '>' | '<', raw: string): RawBuilder<unknown> => {
    if (f.type === 'date') {
      const b = dateBound(key, o, raw);
      return sql`${e} ${sql.raw(b.op)} ${b.day}`;
    }
    return sql`${e} ${sql.raw(o)} ${scalar(key, f, raw)}`;
  };
  switch (op) {
    case '=':
    case '@': {
      if (op === '=' && typeof value === 'string' && value === '0') {
        // IS_NULL (PHP false) or "= 0": see the decision above.
        cond = f.type === 'date' || f.type === 'datetime' ? sql`${e} IS NULL` : sql`(${e} = ${scalar(key, f, '0')} OR ${e} IS NULL)`;
      } else {
        const vs = values.map((v) => scalar(key, f, v));
        cond = vs.length === 1 ? sql`${e} = ${vs[0]}` : sql`${e} IN (${sql.join(vs)})`;
      }
      break;
    }
    case '>=':
    case '<=':
    case '>':
    case '<':
      if (values.length !== 1) throw new FilterError(`filter ${key}: takes one value, got ${values.length}`);
      cond = cmp(op, values[0]!);
      break;
    case '><':
      if (values.length !== 2) throw new FilterError(`filter ${key}: takes [from, to], got ${values.length} value(s)`);
      cond = sql`(${cmp('>=', values[0]!)} AND ${cmp('<=', values[1]!)})`;
      break;
    case '%': {
      const fn = ctx.dialect === 'postgres' ? 'strpos' : 'instr';
      const text = f.type === 'string' ? e : sql`CAST(${e} AS TEXT)`;
      const parts = values.map((v) => sql`${sql.raw(fn)}(${text}, ${v}) > 0`);
      cond = parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql` OR `)})`;
      break;
    }
  }
  return negate ? sql`(CASE WHEN ${cond} THEN 1 ELSE 0 END) = 0` : sql`(${cond})`;
}

function group(ctx: FilterContext, m: FormMap, depth: number, path: string): RawBuilder<unknown> | null {
  if (depth > MAX_DEPTH) throw new FilterError(`filter${path}: groups nest deeper than ${MAX_DEPTH} levels`);
  let logic = 'AND';
  const parts: RawBuilder<unknown>[] = [];
  for (const [k, v] of m) {
    if (k.toUpperCase() === 'LOGIC') {
      if (typeof v !== 'string' || !/^(AND|OR)$/i.test(v)) throw new FilterError(`filter${path}[LOGIC] must be AND or OR`);
      logic = v.toUpperCase();
    } else if (/^\d+$/.test(k)) {
      if (typeof v === 'string') throw new FilterError(`filter${path}[${k}] must be a group of conditions`);
      const g = group(ctx, v, depth + 1, `${path}[${k}]`);
      if (g) parts.push(g);
    } else parts.push(condition(ctx, k, v));
  }
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql.raw(` ${logic} `))})`;
}

/** The `filter` as one SQL condition over the dataset's fields, or null when there is none. */
export function compileFilter(ctx: FilterContext, filter: FormValue | undefined): RawBuilder<unknown> | null {
  if (filter === undefined) return null;
  if (typeof filter === 'string') {
    if (filter === '') return null;
    throw new FilterError('filter must be an array (filter[>=FIELD]=…)');
  }
  return group(ctx, filter, 0, '');
}

/**
 * The days a filter certainly keeps a `date` field within, from its top-level ANDed conditions on it
 * (`>=`, `>`, `<=`, `<`, `=`/`@`, `><`); negations, OR groups and other fields say nothing. Either
 * side is null when unbounded. A dataset costly to compute over all time reads only this range; the
 * filter itself still applies to every row, so a wider range never changes the answer.
 */
export function dateRangeOf(ctx: FilterContext, filter: FormValue | undefined, code: string): { from: string | null; to: string | null } {
  const out: { from: string | null; to: string | null } = { from: null, to: null };
  if (filter === undefined || typeof filter === 'string') return out;
  for (const [k, v] of filter) if (k.toUpperCase() === 'LOGIC' && typeof v === 'string' && v.toUpperCase() === 'OR') return out;
  const lower = (day: string) => void (out.from = out.from === null || day > out.from ? day : out.from);
  const upper = (day: string) => void (out.to = out.to === null || day < out.to ? day : out.to);
  for (const [key, value] of filter) {
    const m = KEY.exec(key);
    if (!m || m[1] === '!' || ctx.field(m[3]!)?.code !== code) continue;
    const days = list(key, value).map((raw) => parseBiDate(raw)?.day);
    if (days.some((d) => d === undefined)) continue; // compileFilter names the bad value
    const op = m[2] ?? '=';
    if (op === '>=' || op === '>') lower(days[0]!);
    else if (op === '<=' || op === '<') upper(days[0]!);
    else if (op === '><' && days.length === 2) {
      lower(days[0]!);
      upper(days[1]!);
    } else if (op === '=' || op === '@') {
      lower([...days].sort()[0]!);
      upper([...days].sort().at(-1)!);
    }
  }
  return out;
}
