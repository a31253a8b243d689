// BI Builder's side of the external REST-connector protocol (reference bi-builder-connector.md §1,
// §6): POSTs to a connector's four URLs the way Bitrix24 does (CORE ExternalSource/Source/Rest.php
// + main/lib/web/httpclient.php) and then validates the answers far more strictly than Bitrix does,
// so a connector that passes here also survives the parts of the path Bitrix does not check
// (Superset receives the urlData body byte-for-byte, §1.1).
import http from 'node:http';
import https from 'node:https';

// ───────────────────────── PHP http_build_query ─────────────────────────

/**
 * A PHP array as `http_build_query` sees it. Use a `Map` where order matters and keys may look
 * like integers: JS objects always iterate integer-like keys first, PHP keeps insertion order
 * (`['LOGIC' => 'OR', 0 => …]` must go out as `[LOGIC]` before `[0]`).
 */
export type PhpValue = string | number | bigint | boolean | null | undefined | PhpArray;
export type PhpArray = PhpValue[] | Map<string | number, PhpValue> | { [key: string]: PhpValue };

/** PHP `urlencode` (RFC 1738): alnum and `-_.` stay, space → `+`, every other UTF-8 byte → `%XX`. */
export function phpUrlencode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const keep =
      (b >= 0x30 && b <= 0x39) ||
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      b === 0x2d ||
      b === 0x2e ||
      b === 0x5f;
    if (keep) out += String.fromCharCode(b);
    else if (b === 0x20) out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function entriesOf(v: unknown): [string, PhpValue][] | null {
  if (Array.isArray(v)) return v.map((x, i) => [String(i), x as PhpValue]);
  if (v instanceof Map) return [...(v as Map<string | number, PhpValue>)].map(([k, x]) => [String(k), x]);
  if (typeof v === 'object' && v !== null) {
    const proto = Object.getPrototypeOf(v) as unknown;
    // A Date or class instance would silently vanish as an "empty array": make that a caller bug.
    if (proto !== Object.prototype && proto !== null)
      throw new TypeError(`phpBuildQuery: unsupported value ${Object.prototype.toString.call(v)}`);
    return Object.entries(v as Record<string, PhpValue>);
  }
  return null;
}

function phpScalar(v: string | number | bigint | boolean): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number' && !Number.isFinite(v))
    throw new TypeError(`phpBuildQuery: non-finite number ${v}`);
  // Floats: PHP prints them with `precision`/`serialize_precision`; for the values a BI client sends
  // (ids, limits, amounts) that equals JS String(). Exponent forms (1e21) differ — not used here.
  return String(v);
}

/**
 * PHP `http_build_query($data, '', '&')` with the default RFC 1738 encoding: nested keys as
 * `a%5Bb%5D%5B0%5D=…` (brackets are percent-encoded, as PHP does), `null`/`undefined` and empty
 * arrays omitted entirely, booleans as `1`/`0`, numbers as their string form.
 */
export function phpBuildQuery(data: PhpArray): string {
  const out: string[] = [];
  const walk = (container: unknown, prefix: string | null) => {
    for (const [k, v] of entriesOf(container) ?? []) {
      if (v === null || v === undefined) continue;
      const key = prefix === null ? phpUrlencode(k) : `${prefix}%5B${phpUrlencode(k)}%5D`;
      if (entriesOf(v) !== null) walk(v, key);
      else out.push(`${key}=${phpUrlencode(phpScalar(v as string | number | bigint | boolean))}`);
    }
  };
  walk(data, null);
  return out.join('&');
}

// ───────────────────────── dates in the portal culture ─────────────────────────

export type BiLocale = 'ru' | 'en';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

interface WallTime {
  y: number;
  m: number;
  d: number;
  hh: number;
  mi: number;
  ss: number;
}

/**
 * The site culture's FULL format (`ConvertTimeStamp(..., 'FULL')`, §1.8). ru: `DD.MM.YYYY HH:MI:SS`.
 * en: Bitrix's stock English culture is `MM/DD/YYYY H:MI:SS T` (12-hour `H` with leading zero,
 * lower-case `T`) → `05/31/2025 05:01:55 pm` — UNCONFIRMED against a live EN portal.
 */
