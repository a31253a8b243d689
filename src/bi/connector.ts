// The app's side of BI Builder's external-connector protocol (reference bi-builder-connector.md §1):
// authentication by the source's secret, the table list, table descriptions and the data itself,
// streamed. Routes (src/bi/routes.ts) only parse bodies and hand over.
import { Readable } from 'node:stream';
import SQLite from 'better-sqlite3';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { today } from '../clinic/calendar.js';
import type { Dialect } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { AppError } from '../http/errors.js';
import { namesFor } from '../kpi/names.js';
import type { KpiRegistry } from '../kpi/registry.js';
import { clinicServices } from '../kpi/services.js';
import { buildDatasets, type BiDataset, type BiField, type BiType } from './datasets.js';
import { compileFilter, dateRangeOf, FilterError } from './filter.js';
import { asList, FormError, type FormMap, type FormValue } from './form.js';
import type { BiStore } from './store.js';

/** The one setting the connector declares: the source's secret, echoed as `connection[token]`. */
export const SECRET_CODE = 'token';

export interface ConnectorOptions {
  /** Rows per keyset page: one short query each, written out before the next is read. */
  batchRows?: number;
}

export interface StreamStats {
  /** Data responses still reading the store. */
  open: number;
  /** Pages read since start. */
  pages: number;
}

const bad = (message: string) => new AppError(400, 'invalid_request', message);

/**
 * The JSON text of a row, written by the store itself (reference §1.7 value formats) from SQL values
 * of field types: ints as integers (a fraction truncated), doubles as numbers (integral ones without
 * a fraction, as JSON.stringify writes them; non-finite ones null), strings quoted, dates `YYYY-MM-DD`,
 * datetimes `YYYY-MM-DD HH:MM:SS`, null for missing, and (SQLite, where a column holds any storage
 * class) a text where a number belongs null. PostgreSQL's columns are typed: an int field's column is
 * an integer one there, so its cast never rounds. Rows built in SQL cost a third of rows built value by
 * value in JS (an object per value, then the UTF-8 encoding of the text), and a page of them leaves as
 * one text.
 */
export function rowJson(dialect: Dialect, values: { type: BiType; sql: string }[]): string {
  const json = values.map(({ type, sql: v }) => {
    if (dialect === 'sqlite') {
      // A page names the columns of its subquery here: evaluated once, however often they are named.
      const real = `CASE WHEN abs(${v}) < 1e15 AND ${v} = CAST(${v} AS INTEGER) THEN CAST(${v} AS INTEGER) WHEN abs(${v}) <= 1.7976931348623157e308 THEN ${v} END`;
      switch (type) {
        case 'int':
          return `CASE typeof(${v}) WHEN 'integer' THEN ${v} WHEN 'real' THEN CASE WHEN abs(${v}) < 9.2e18 THEN CAST(${v} AS INTEGER) END END`;
        case 'double':
          return `CASE typeof(${v}) WHEN 'integer' THEN ${v} WHEN 'real' THEN ${real} END`;
        case 'string':
          return `CASE typeof(${v}) WHEN 'real' THEN CAST(${real} AS TEXT) ELSE CAST(${v} AS TEXT) END`;
        case 'date':
          return `substr(CAST(${v} AS TEXT), 1, 10)`;
        case 'datetime':
          return `replace(substr(CAST(${v} AS TEXT), 1, 19), 'T', ' ')`;
      }
    }
    // PostgreSQL: each value's JSON text (json_build_array would put a space after every comma).
    switch (type) {
      case 'int':
        return `COALESCE(CAST(${v} AS BIGINT)::text, 'null')`;
      case 'double':
        // float8's text is the shortest exact one (PostgreSQL ≥ 12), `1500` for 1500.0, as in JS.
        return `CASE WHEN CAST(${v} AS DOUBLE PRECISION) IN ('Infinity', '-Infinity', 'NaN') THEN 'null' ELSE COALESCE(CAST(${v} AS DOUBLE PRECISION)::text, 'null') END`;
      case 'string':
        return `COALESCE(to_json(CAST(${v} AS TEXT))::text, 'null')`;
      case 'date':
        return `COALESCE(to_json(substr(CAST(${v} AS TEXT), 1, 10))::text, 'null')`;
      case 'datetime':
        return `COALESCE(to_json(replace(substr(CAST(${v} AS TEXT), 1, 19), 'T', ' '))::text, 'null')`;
    }
  });
  return dialect === 'sqlite' ? `json_array(${json.join(', ')})` : `'[' || ${json.join(` || ',' || `)} || ']'`;
}

