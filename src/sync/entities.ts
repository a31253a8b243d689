// What is mirrored, declared once per entity: the REST method, the fields asked for, and how a wire
// row becomes a stored row. Adding an entity is adding an entry here (and its table in a migration).
import type { Insertable } from 'kysely';
import type { ContactTable, Database, DealTable, ProductRowTable } from '../db/schema.js';
import { day, instant, int, minor, num, Problems, str } from './convert.js';

export interface RowContext {
  portalId: string;
  syncedAt: string;
  /** Patient names are personal data: stored only when the portal's settings turn them on. */
  patientNames: boolean;
}

export interface KeysetEntity<T extends 'b24_deal' | 'b24_contact'> {
  name: 'deal' | 'contact';
  table: T;
  method: string;
  select: (ctx: RowContext) => string[];
  toRow(raw: Record<string, unknown>, ctx: RowContext): Insertable<Database[T]>;
}

function ufOf(raw: Record<string, unknown>): string {
  const uf: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (k.startsWith('UF_')) uf[k] = v;
  return JSON.stringify(uf);
}

export const DEAL: KeysetEntity<'b24_deal'> = {
  name: 'deal',
  table: 'b24_deal',
  method: 'crm.deal.list',
  select: () => [
    'ID', 'TITLE', 'TYPE_ID', 'CATEGORY_ID', 'STAGE_ID', 'STAGE_SEMANTIC_ID', 'CURRENCY_ID', 'OPPORTUNITY',
    'IS_MANUAL_OPPORTUNITY', 'CONTACT_ID', 'COMPANY_ID', 'LEAD_ID', 'ASSIGNED_BY_ID', 'SOURCE_ID', 'BEGINDATE',
    'CLOSEDATE', 'DATE_CREATE', 'DATE_MODIFY', 'MOVED_TIME', 'CLOSED', 'UF_*',
  ],
  toRow(r, ctx): Insertable<DealTable> {
    const p = new Problems();
    return {
      portal_id: ctx.portalId,
      id: int(r.ID, 'ID', p)!,
      title: str(r.TITLE),
      type_id: str(r.TYPE_ID),
      category_id: int(r.CATEGORY_ID, 'CATEGORY_ID', p) ?? 0,
      stage_id: str(r.STAGE_ID),
      stage_semantic_id: str(r.STAGE_SEMANTIC_ID),
      currency_id: str(r.CURRENCY_ID),
      opportunity_minor: minor(r.OPPORTUNITY, 'OPPORTUNITY', p),
      is_manual_opportunity: str(r.IS_MANUAL_OPPORTUNITY),
      contact_id: int(r.CONTACT_ID, 'CONTACT_ID', p) || null,
      company_id: int(r.COMPANY_ID, 'COMPANY_ID', p) || null,
      lead_id: int(r.LEAD_ID, 'LEAD_ID', p) || null,
      assigned_by_id: int(r.ASSIGNED_BY_ID, 'ASSIGNED_BY_ID', p),
      source_id: str(r.SOURCE_ID),
      begindate: day(r.BEGINDATE, 'BEGINDATE', p),
      closedate: day(r.CLOSEDATE, 'CLOSEDATE', p),
      date_create: instant(r.DATE_CREATE, 'DATE_CREATE', p),
      date_modify: instant(r.DATE_MODIFY, 'DATE_MODIFY', p),
      moved_time: instant(r.MOVED_TIME, 'MOVED_TIME', p),
      closed: str(r.CLOSED),
      uf: ufOf(r),
      problems: p.json(),
      synced_at: ctx.syncedAt,
    };
  },
};

export const CONTACT: KeysetEntity<'b24_contact'> = {
  name: 'contact',
  table: 'b24_contact',
  method: 'crm.contact.list',
  // No UF_* and no phones or e-mails: contact user fields tend to hold personal data (card numbers),
  // and no KPI needs them.
  select: (ctx) => [
    'ID', 'TYPE_ID', 'SOURCE_ID', 'COMPANY_ID', 'LEAD_ID', 'ASSIGNED_BY_ID', 'BIRTHDATE', 'DATE_CREATE', 'DATE_MODIFY',
    ...(ctx.patientNames ? ['NAME', 'LAST_NAME', 'SECOND_NAME'] : []),
  ],
  toRow(r, ctx): Insertable<ContactTable> {
    const p = new Problems();
    return {
      portal_id: ctx.portalId,
      id: int(r.ID, 'ID', p)!,
      type_id: str(r.TYPE_ID),
      source_id: str(r.SOURCE_ID),
      company_id: int(r.COMPANY_ID, 'COMPANY_ID', p) || null,
      lead_id: int(r.LEAD_ID, 'LEAD_ID', p) || null,
      assigned_by_id: int(r.ASSIGNED_BY_ID, 'ASSIGNED_BY_ID', p),
      birthdate: day(r.BIRTHDATE, 'BIRTHDATE', p),
      date_create: instant(r.DATE_CREATE, 'DATE_CREATE', p),
      date_modify: instant(r.DATE_MODIFY, 'DATE_MODIFY', p),
      name: ctx.patientNames ? str(r.NAME) : null,
      last_name: ctx.patientNames ? str(r.LAST_NAME) : null,
      second_name: ctx.patientNames ? str(r.SECOND_NAME) : null,
      uf: '{}',
      problems: p.json(),
      synced_at: ctx.syncedAt,
    };
  },
};

/** A row of `crm.item.productrow.list` (numeric typing). */
export function productRow(r: Record<string, unknown>, ctx: RowContext): Insertable<ProductRowTable> {
  const p = new Problems();
  return {
    portal_id: ctx.portalId,
    id: int(r.id, 'id', p)!,
    deal_id: int(r.ownerId, 'ownerId', p)!,
    product_id: int(r.productId, 'productId', p) || null,
    product_name: str(r.productName),
    price_minor: minor(r.price, 'price', p) ?? 0,
    price_account_minor: minor(r.priceAccount, 'priceAccount', p),
    quantity: num(r.quantity, 'quantity', p) ?? 0,
    discount_type_id: int(r.discountTypeId, 'discountTypeId', p),
    discount_rate: num(r.discountRate, 'discountRate', p),
    discount_sum_minor: minor(r.discountSum, 'discountSum', p),
    tax_rate: num(r.taxRate, 'taxRate', p),
    tax_included: str(r.taxIncluded),
    measure_name: str(r.measureName),
    sort: int(r.sort, 'sort', p),
    type: int(r.type, 'type', p),
    problems: p.json(),
    synced_at: ctx.syncedAt,
  };
}