function cultureDateTime(t: WallTime, locale: BiLocale): string {
  if (locale === 'ru') return `${pad(t.d)}.${pad(t.m)}.${pad(t.y, 4)} ${pad(t.hh)}:${pad(t.mi)}:${pad(t.ss)}`;
  const h12 = t.hh % 12 === 0 ? 12 : t.hh % 12;
  return `${pad(t.m)}/${pad(t.d)}/${pad(t.y, 4)} ${pad(h12)}:${pad(t.mi)}:${pad(t.ss)} ${t.hh < 12 ? 'am' : 'pm'}`;
}

function wallTime(ms: number, offsetMin: number): WallTime {
  const d = new Date(ms + offsetMin * 60_000);
  return {
    y: d.getUTCFullYear(),
    m: d.getUTCMonth() + 1,
    d: d.getUTCDate(),
    hh: d.getUTCHours(),
    mi: d.getUTCMinutes(),
    ss: d.getUTCSeconds(),
  };
}

function toMs(v: Date | string): number {
  const ms = v instanceof Date ? v.getTime() : Date.parse(v);
  if (Number.isNaN(ms)) throw new TypeError(`invalid date: ${String(v)}`);
  return ms;
}

/** A Date (or ISO string) as the portal renders a datetime filter literal. */
export function formatBiDateTime(v: Date | string, locale: BiLocale, offsetMin: number): string {
  return cultureDateTime(wallTime(toMs(v), offsetMin), locale);
}

/** A calendar day at 00:00:00 or 23:59:59. `YYYY-MM-DD` is taken literally (even `9999-12-31`). */
function dayBoundary(v: Date | string, end: boolean, locale: BiLocale, offsetMin: number): string {
  const m = typeof v === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(v) : null;
  const day = m ? { y: +m[1]!, m: +m[2]!, d: +m[3]! } : wallTime(toMs(v), offsetMin);
  return cultureDateTime(
    { y: day.y, m: day.m, d: day.d, hh: end ? 23 : 0, mi: end ? 59 : 0, ss: end ? 59 : 0 },
    locale,
  );
}

// ───────────────────────── filter ─────────────────────────

export type BiFilterOp = '=' | '>=' | '<=' | '>' | '<' | '%' | '><' | 'isNull';
export type BiFilterValue = string | number | boolean | Date;

/** One `dimensionsFilters` entry: `[!]<op><FIELD>` → value. `><` takes `[from, to]`, `=` a value or list (IN). */
export interface BiCondition {
  field: string;
  op: BiFilterOp;
  value?: BiFilterValue | BiFilterValue[];
  /** `type: EXCLUDE` → `!` prefix. */
  negate?: boolean;
}
/** One inner list of `dimensionsFilters`: a numeric-keyed `{LOGIC: OR, 0: {…}, 1: {…}}` group. */
export interface BiOrGroup {
  or: BiCondition[];
}
/** `dateRange` on the time column: `>=FIELD` start of `from`, `<=FIELD` end (23:59:59) of `to`. */
export interface BiDateRange {
  dateRange: { field: string; from?: Date | string; to?: Date | string };
}
/** Top-level conditions become top-level keys (ANDed); OR groups take the next numeric key. */
export type BiFilterItem = BiCondition | BiOrGroup | BiDateRange;

/** Renders the structured filter into the PHP array Bitrix sends (order preserved via Maps). */
export function buildBiFilter(
  items: BiFilterItem[],
  locale: BiLocale,
  offsetMin: number,
): Map<string | number, PhpValue> {
  const lit = (v: BiFilterValue): PhpValue =>
    v instanceof Date ? formatBiDateTime(v, locale, offsetMin) : v;
  const entry = (c: BiCondition): [string, PhpValue] => {
    const key = `${c.negate ? '!' : ''}${c.op === 'isNull' ? '=' : c.op}${c.field}`;
    // IS_NULL is sent as PHP false, which the form encoding turns into "0" (§1.8).
    if (c.op === 'isNull') return [key, false];
    if (c.value === undefined) throw new TypeError(`filter ${key}: value required`);
    if (c.op === '><' && !(Array.isArray(c.value) && c.value.length === 2))
      throw new TypeError(`filter ${key}: needs [from, to]`);
    return [key, Array.isArray(c.value) ? c.value.map(lit) : lit(c.value)];
  };
  const out = new Map<string | number, PhpValue>();
  let next = 0;
  for (const item of items) {
    if ('or' in item) {
      const group = new Map<string | number, PhpValue>([['LOGIC', 'OR']]);
      item.or.forEach((c, i) => group.set(i, new Map([entry(c)])));
      out.set(next++, group);
    } else if ('dateRange' in item) {
      const { field, from, to } = item.dateRange;
      if (from !== undefined) out.set(`>=${field}`, dayBoundary(from, false, locale, offsetMin));
      if (to !== undefined) out.set(`<=${field}`, dayBoundary(to, true, locale, offsetMin));
    } else {
      const [k, v] = entry(item);
      out.set(k, v);
    }
  }
  return out;
}