export interface DataRequest {
  dataset: BiDataset;
  columns: { header: string; field: BiField }[];
  where: RawBuilder<unknown> | null;
  /** 0 = every row (BI Builder's `limit=0`, §1.7). */
  limit: number;
  /** The filter's days on the dataset's rangeField, for a source that can narrow itself. */
  range?: { from: string | null; to: string | null };
}

/** A keyset page as the store writes it: its rows' JSON joined by commas (bytes from SQLite), their
 *  count and last key. */
interface PageText {
  text: Buffer | string | null;
  n: number;
  last: number | null;
}

/** Placeholders compiled into the SQLite page statement, replaced by position: BigInts, which no
 *  filter value ever is, so they cannot be confused with one. */
const LAST = -9007199254740993n;
const TAKE = -9007199254740994n;
/** Datasets whose source joins the doctor and direction name tables. */
const NAMED = new Set(['clinic_visits', 'clinic_doctors', 'clinic_directions']);

export class BiConnector {
  readonly datasets: BiDataset[];
  private readonly byName: Map<string, BiDataset>;
  private readonly batchRows: number;
  readonly stats: StreamStats = { open: 0, pages: 0 };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    readonly store: BiStore,
    registry: KpiRegistry,
    opts: ConnectorOptions = {},
  ) {
    this.datasets = buildDatasets(registry);
    this.byName = new Map(this.datasets.map((d) => [d.name, d]));
    this.batchRows = opts.batchRows ?? 1000;
  }

  private fileOfStore: Promise<string | null> | undefined;
  /** The SQLite store's file, or null for an in-memory one (then pages go through Kysely). */
  private sqliteFile(): Promise<string | null> {
    this.fileOfStore ??= sql<{ file: string }>`SELECT file FROM pragma_database_list WHERE name = 'main'`
      .execute(this.db)
      .then((r) => r.rows[0]?.file || null);
    return this.fileOfStore;
  }

  /** 401 unless `connection[token]` is this portal's source secret. Same answer for an unknown portal. */
  async authorize(portalId: string | undefined, body: FormMap): Promise<string> {
    const conn = body.get('connection');
    const token = conn instanceof Map ? conn.get(SECRET_CODE) : undefined;
    const ok = await this.store.verify(portalId ?? '', typeof token === 'string' ? token : undefined);
    if (!ok || !portalId) throw new AppError(401, 'bi_unauthorized', 'the connection token is missing or does not match the BI Builder source of this portal');
    return portalId;
  }

  tables(search: string | undefined): { code: string; title: string }[] {
    const q = (search ?? '').trim().toLowerCase();
    return this.datasets
      .filter((d) => !q || d.name.includes(q) || d.title.toLowerCase().includes(q) || d.description.toLowerCase().includes(q))
      .map((d) => ({ code: d.name, title: d.title }));
  }

  private dataset(table: FormValue | undefined): BiDataset {
    if (typeof table !== 'string' || table === '') throw bad('table: missing (the dataset code)');
    const d = this.byName.get(table);
    if (!d) throw bad(`table: unknown table "${table.slice(0, 60)}"; the tables are ${[...this.byName.keys()].join(', ')}`);
    return d;
  }

  describe(table: FormValue | undefined): { code: string; name: string; type: BiType }[] {
    return this.dataset(table).fields.map((f) => ({ code: f.code, name: f.title, type: f.type }));
  }

  /** Validates a urlData body into a query: a 400 naming the problem before any byte is sent. */
  plan(body: FormMap): DataRequest {
    try {
      const dataset = this.dataset(body.get('table'));
      const byCode = new Map(dataset.fields.map((f) => [f.code, f]));
      // mapFields: externalCode → dataset NAME. Ours are identical, but a renamed field (supportMapping)
      // still resolves; codes we no longer have are ignored (a dataset registered by an older version).
      const byName = new Map<string, BiField>();
      const map = body.get('mapFields');
      if (map !== undefined) {
        if (typeof map === 'string') throw bad('mapFields must be an array (mapFields[CODE]=NAME)');
        for (const [code, name] of map) {
          const f = byCode.get(code);
          if (f && typeof name === 'string' && name) byName.set(name, f);
        }
      }
      const field = (name: string) => byName.get(name) ?? byCode.get(name);
      const select = asList(body.get('select'), 'select');
      let columns: DataRequest['columns'];
      if (select === undefined) columns = dataset.fields.map((f) => ({ header: f.code, field: f }));
      else {
        columns = select.map((s, i) => {
          if (typeof s !== 'string') throw bad(`select[${i}] must be a field name`);
          const f = field(s);
          if (!f) throw bad(`select[${i}]: unknown field "${s.slice(0, 60)}" in ${dataset.name}`);
          return { header: s, field: f };
        });
      }
      const rawLimit = body.get('limit');
      if (rawLimit !== undefined && (typeof rawLimit !== 'string' || !/^\d{1,9}$/.test(rawLimit))) throw bad('limit must be a non-negative integer');
      const filterCtx = { dialect: this.dialect, field, dataset: dataset.name };
      const where = compileFilter(filterCtx, body.get('filter'));
      const range = dataset.rangeField ? dateRangeOf(filterCtx, body.get('filter'), dataset.rangeField) : undefined;
      return { dataset, columns, where, limit: rawLimit === undefined ? 0 : Number(rawLimit), ...(range ? { range } : {}) };
    } catch (e) {
      if (e instanceof FilterError || e instanceof FormError) throw bad(e.message);
      throw e;
    }
  }

  /**
   * The answer `[[header…], [row…], …]` as a stream: the header first, then one chunk per page of
   * rows, each read only when the previous one was taken by the socket (backpressure). A client that
   * goes away destroys the stream, which ends the generator: no further page is read.
   */
  async stream(portalId: string, req: DataRequest): Promise<Readable> {
    const { settings, syncedAt } = await clinicServices(this.db).facts.ensureFresh(portalId);
    if (!syncedAt) throw new AppError(503, 'not_synced', 'the portal has no finished sync yet: the clinic data is not there to serve');
    // Name tables only for the datasets that show names (the first byte waits for them).
    const named = NAMED.has(req.dataset.name);
    const [doctorNames, directionNames] = named
      ? await Promise.all([namesFor(this.db, portalId, 'doctor', settings, ['*']), namesFor(this.db, portalId, 'direction', settings, ['*'])])
      : [new Map<string, string>(), new Map<string, string>()];
    const source = req.dataset.source({
      portalId,
      dialect: this.dialect,
      doctorNames,
      directionNames,
      today: today(settings.timeZone),
      ...(req.range ? { range: req.range } : {}),
    });
    const cols = sql.join(req.columns.map((c, i) => sql`${sql.raw(c.field.expr)} AS ${sql.raw(`c${i}`)}`));
    const pageRow = sql.raw(rowJson(this.dialect, req.columns.map((c, i) => ({ type: c.field.type, sql: `p.c${i}` }))));
    const where = req.where ?? sql`1 = 1`;
    const header = `[${JSON.stringify(req.columns.map((c) => c.header))}`;
    const { db, stats, batchRows, dialect } = this;
    const key = req.dataset.key;
    /** The keyset page of `take` rows after the key `last` (from the first row when null). */
    const page = (last: RawBuilder<unknown> | null, take: RawBuilder<unknown> | number) => {
      const after = last === null ? sql`` : sql`AND ${sql.raw(key!)} > ${last}`;
      const rows = sql`SELECT ${sql.raw(key!)} AS k__, ${cols} FROM ${source} f WHERE ${where} ${after} ORDER BY ${sql.raw(key!)} LIMIT ${take}`;
      // Rows are joined in the order the subquery gives them (its ORDER BY stands: it has a LIMIT); the
      // next page starts after MAX(key) whatever that order, so no row is lost or repeated either way
      // (an ORDER BY in string_agg cost PostgreSQL a sort per page, a sixth of its time). SQLite's
      // text comes back as bytes, ready for the socket.
      const text = dialect === 'sqlite' ? sql`CAST(group_concat(${pageRow}, ',') AS BLOB)` : sql`string_agg(${pageRow}, ',')`;
      return sql<PageText>`SELECT ${text} AS text, COUNT(*) AS n, MAX(p.k__) AS last FROM (${rows}) p`;
    };

    const file = key && dialect === 'sqlite' ? await this.sqliteFile() : null;
    /**
     * SQLite: the same keyset pages on a read-only connection of this stream's own, inside one read
     * transaction — a consistent snapshot across pages (WAL: writers are not blocked) — with one
     * prepared statement. Kysely's single connection stays free for everything else meanwhile.
     */
    async function* sqlitePages(path: string, limit: number): AsyncGenerator<Buffer | string> {
      const compiled = page(sql`${LAST}`, sql`${TAKE}`).compile(db);
      const params = [...compiled.parameters];
      const lastAt = params.indexOf(LAST);
      const takeAt = params.indexOf(TAKE);
      const conn = new SQLite(path, { readonly: true, fileMustExist: true });
      try {
        conn.pragma('busy_timeout = 5000');
        // Pages are read once, in key order: a small page cache (not better-sqlite3's 16 MB) keeps the
        // server's memory flat per open stream (bench:bi: RSS growth 56 → 37 MB, no slower).
        conn.pragma('cache_size = -2000');
        const stmt = conn.prepare(compiled.sql).raw(true);
        conn.exec('BEGIN');
        params[lastAt] = Number.MIN_SAFE_INTEGER;
        let left = limit;
        while (left > 0) {
          const take = Math.min(batchRows, left);
          params[takeAt] = take;
          const [text, n, last] = stmt.get(...params) as [Buffer | null, number, number | null];
          stats.pages++;
          if (n === 0) break;
          yield ',';
          yield text!;
          left -= n;
          if (n < take) break;
          params[lastAt] = last;
        }
      } finally {
        if (conn.inTransaction) conn.exec('COMMIT');
        conn.close();
      }
    }

    async function* pages(): AsyncGenerator<Buffer | string> {
      stats.open++;
      try {
        yield header;
        let left = req.limit > 0 ? req.limit : Infinity;
        if (!key) {
          const lim = Number.isFinite(left) ? sql`LIMIT ${left}` : sql``;
          const row = sql.raw(rowJson(dialect, req.columns.map((c) => ({ type: c.field.type, sql: `(${c.field.expr})` }))));
          const res = await sql<{ j: string }>`SELECT ${row} AS j FROM ${source} f WHERE ${where} ORDER BY ${sql.raw(req.dataset.order ?? '1')} ${lim}`.execute(db);
          stats.pages++;
          for (let i = 0; i < res.rows.length; i += batchRows) yield ',' + res.rows.slice(i, i + batchRows).map((r) => r.j).join(',');
        } else if (file) {
          yield* sqlitePages(file, left);
        } else {
          // PostgreSQL: each page borrows a pool connection only for its query. A snapshot across
          // pages would hold a connection for the whole (client-paced) stream, and a dashboard's
          // parallel queries would starve the pool the app shares; keyset pages still give every row
          // once, a fact refresh committing mid-stream shows its new rows in the later pages.
          let last: number | null = null;
          while (left > 0) {
            const take = Math.min(batchRows, left);
            const res: { rows: PageText[] } = await page(last === null ? null : sql`${last}`, take).execute(db);
            const { text, n, last: end } = res.rows[0]!;
            stats.pages++;
            if (!n) break;
            yield ',';
            yield text!;
            left -= n;
            if (n < take) break;
            last = end;
          }
        }
        yield ']';
      } finally {
        stats.open--;
      }
    }
    return Readable.from(pages(), { objectMode: false, highWaterMark: 64 * 1024 });
  }
}
