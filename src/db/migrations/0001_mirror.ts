// The first schema: portals, the CRM mirror, and sync bookkeeping. Frozen in time — later changes
// get new migration files, never edits here.
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/** Columns every mirrored CRM table starts with. */
function mirrored(db: Kysely<unknown>, name: string) {
  return db.schema
    .createTable(name)
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('id', 'bigint', (c) => c.notNull())
    .addColumn('problems', 'text')
    .addColumn('synced_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint(`${name}_pk`, ['portal_id', 'id']);
}

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('portal')
    .addColumn('portal_id', 'text', (c) => c.primaryKey())
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('client_endpoint', 'text', (c) => c.notNull())
    .addColumn('server_endpoint', 'text')
    .addColumn('auth_kind', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('user_id', 'bigint')
    .addColumn('access_token', 'text')
    .addColumn('refresh_token', 'text')
    .addColumn('expires_at', 'bigint')
    .addColumn('webhook_url', 'text')
    .addColumn('application_token', 'text')
    .addColumn('token_version', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await mirrored(db, 'b24_deal')
    .addColumn('title', 'text')
    .addColumn('type_id', 'text')
    .addColumn('category_id', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('stage_id', 'text')
    .addColumn('stage_semantic_id', 'text')
    .addColumn('currency_id', 'text')
    .addColumn('opportunity_minor', 'bigint')
    .addColumn('is_manual_opportunity', 'text')
    .addColumn('contact_id', 'bigint')
    .addColumn('company_id', 'bigint')
    .addColumn('lead_id', 'bigint')
    .addColumn('assigned_by_id', 'bigint')
    .addColumn('source_id', 'text')
    .addColumn('begindate', 'text')
    .addColumn('closedate', 'text')
    .addColumn('date_create', 'text')
    .addColumn('date_modify', 'text')
    .addColumn('moved_time', 'text')
    .addColumn('closed', 'text')
    .addColumn('uf', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema.createIndex('b24_deal_modify').on('b24_deal').columns(['portal_id', 'date_modify']).execute();
  await db.schema.createIndex('b24_deal_contact').on('b24_deal').columns(['portal_id', 'contact_id']).execute();

  await mirrored(db, 'b24_product_row')
    .addColumn('deal_id', 'bigint', (c) => c.notNull())
    .addColumn('product_id', 'bigint')
    .addColumn('product_name', 'text')
    .addColumn('price_minor', 'bigint', (c) => c.notNull())
    .addColumn('price_account_minor', 'bigint')
    .addColumn('quantity', 'double precision', (c) => c.notNull())
    .addColumn('discount_type_id', 'integer')
    .addColumn('discount_rate', 'double precision')
    .addColumn('discount_sum_minor', 'bigint')
    .addColumn('tax_rate', 'double precision')
    .addColumn('tax_included', 'text')
    .addColumn('measure_name', 'text')
    .addColumn('sort', 'integer')
    .addColumn('type', 'integer')
    .execute();
  await db.schema.createIndex('b24_product_row_deal').on('b24_product_row').columns(['portal_id', 'deal_id']).execute();

  await mirrored(db, 'b24_contact')
    .addColumn('type_id', 'text')
    .addColumn('source_id', 'text')
    .addColumn('company_id', 'bigint')
    .addColumn('lead_id', 'bigint')
    .addColumn('assigned_by_id', 'bigint')
    .addColumn('birthdate', 'text')
    .addColumn('date_create', 'text')
    .addColumn('date_modify', 'text')
    .addColumn('name', 'text')
    .addColumn('last_name', 'text')
    .addColumn('second_name', 'text')
    .addColumn('uf', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();

  await mirrored(db, 'b24_user')
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('last_name', 'text')
    .addColumn('second_name', 'text')
    .addColumn('work_position', 'text')
    .addColumn('user_type', 'text')
    .addColumn('departments', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();

  await mirrored(db, 'b24_department')
    .addColumn('name', 'text')
    .addColumn('parent_id', 'bigint')
    .addColumn('sort', 'integer')
    .addColumn('head_id', 'bigint')
    .execute();

  await mirrored(db, 'b24_pipeline')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sort', 'integer')
    .addColumn('is_default', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('b24_status')
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('status_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sort', 'integer')
    .addColumn('category_id', 'bigint')
    .addColumn('semantics', 'text', (c) => c.notNull())
    .addColumn('color', 'text')
    .addColumn('synced_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('b24_status_pk', ['portal_id', 'entity_id', 'status_id'])
    .execute();

  await db.schema
    .createTable('b24_currency')
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('amount_cnt', 'integer', (c) => c.notNull())
    .addColumn('amount', 'double precision', (c) => c.notNull())
    .addColumn('base', 'integer', (c) => c.notNull())
    .addColumn('sort', 'integer')
    .addColumn('synced_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('b24_currency_pk', ['portal_id', 'currency'])
    .execute();

  await mirrored(db, 'b24_product')
    .addColumn('name', 'text')
    .addColumn('section_id', 'bigint')
    .addColumn('price_minor', 'bigint')
    .addColumn('currency_id', 'text')
    .addColumn('active', 'text')
    .execute();

  await mirrored(db, 'b24_product_section')
    .addColumn('name', 'text')
    .addColumn('parent_id', 'bigint')
    .addColumn('catalog_id', 'bigint')
    .execute();

  await db.schema
    .createTable('b24_user_field')
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('field_name', 'text', (c) => c.notNull())
    .addColumn('user_type_id', 'text', (c) => c.notNull())
    .addColumn('multiple', 'integer', (c) => c.notNull())
    .addColumn('label', 'text')
    .addColumn('enum_items', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('synced_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('b24_user_field_pk', ['portal_id', 'entity_id', 'field_name'])
    .execute();

  await db.schema
    .createTable('sync_run')
    .addColumn('id', dialect === 'postgres' ? 'serial' : 'integer', (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('requests', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('entities', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('sync_run_portal').on('sync_run').columns(['portal_id', 'id']).execute();

  await db.schema
    .createTable('sync_checkpoint')
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('entity', 'text', (c) => c.notNull())
    .addColumn('cursor', 'bigint')
    .addColumn('watermark', 'text')
    .addColumn('run_id', 'integer')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('sync_checkpoint_pk', ['portal_id', 'entity'])
    .execute();

  await db.schema
    .createTable('sync_lease')
    .addColumn('portal_id', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
}
