// CRM writes shared by the REST methods (crm.deal.add/update/delete, productrows.set, contacts) and
// the emulator's control interface: both change data the same way and fire the same events.
import { fieldOf, ufFieldType, type EntityName, type FieldType, type Row } from './entities.js';
import { RestError } from './method.js';
import type { Portal } from './portal.js';
import { parseDate, parseDateTime } from './wire.js';

const EVENT_PREFIX: Partial<Record<EntityName, string>> = { deal: 'ONCRMDEAL', contact: 'ONCRMCONTACT', lead: 'ONCRMLEAD' };
const READ_ONLY = new Set(['ID', 'DATE_CREATE', 'DATE_MODIFY', 'STAGE_SEMANTIC_ID', 'IS_NEW', 'CREATED_BY_ID', 'MODIFY_BY_ID']);

function toInternal(type: FieldType, v: unknown, offsetMin: number): unknown {
  if (v === null || v === undefined || v === '') return null;
  switch (type) {
    case 'id':
    case 'int':
    case 'user':
    case 'money':
    case 'double': {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new RestError('', `Invalid value "${String(v)}"`, 400);
      return n;
    }
    case 'date':
      return parseDate(v, offsetMin);
    case 'datetime':
      return parseDateTime(v, offsetMin);
    case 'intList':
      return (Array.isArray(v) ? v : [v]).map(Number);
    case 'bool':
      return v === true || v === 'Y' || v === '1' || v === 1;
    case 'ufBool':
      return v === true || v === 'Y' || v === '1' || v === 1 ? 1 : 0;
    case 'json':
      return v;
    default:
      return String(v);
  }
}

/** Converts a `fields` object from the wire (legacy names) to internal values; unknown fields dropped. */
export function internalFields(portal: Portal, entity: EntityName, fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const ufs = new Map<string, string>();
  for (const r of portal.data.table('userfield').all()) ufs.set(String(r.FIELD_NAME), String(r.USER_TYPE_ID));
  for (const [rawKey, v] of Object.entries(fields)) {
    const key = rawKey.toUpperCase();
    if (READ_ONLY.has(key)) continue;
    const def = fieldOf(entity, key);
    if (def) out[key] = toInternal(def.type, v, portal.utcOffsetMinutes);
    else if (key.startsWith('UF_') && ufs.has(key)) {
      const t = ufFieldType(ufs.get(key)!);
      out[key] = Array.isArray(v) ? v.map((x) => toInternal(t, x, portal.utcOffsetMinutes)) : toInternal(t, v, portal.utcOffsetMinutes);
    }
  }
  return out;
}

/** Stage semantics from the stage directory: 'S', 'F' or 'P'. */
export function stageSemantic(portal: Portal, stageId: unknown): string {
  for (const s of portal.data.table('status').all()) {
    if (s.STATUS_ID === stageId && String(s.ENTITY_ID).startsWith('DEAL_STAGE')) return (s.SEMANTICS as string | null) ?? 'P';
  }
  return 'P';
}

function categoryOfStage(stageId: string): number {
  const m = /^C(\d+):/.exec(stageId);
  return m ? Number(m[1]) : 0;
}

export function addEntity(portal: Portal, entity: EntityName, fields: Record<string, unknown>, userId: number): Row {
  const now = portal.clock.now();
  const vals = internalFields(portal, entity, fields);
  const row: Record<string, unknown> = { DATE_CREATE: now, DATE_MODIFY: now, CREATED_BY_ID: userId, MODIFY_BY_ID: userId, ...vals };
  if (entity === 'deal') {
    const cat = Number(vals.CATEGORY_ID ?? 0);
    row.CATEGORY_ID = cat;
    row.STAGE_ID = vals.STAGE_ID ?? (cat === 0 ? 'NEW' : `C${cat}:NEW`);
    row.STAGE_SEMANTIC_ID = stageSemantic(portal, row.STAGE_ID);
    row.CLOSED = row.STAGE_SEMANTIC_ID === 'P' ? 'N' : 'Y';
    row.CURRENCY_ID ??= 'RUB';
    row.OPPORTUNITY ??= 0;
    row.IS_MANUAL_OPPORTUNITY ??= 'N';
    row.ASSIGNED_BY_ID ??= userId;
    row.OPENED ??= 'Y';
    row.IS_NEW = 'Y';
    if (row.CONTACT_ID) row.CONTACT_IDS = [row.CONTACT_ID];
  }
  const stored = portal.data.table(entity).insert(row as Row);
  const prefix = EVENT_PREFIX[entity];
  if (prefix) portal.eventSink(`${prefix}ADD`, { FIELDS: { ID: String(stored.ID) } }, userId);
  return stored;
}

