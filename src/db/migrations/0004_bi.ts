// The BI Builder connector's registration per portal (src/bi/): the connector, source and datasets the
// app created in the portal, the source's secret sealed with APP_SECRET (and a pending one while
// biconnector.source.add is checking it through urlCheck), and a status for the admin screen.
// Frozen in time.
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('bi_connector')
    .addColumn('portal_id', 'text', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('secret', 'text')
    .addColumn('pending_secret', 'text')
    .addColumn('connector_id', 'bigint')
    .addColumn('source_id', 'bigint')
    .addColumn('datasets', 'text')
    .addColumn('registered_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}
