// The Bitrix24 application's own bookkeeping per portal: which app (app.info ID and CODE) the stored
// tokens belong to — the session exchange compares a user's token against it — and who installed it.
// Frozen in time.
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('portal_app')
    .addColumn('portal_id', 'text', (c) => c.primaryKey())
    .addColumn('app_id', 'bigint', (c) => c.notNull())
    .addColumn('app_code', 'text', (c) => c.notNull())
    .addColumn('installed_by', 'bigint')
    .addColumn('installed_via', 'text', (c) => c.notNull())
    .addColumn('language', 'text')
    .addColumn('installed_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}
