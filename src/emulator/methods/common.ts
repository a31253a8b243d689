// Pieces every emulated list method shares: user fields of an entity, `select` semantics, and the
// list runner glued to rendering.
import type { EntityName, FieldDef, Row } from '../entities.js';
import { ENTITIES } from '../entities.js';
import { parseFilter, parseOrder, runList, type Paging } from '../list.js';
import { param, RestError, type MethodContext, type MethodResult } from '../method.js';
import type { Portal } from '../portal.js';
import { entityFields, renderRow, type Typing, type UserFieldInfo } from '../wire.js';

export function userFieldsOf(portal: Portal, entity: EntityName): UserFieldInfo[] {
  const ufEntity = ENTITIES[entity].ufEntityId;
  if (!ufEntity) return [];
  const out: UserFieldInfo[] = [];
  for (const r of portal.data.table('userfield').all()) {
    if (r.ENTITY_ID === ufEntity) {
      out.push({ fieldName: String(r.FIELD_NAME), userTypeId: String(r.USER_TYPE_ID), multiple: r.MULTIPLE === 'Y' });
    }
  }
  return out;
}

/** Field resolver by legacy name (case-insensitive) and, for crm.item, by camelCase name. */
export function resolver(fields: FieldDef[], typing: Typing): (name: string) => FieldDef | undefined {
  const byName = new Map<string, FieldDef>();
  for (const f of fields) {
    if (typing === 'item' && f.item) byName.set(f.item.toLowerCase(), f);
    byName.set(f.name.toLowerCase(), f);
  }
  return (name) => byName.get(name.toLowerCase());
}

/**
 * Legacy `select`: absent/empty = `*` + `UF_*`; `*` = standard non-multiple fields; `UF_*` = user
 * fields; names = those fields (unknown names dropped). Multi-fields only when named. ID is always
 * returned. crm.item: `*` (default) or names.
 */
export function selectFields(all: FieldDef[], raw: unknown, typing: Typing, hidden: string[] = []): FieldDef[] {
  const names = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' && raw ? [raw] : [];
  const visible = all.filter((f) => !hidden.includes(f.name) && (typing === 'legacy' || f.item));
  const isUf = (f: FieldDef) => f.name.startsWith('UF_');
  if (names.length === 0) return visible.filter((f) => !f.multi);
  const pick = new Set<FieldDef>();
  const resolve = resolver(visible, typing);
  for (const n of names) {
    if (n === '*') visible.filter((f) => !f.multi && (typing === 'item' || !isUf(f))).forEach((f) => pick.add(f));
    else if (n.toUpperCase() === 'UF_*') visible.filter(isUf).forEach((f) => pick.add(f));
    else {
      const f = resolve(n);
      if (f) pick.add(f);
    }
  }
  const id = visible.find((f) => f.name === 'ID');
  if (id) pick.add(id);
  return visible.filter((f) => pick.has(f));
}

export interface ListMethodSpec {
  entity: EntityName;
  typing: Typing;
  paging: Paging;
  /** crm.item.list: unknown filter fields are errors, `logic: OR` allowed. */
  strict?: boolean;
  /** Fields that exist internally but this method does not expose (e.g. CONTACT_IDS in crm.deal.list). */
  hidden?: string[];
  where?: (row: Row, ctx: MethodContext) => boolean;
  /** Wraps the rows, e.g. `{items: rows}` for controller methods. */
  wrap?: (rows: Record<string, unknown>[]) => unknown;
  /** Post-processes one rendered row. */
  mapRow?: (out: Record<string, unknown>, row: Row) => Record<string, unknown>;
  /** Fields this method knows besides the entity's (e.g. none) — defaults to std + UF. */
  fields?: (ctx: MethodContext) => FieldDef[];
}

export function listMethod(spec: ListMethodSpec) {
  return (ctx: MethodContext): MethodResult => {
    const fields = spec.fields ? spec.fields(ctx) : entityFields(spec.entity, userFieldsOf(ctx.portal, spec.entity));
    const exposed = fields.filter((f) => !(spec.hidden ?? []).includes(f.name));
    const resolve = resolver(exposed, spec.typing);
    const filterRaw = param(ctx.params, 'filter', 'FILTER', 'arFilter');
    if (filterRaw !== undefined && filterRaw !== '' && (typeof filterRaw !== 'object' || filterRaw === null)) {
      throw new RestError('', "Parameter 'filter' must be array.", 400);
    }
    const filter = parseFilter(filterRaw, {
      resolve,
      strict: spec.strict ?? false,
      allowLogic: spec.strict ?? false,
      offsetMin: ctx.portal.utcOffsetMinutes,
    });
    const order = parseOrder(param(ctx.params, 'order', 'ORDER', 'arOrder'), resolve, spec.strict ?? false);
    const select = selectFields(fields, param(ctx.params, 'select', 'SELECT', 'arSelect'), spec.typing, spec.hidden);
    const page = runList({
      table: ctx.portal.data.table(spec.entity),
      filter,
      order,
      start: ctx.start,
      paging: spec.paging,
      where: spec.where ? (r) => spec.where!(r, ctx) : undefined,
    });
    const off = ctx.portal.utcOffsetMinutes;
    const rows = page.rows.map((r) => {
      const out = renderRow(r, select, spec.typing, off);
      return spec.mapRow ? spec.mapRow(out, r) : out;
    });
    return { result: spec.wrap ? spec.wrap(rows) : rows, total: page.total, next: page.next, cost: page.cost };
  };
}

export function requireId(ctx: MethodContext, message = 'ID is not defined or invalid.'): number {
  const raw = param(ctx.params, 'id', 'ID');
  const id = Number(raw);
  if (!Number.isInteger(id) || id <= 0) throw new RestError('', message, 400);
  return id;
}