// ───────────────────────── types and validation ─────────────────────────

/** Types a dataset column can take as Superset sees them (§1.9). */
export type BiFieldType = 'int' | 'string' | 'double' | 'date' | 'datetime';

/**
 * CORE `Source/Rest::mapType`: case-insensitive match against the FieldType enum, anything else →
 * string. `money` is folded into double (Superset shows it as DOUBLE) and `timezone` into string
 * (it has no Superset mapping), so callers only ever see the five real types.
 */
export function mapType(type: string): BiFieldType {
  const t = String(type).toLowerCase();
  if (t === 'money') return 'double';
  return t === 'int' || t === 'double' || t === 'date' || t === 'datetime' ? t : 'string';
}

const DESCRIBE_TYPES = new Set(['int', 'string', 'double', 'date', 'datetime', 'money']);

export type BiEndpoint = 'check' | 'tables' | 'describe' | 'data';

/** Everything wrong with one answer (or the transport failure that prevented one). */
export class BiProtocolError extends Error {
  constructor(
    readonly endpoint: BiEndpoint,
    readonly violations: string[],
    readonly status?: number,
    readonly body?: string,
  ) {
    super(`BI connector ${endpoint}: ${violations.join('; ')}`);
    this.name = 'BiProtocolError';
  }
}

