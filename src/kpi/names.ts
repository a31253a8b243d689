// Display names for dimension ids, read from the mirror: doctors are portal users (or enum items when
// the doctor is an enumeration field), directions are pipelines, enum items or product sections as the
// settings say, services are catalog products (or the row's own name), sources are CRM sources.
import type { Kysely } from 'kysely';
import type { ClinicSettings } from '../clinic/settings.js';
import type { Database } from '../db/schema.js';
import type { Dimension } from './registry.js';

export type NameMap = Map<string, string>;

function fullName(u: { name: string | null; last_name: string | null }): string {
  return [u.last_name, u.name].filter(Boolean).join(' ').trim();
}

async function enumItems(db: Kysely<Database>, portalId: string, field: string): Promise<NameMap> {
  const row = await db
    .selectFrom('b24_user_field')
    .select('enum_items')
    .where('portal_id', '=', portalId)
    .where('entity_id', '=', 'CRM_DEAL')
    .where('field_name', '=', field)
    .executeTakeFirst();
  const items = row ? (JSON.parse(row.enum_items) as { id: number; value: string | null }[]) : [];
  return new Map(items.map((i) => [String(i.id), i.value ?? String(i.id)]));
}

export async function namesFor(
  db: Kysely<Database>,
  portalId: string,
  dim: Dimension,
  settings: ClinicSettings,
  ids: string[],
): Promise<NameMap> {
  if (ids.length === 0) return new Map();
  switch (dim) {
    case 'doctor': {
      if (settings.doctor.source === 'user_field') {
        const items = await enumItems(db, portalId, settings.doctor.field);
        if (items.size > 0) return items;
      }
      const users = await db
        .selectFrom('b24_user')
        .select(['id', 'name', 'last_name'])
        .where('portal_id', '=', portalId)
        .execute();
      return new Map(users.map((u) => [String(u.id), fullName(u) || `#${u.id}`]));
    }
    case 'direction': {
      if (settings.direction.source === 'user_field') return enumItems(db, portalId, settings.direction.field);
      if (settings.direction.source === 'product_section') {
        const sections = await db.selectFrom('b24_product_section').select(['id', 'name']).where('portal_id', '=', portalId).execute();
        return new Map(sections.map((s) => [String(s.id), s.name ?? `#${s.id}`]));
      }
      const pipelines = await db.selectFrom('b24_pipeline').select(['id', 'name']).where('portal_id', '=', portalId).execute();
      return new Map(pipelines.map((p) => [String(p.id), p.name]));
    }
    case 'service': {
      const products = await db.selectFrom('b24_product').select(['id', 'name']).where('portal_id', '=', portalId).execute();
      const m = new Map(products.map((p) => [String(p.id), p.name ?? `#${p.id}`]));
      for (const id of ids) if (id.startsWith('name:')) m.set(id, id.slice(5));
      return m;
    }
    case 'source': {
      const sources = await db
        .selectFrom('b24_status')
        .select(['status_id', 'name'])
        .where('portal_id', '=', portalId)
        .where('entity_id', '=', 'SOURCE')
        .execute();
      return new Map(sources.map((s) => [s.status_id, s.name]));
    }
    default:
      return new Map();
  }
}