export function updateEntity(portal: Portal, entity: EntityName, id: number, fields: Record<string, unknown>, userId: number): Row {
  const table = portal.data.table(entity);
  const row = table.get(id);
  if (!row) throw new RestError('', 'Not found', 400);
  const vals = internalFields(portal, entity, fields);
  if (entity === 'deal') {
    delete vals.CATEGORY_ID; // immutable through update
    if (typeof vals.STAGE_ID === 'string') {
      if (categoryOfStage(vals.STAGE_ID) !== row.CATEGORY_ID) {
        throw new RestError('', `Stage "${vals.STAGE_ID}" does not belong to the deal's pipeline.`, 400);
      }
      vals.STAGE_SEMANTIC_ID = stageSemantic(portal, vals.STAGE_ID);
      vals.CLOSED = vals.STAGE_SEMANTIC_ID === 'P' ? 'N' : 'Y';
      if (vals.STAGE_ID !== row.STAGE_ID) {
        vals.MOVED_TIME = portal.clock.now();
        vals.MOVED_BY_ID = userId;
      }
    }
    if (vals.CONTACT_ID !== undefined) vals.CONTACT_IDS = vals.CONTACT_ID ? [vals.CONTACT_ID] : [];
    vals.IS_NEW = 'N';
  }
  table.update(id, { ...vals, DATE_MODIFY: portal.clock.now(), MODIFY_BY_ID: userId });
  const prefix = EVENT_PREFIX[entity];
  if (prefix) portal.eventSink(`${prefix}UPDATE`, { FIELDS: { ID: String(id) } }, userId);
  return row;
}

/** crm.deal.update cannot change the pipeline; this is what moving a deal to another pipeline does
 *  (fires ONCRMDEALMOVETOCATEGORY, not ONCRMDEALUPDATE). */
export function moveDealToCategory(portal: Portal, id: number, categoryId: number, stageId: string, userId: number): void {
  const row = portal.data.table('deal').get(id);
  if (!row) throw new RestError('', 'Not found', 400);
  portal.data.table('deal').update(id, {
    CATEGORY_ID: categoryId,
    STAGE_ID: stageId,
    STAGE_SEMANTIC_ID: stageSemantic(portal, stageId),
    DATE_MODIFY: portal.clock.now(),
    MOVED_TIME: portal.clock.now(),
  });
  portal.eventSink('ONCRMDEALMOVETOCATEGORY', { FIELDS: { ID: String(id), CATEGORY_ID: String(categoryId), STAGE_ID: stageId } }, userId);
}

/** Deleting removes the record for good: the recycle bin has no REST API, and what a restore does
 *  (same ID? which event?) is UNCONFIRMED, so the emulator offers no restore. */
export function deleteEntity(portal: Portal, entity: EntityName, id: number, userId: number): void {
  const table = portal.data.table(entity);
  if (!table.delete(id)) throw new RestError('', 'Not found', 400);
  if (entity === 'deal') {
    const rows = portal.data.table('productrow');
    for (const r of [...rows.all()]) if (r.OWNER_TYPE === 'D' && r.OWNER_ID === id) rows.delete(r.ID);
  }
  const prefix = EVENT_PREFIX[entity];
  if (prefix) portal.eventSink(`${prefix}DELETE`, { FIELDS: { ID: String(id) } }, userId);
}