export interface BiTable {
  code: string;
  title: string;
  id?: unknown;
}
export interface BiColumn {
  code: string;
  name: string;
  type: BiFieldType;
}
export interface BiDataResult {
  header: string[];
  rows: unknown[][];
  /** The body exactly as received: on the Superset path Bitrix forwards it untouched. */
  raw: string;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** PHP `empty()` on a value decoded as PHP does (objects become arrays): "" and "0" are empty too,
 *  which Bitrix relies on. Shared with the biconnector.* methods. */
export const phpEmpty = (v: unknown) =>
  v === undefined ||
  v === null ||
  v === false ||
  v === 0 ||
  v === '' ||
  v === '0' ||
  (Array.isArray(v) && v.length === 0) ||
  (isObj(v) && Object.keys(v).length === 0);

/** Collects violations, keeping the message readable when a big answer is wrong everywhere. */
class Violations {
  readonly list: string[] = [];
  private dropped = 0;
  add(msg: string) {
    if (this.list.length < 50) this.list.push(msg);
    else this.dropped++;
  }
  done(): string[] {
    return this.dropped ? [...this.list, `… and ${this.dropped} more`] : this.list;
  }
}

function validDay(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

const VALUE_CHECKS: Record<BiFieldType, [string, (v: unknown) => boolean]> = {
  int: ['a JSON integer', (v) => typeof v === 'number' && Number.isInteger(v)],
  double: ['a JSON number', (v) => typeof v === 'number' && Number.isFinite(v)],
  string: ['a string', (v) => typeof v === 'string'],
  date: [
    "'YYYY-MM-DD'",
    (v) => {
      const m = typeof v === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(v) : null;
      return !!m && validDay(+m[1]!, +m[2]!, +m[3]!);
    },
  ],
  datetime: [
    "'YYYY-MM-DD HH:MM:SS'",
    (v) => {
      const m = typeof v === 'string' ? /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(v) : null;
      return !!m && validDay(+m[1]!, +m[2]!, +m[3]!) && +m[4]! < 24 && +m[5]! < 60 && +m[6]! < 60;
    },
  ],
};

export function validateTables(parsed: unknown): string[] {
  const v = new Violations();
  if (!Array.isArray(parsed)) return ['answer is not a JSON array'];
  const seen = new Set<string>();
  parsed.forEach((t, i) => {
    if (!isObj(t)) return v.add(`table #${i}: not an object`);
    for (const k of ['code', 'title']) {
      if (typeof t[k] !== 'string' || phpEmpty(t[k]))
        v.add(`table #${i}: "${k}" must be a non-empty string (not "0")`);
    }
    if (typeof t.code === 'string') {
      if (seen.has(t.code)) v.add(`table #${i}: duplicate code "${t.code}"`);
      seen.add(t.code);
    }
  });
  return v.done();
}

export function validateDescription(parsed: unknown): string[] {
  const v = new Violations();
  if (!Array.isArray(parsed)) return ['answer is not a JSON array'];
  if (parsed.length === 0) return ['empty table description (Bitrix rejects [])'];
  const seen = new Set<string>();
  parsed.forEach((c, i) => {
    if (!isObj(c)) return v.add(`column #${i}: not an object`);
    for (const k of ['code', 'name', 'type']) {
      if (typeof c[k] !== 'string' || phpEmpty(c[k]))
        v.add(`column #${i}: "${k}" must be a non-empty string (not "0")`);
    }
    if (typeof c.type === 'string' && c.type && !DESCRIBE_TYPES.has(c.type.toLowerCase())) {
      v.add(
        `column #${i}: type "${c.type}" is not int|string|double|date|datetime (Bitrix would silently make it string)`,
      );
    }
    if (typeof c.code === 'string') {
      if (seen.has(c.code)) v.add(`column #${i}: duplicate code "${c.code}"`);
      seen.add(c.code);
    }
  });
  return v.done();
}

export interface BiDataExpectations {
  select?: string[];
  limit?: number;
  /** The table description (or the dataset's fields as {code, type}; raw types go through mapType): enables header and value checks. */
  columns?: { code: string; type: string }[];
  /** externalCode → dataset NAME, to find a column's type when the header uses NAMEs. */
  mapFields?: Record<string, string>;
}

export function validateData(parsed: unknown, exp: BiDataExpectations): string[] {
  const v = new Violations();
  if (!Array.isArray(parsed)) return ['answer is not a JSON array'];
  const [header, ...rows] = parsed as unknown[];
  if (
    !Array.isArray(header) ||
    header.length === 0 ||
    !header.every((h) => typeof h === 'string' && h !== '')
  ) {
    return [
      parsed.length === 0
        ? 'header row missing (even zero rows need [["COL",…]])'
        : 'first element is not a header row of non-empty strings',
    ];
  }
  const names = header as string[];
  if (new Set(names).size !== names.length) v.add(`duplicate header columns: ${names.join(',')}`);
  // Each header column → its described type, whether the app answers with externalCodes or NAMEs.
  const typeOf = new Map<string, BiFieldType>();
  for (const c of exp.columns ?? []) {
    typeOf.set(c.code, mapType(c.type));
    const alias = exp.mapFields?.[c.code];
    if (alias) typeOf.set(alias, mapType(c.type));
  }
  const select = exp.select?.length ? exp.select : undefined;
  if (select) {
    if (names.join('\u0000') !== select.join('\u0000'))
      v.add(`header [${names.join(',')}] != select [${select.join(',')}] (same columns, same order)`);
  } else if (exp.columns) {
    const missing = exp.columns.filter(
      (c) => !names.includes(c.code) && !names.includes(exp.mapFields?.[c.code] ?? '\u0000'),
    );
    if (missing.length)
      v.add(
        `header lacks described columns ${missing.map((c) => c.code).join(',')} (no select ⇒ all columns)`,
      );
  }
  if (exp.columns) {
    const unknown = names.filter((h) => !typeOf.has(h));
    if (unknown.length) v.add(`header columns not in the description: ${unknown.join(',')}`);
  }
  if (exp.limit !== undefined && exp.limit > 0 && rows.length > exp.limit)
    v.add(`${rows.length} rows returned for limit=${exp.limit}`);
  rows.forEach((row, r) => {
    if (!Array.isArray(row)) return v.add(`row ${r + 1}: not an array`);
    if (row.length !== names.length)
      v.add(`row ${r + 1}: width ${row.length} != header width ${names.length}`);
    row.forEach((val, i) => {
      const t = typeOf.get(names[i] ?? '');
      if (val === null || !t) return;
      const [what, ok] = VALUE_CHECKS[t];
      if (!ok(val)) v.add(`row ${r + 1}, ${names[i]} (${t}): ${JSON.stringify(val)} is not ${what}`);
    });
  });
  return v.done();
}

// ───────────────────────── transport ─────────────────────────

export interface BiConnectorUrls {
  urlCheck: string;
  urlTableList: string;
  urlTableDescription: string;
  urlData: string;
}

export interface BiClientOptions {
  locale?: BiLocale;
  /** Abort when no byte arrives for this long (HttpClient streamTimeout 60 s, §1.2). */
  idleTimeoutMs?: number;
  /** Connect timeout (`setTimeout(250)` in Source/Rest.php). */
  connectTimeoutMs?: number;
  /** Offset (minutes east of UTC) a Date filter value is rendered in. Default 0. */
  utcOffsetMinutes?: number;
}

interface RawAnswer {
  status: number;
  bytes: Buffer;
}

const MAX_REDIRECTS = 5;

export interface BiDataQuery {
  table: string;
  select?: string[];
  filter?: BiFilterItem[];
  /** Bitrix always sends it; 0 (the default, as on BI queries) means "no limit". */
  limit?: number;
  mapFields?: Record<string, string>;
  /** Description to validate header and values against (optional; raw types are mapped). */
  columns?: { code: string; type: string }[];
}

export class BiBuilderClient {
  readonly locale: BiLocale;
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly utcOffsetMinutes: number;

  constructor(
    readonly urls: BiConnectorUrls,
    readonly connection: Record<string, string | number>,
    opts: BiClientOptions = {},
  ) {
    this.locale = opts.locale ?? 'ru';
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 250_000;
    this.utcOffsetMinutes = opts.utcOffsetMinutes ?? 0;
  }

  /** urlCheck: `connection[...]` only; any 200 body that is not "" / "0" passes. */
  async check(): Promise<{ status: number; body: string }> {
    const a = await this.call('check', this.urls.urlCheck, { connection: this.connection });
    return { status: a.status, body: a.bytes.toString('utf8') };
  }

  /** urlTableList: `searchString` absent (undefined/null), empty or set, then `connection`. */
  async tables(searchString?: string | null): Promise<BiTable[]> {
    const a = await this.call('tables', this.urls.urlTableList, {
      searchString,
      connection: this.connection,
    });
    return this.checked('tables', a, validateTables).parsed as BiTable[];
  }

  async describe(table: string): Promise<BiColumn[]> {
    const a = await this.call('describe', this.urls.urlTableDescription, {
      table,
      connection: this.connection,
    });
    const cols = this.checked('describe', a, validateDescription).parsed as Record<string, string>[];
    return cols.map((c) => ({ code: c.code!, name: c.name!, type: mapType(c.type!) }));
  }

  /** The form body of a data call, in Bitrix's wire order: select, filter, limit, connection, table, mapFields. */
  dataBody(q: BiDataQuery): string {
    return phpBuildQuery({
      select: q.select,
      filter: q.filter ? buildBiFilter(q.filter, this.locale, this.utcOffsetMinutes) : undefined,
      limit: q.limit ?? 0,
      connection: this.connection,
      table: q.table,
      mapFields: q.mapFields ? new Map(Object.entries(q.mapFields)) : undefined,
    });
  }

  async data(q: BiDataQuery): Promise<BiDataResult> {
    const a = await this.send('data', this.urls.urlData, this.dataBody(q));
    const { parsed, text } = this.checked('data', a, (p) => validateData(p, q));
    const table = parsed as unknown[][];
    return { header: table[0] as string[], rows: table.slice(1), raw: text };
  }

  private call(endpoint: BiEndpoint, url: string, body: PhpArray): Promise<RawAnswer> {
    return this.send(endpoint, url, phpBuildQuery(body));
  }

  /** Transport + Bitrix's own success test (processResponse: `!$answer`, then status === 200). */
  private async send(endpoint: BiEndpoint, url: string, body: string): Promise<RawAnswer> {
    let a: RawAnswer;
    try {
      a = await this.postFollowing(url, body);
    } catch (e) {
      throw new BiProtocolError(endpoint, [e instanceof Error ? e.message : String(e)]);
    }
    const v: string[] = [];
    if (a.status !== 200) v.push(`HTTP ${a.status} (Bitrix accepts exactly 200)`);
    // "" or "0" without decoding what may be a body of hundreds of megabytes.
    if (a.bytes.length === 0 || (a.bytes.length === 1 && a.bytes[0] === 0x30))
      v.push(
        `empty answer ${JSON.stringify(a.bytes.toString('utf8'))} (PHP !$answer treats "" and "0" as failure)`,
      );
    if (v.length) throw new BiProtocolError(endpoint, v, a.status, a.bytes.toString('utf8'));
    return a;
  }

  private checked(
    endpoint: BiEndpoint,
    a: RawAnswer,
    validate: (parsed: unknown) => string[],
  ): { parsed: unknown; text: string } {
    let parsed: unknown;
    let text: string;
    try {
      // Json::decode is strict UTF-8 and does not skip a BOM; neither do we.
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(a.bytes);
      parsed = JSON.parse(text);
    } catch (e) {
      throw new BiProtocolError(
        endpoint,
        [`invalid JSON: ${e instanceof Error ? e.message : String(e)}`],
        a.status,
        a.bytes.toString('utf8'),
      );
    }
    const v = validate(parsed);
    if (v.length) throw new BiProtocolError(endpoint, v, a.status, text);
    return { parsed, text };
  }

  /**
   * HttpClient::query follows any answer carrying `Location` (up to 5 times); 302/303 switch to
   * GET. Whether the body is re-sent then is UNCONFIRMED — we drop it on GET, keep it otherwise.
   */
  private async postFollowing(url: string, body: string): Promise<RawAnswer> {
    let target = new URL(url);
    let method = 'POST';
    for (let hop = 0; ; hop++) {
      const r = await this.once(target, method, method === 'POST' ? body : null);
      if (!r.location) return r;
      if (hop >= MAX_REDIRECTS)
        throw new Error(`Maximum number of redirects (${MAX_REDIRECTS}) has been reached at URL ${url}`);
      if (r.status === 302 || r.status === 303) method = 'GET';
      target = new URL(r.location, target);
    }
  }

  private once(url: URL, method: string, body: string | null): Promise<RawAnswer & { location?: string }> {
    return new Promise((resolve, reject) => {
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        return reject(new Error('Only http and https shemes are supported.'));
      // The headers Bitrix's HttpClient::buildRequest adds; Connection: close, one request per socket.
      const headers: Record<string, string | number> = {
        Connection: 'close',
        Accept: '*/*',
        'Accept-Language': 'en',
      };
      if (method === 'POST') headers['Content-Type'] = 'application/x-www-form-urlencoded';
      const payload = body === null ? null : Buffer.from(body, 'utf8');
      if (payload) headers['Content-Length'] = payload.length;
      const lib = url.protocol === 'https:' ? https : http;
      let timer: NodeJS.Timeout | undefined;
      const fail = (msg: string) => req.destroy(new Error(msg));
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(
          () => fail(`idle timeout: no byte received for ${this.idleTimeoutMs} ms`),
          this.idleTimeoutMs,
        );
      };
      const req = lib.request(url, { method, headers, agent: false }, (res) => {
        arm();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          arm();
          chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(timer);
          const loc = res.headers.location;
          resolve({
            status: res.statusCode ?? 0,
            bytes: Buffer.concat(chunks),
            location: loc ? String(loc) : undefined,
          });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
      timer = setTimeout(
        () => fail(`connect timeout after ${this.connectTimeoutMs} ms`),
        this.connectTimeoutMs,
      );
      // The 60 s read timeout starts once the socket is up (curl/socket stream timeout, not connect).
      req.on('socket', (s) => (s.connecting ? s.once('connect', arm) : arm()));
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      req.end(payload ?? undefined);
    });
  }
}
