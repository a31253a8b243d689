// The app's own rows (table portal_app, migration 0003) and the whole-portal operations of the app
// lifecycle. Everything is keyed by portal_id like every other table.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface PortalAppTable {
  portal_id: string;
  app_id: number;
  app_code: string;
  installed_by: number | null;
  installed_via: 'iframe' | 'event';
  language: string | null;
  installed_at: string;
  updated_at: string;
}

type AppDb = Kysely<Database & { portal_app: PortalAppTable }>;

const appDb = (db: Kysely<Database>): AppDb => db.withTables<{ portal_app: PortalAppTable }>();

export async function saveInstall(
  db: Kysely<Database>,
  r: Omit<PortalAppTable, 'installed_at' | 'updated_at'>,
): Promise<void> {
  const t = new Date().toISOString();
  const { portal_id: _p, ...rest } = r;
  await appDb(db)
    .insertInto('portal_app')
    .values({ ...r, installed_at: t, updated_at: t })
    .onConflict((oc) => oc.column('portal_id').doUpdateSet({ ...rest, updated_at: t }))
    .execute();
}

export async function getInstall(db: Kysely<Database>, portalId: string): Promise<PortalAppTable | undefined> {
  return appDb(db).selectFrom('portal_app').selectAll().where('portal_id', '=', portalId).executeTakeFirst();
}

/** Registered portals whose host is `domain` (the iframe's DOMAIN query names it). */
export async function portalIdsByDomain(db: Kysely<Database>, domain: string): Promise<string[]> {
  const rows = await db.selectFrom('portal').select('portal_id').where('domain', '=', domain).where('status', '!=', 'uninstalled').execute();
  return rows.map((r) => r.portal_id);
}

/** Every table holding per-portal rows: found in the live schema, so tables added by later
 *  migrations are covered without being listed here. */
export async function portalTables(db: Kysely<Database>): Promise<string[]> {
  const tables = await db.introspection.getTables();
  return tables
    .filter((t) => !t.isView && t.columns.some((c) => c.name === 'portal_id'))
    .map((t) => t.name)
    .sort();
}

/** Deletes every row of a portal in every table, tokens included, in one transaction. */
export async function purgePortal(db: Kysely<Database>, portalId: string): Promise<Record<string, number>> {
  const tables = await portalTables(db);
  const untyped = db as unknown as Kysely<Record<string, { portal_id: string }>>;
  return untyped.transaction().execute(async (trx) => {
    const deleted: Record<string, number> = {};
    // The portal row last: nothing half-deleted stays addressable if the transaction is retried.
    for (const table of [...tables.filter((t) => t !== 'portal'), 'portal']) {
      const res = await trx.deleteFrom(table).where('portal_id', '=', portalId).executeTakeFirst();
      deleted[table] = Number(res.numDeletedRows);
    }
    return deleted;
  });
}

/** Uninstalled without CLEAN: the data stays for a reinstall, the dead tokens go. */
export async function markUninstalled(db: Kysely<Database>, portalId: string): Promise<void> {
  await db
    .updateTable('portal')
    .set({
      status: 'uninstalled',
      status_reason: 'the app was uninstalled from the portal',
      access_token: null,
      refresh_token: null,
      expires_at: null,
      updated_at: new Date().toISOString(),
    })
    .where('portal_id', '=', portalId)
    .execute();
}
