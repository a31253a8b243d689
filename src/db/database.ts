// The store: Kysely over better-sqlite3 (a WAL file under ./data/ by default) or over PostgreSQL
// when DATABASE_URL is a postgres:// URL. Dialect differences live here and in the migrations only.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Migration, type MigrationResultSet } from 'kysely';
import pg from 'pg';
import * as m0001 from './migrations/0001_mirror.js';
import * as m0002 from './migrations/0002_clinic.js';
import * as m0003 from './migrations/0003_app.js';
import * as m0004 from './migrations/0004_bi.js';
import * as m0005 from './migrations/0005_rollups.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
}

/** Forward-only, applied in name order. Each migration gets the dialect for the few types that differ. */
const MIGRATIONS: Record<string, { up(db: Kysely<unknown>, dialect: Dialect): Promise<void> }> = {
  '0001_mirror': m0001,
  '0002_clinic': m0002,
  '0003_app': m0003,
  '0004_bi': m0004,
  '0005_rollups': m0005,
};

const PG_INT8 = 20;
const PG_NUMERIC = 1700;

export function dialectOf(url: string): Dialect {
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  if (url.startsWith('file:')) return 'sqlite';
  throw new Error(`DATABASE_URL must be file:<path> or postgres://…, got "${url}"`);
}

/** Opens the store named by a DATABASE_URL. Does not migrate: call `migrate` (start does). */
export function openStore(url: string): Store {
  const dialect = dialectOf(url);
  if (dialect === 'sqlite') {
    const path = url.slice('file:'.length);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const sqlite = new SQLite(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    // The default page cache (2 MB) is smaller than a year of a large clinic's fact indexes: KPI
    // scans then re-read pages through the OS on every request. 64 MB keeps them in memory.
    sqlite.pragma('cache_size = -65536');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    return { db, dialect, close: () => db.destroy() };
  }
  // BIGINT (int8) and NUMERIC come back from pg as strings; our integers (ids, kopecks) fit in 2^53,
  // and KPI ratios are presented as doubles anyway.
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === PG_INT8 || oid === PG_NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle pooled connection can be closed by the server (restart, failover, a forced DROP in
  // tests); pg then emits 'error' on the pool, which would crash the process without a listener. The
  // pool replaces the client; a query in flight still fails with its own error.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect, close: () => db.destroy() };
}

/** Applies pending migrations; throws with the failing migration's name. */
export async function migrate(store: Store): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db: store.db,
    provider: {
      getMigrations: async () =>
        Object.fromEntries(
          Object.entries(MIGRATIONS).map(([name, mig]): [string, Migration] => [
            name,
            { up: (db) => mig.up(db, store.dialect) },
          ]),
        ),
    },
  });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    const why = result.error instanceof Error ? result.error.message : String(result.error);
    throw new Error(failed ? `migration ${failed} failed: ${why}` : `cannot migrate the store: ${why}`);
  }
  return result;
}