function currencyRate(portal: Portal, currency: string): number {
  for (const c of portal.data.table('currency').all()) {
    if (c.CURRENCY === currency) return Number(c.AMOUNT) / Number(c.AMOUNT_CNT || 1);
  }
  return 1;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Replaces a deal's product rows. Derived prices follow the identities of reference §7.3:
 * exclusive = netto − discountSum, price = exclusive × (1 + tax), brutto = netto × (1 + tax);
 * priceAccount = price in the account currency. Whether a rows-only change fires ONCRMDEALUPDATE is
 * UNCONFIRMED; we fire it, because the deal's OPPORTUNITY changes with its rows.
 */
export function setProductRows(portal: Portal, dealId: number, rows: Record<string, unknown>[], userId: number): void {
  const deal = portal.data.table('deal').get(dealId);
  if (!deal) throw new RestError('', 'Not found', 400);
  const table = portal.data.table('productrow');
  for (const r of [...table.all()]) if (r.OWNER_TYPE === 'D' && r.OWNER_ID === dealId) table.delete(r.ID);
  const rate = currencyRate(portal, String(deal.CURRENCY_ID ?? 'RUB'));
  let sum = 0;
  rows.forEach((raw, i) => {
    const get = (k: string) => raw[k] ?? raw[k.toLowerCase()];
    const price = Number(get('PRICE') ?? 0);
    const qty = Number(get('QUANTITY') ?? 1);
    const taxRate = Number(get('TAX_RATE') ?? 0);
    const discountType = Number(get('DISCOUNT_TYPE_ID') ?? 2);
    const discountRate = Number(get('DISCOUNT_RATE') ?? 0);
    const exclusive = round2(price / (1 + taxRate / 100));
    const discountSum =
      get('DISCOUNT_SUM') !== undefined
        ? Number(get('DISCOUNT_SUM'))
        : discountType === 2 && discountRate > 0 && discountRate < 100
          ? round2((exclusive / (1 - discountRate / 100)) * (discountRate / 100))
          : 0;
    const netto = round2(exclusive + discountSum);
    const productId = Number(get('PRODUCT_ID') ?? 0);
    const name = String(get('PRODUCT_NAME') ?? portal.data.table('product').get(productId)?.NAME ?? '');
    table.insert({
      OWNER_ID: dealId,
      OWNER_TYPE: 'D',
      PRODUCT_ID: productId,
      PRODUCT_NAME: name,
      ORIGINAL_PRODUCT_NAME: name,
      PRODUCT_DESCRIPTION: null,
      PRICE: price,
      PRICE_EXCLUSIVE: exclusive,
      PRICE_NETTO: netto,
      PRICE_BRUTTO: round2(netto * (1 + taxRate / 100)),
      PRICE_ACCOUNT: round2(price * rate),
      QUANTITY: qty,
      DISCOUNT_TYPE_ID: discountType,
      DISCOUNT_RATE: discountRate,
      DISCOUNT_SUM: discountSum,
      TAX_RATE: taxRate,
      TAX_INCLUDED: String(get('TAX_INCLUDED') ?? 'Y'),
      CUSTOMIZED: 'Y',
      MEASURE_CODE: Number(get('MEASURE_CODE') ?? 796),
      MEASURE_NAME: String(get('MEASURE_NAME') ?? 'шт'),
      SORT: Number(get('SORT') ?? (i + 1) * 10),
      XML_ID: null,
      TYPE: Number(get('TYPE') ?? 7),
      STORE_ID: 0,
    });
    sum += price * qty;
  });
  const patch: Record<string, unknown> = { DATE_MODIFY: portal.clock.now(), MODIFY_BY_ID: userId };
  if (deal.IS_MANUAL_OPPORTUNITY !== 'Y') patch.OPPORTUNITY = round2(sum);
  portal.data.table('deal').update(dealId, patch);
  portal.eventSink('ONCRMDEALUPDATE', { FIELDS: { ID: String(dealId) } }, userId);
}
