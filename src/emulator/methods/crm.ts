// CRM methods: deals, contacts, leads, activities, product rows, catalog, pipelines, stages,
// stage history, currencies, and the universal crm.item.list (reference §7).
import { ENTITIES, type EntityName, type FieldDef, type Row } from '../entities.js';
import { addEntity, deleteEntity, setProductRows, updateEntity } from '../crm-ops.js';
import { param, RestError, type MethodContext, type MethodDef } from '../method.js';
import { SIMPLE_COST } from '../limits.js';
import { entityFields, renderRow, ufItemName } from '../wire.js';
import { listMethod, requireId, userFieldsOf } from './common.js';

const crud = (entity: EntityName, prefix: string): MethodDef[] => [
  {
    name: `${prefix}.add`,
    scope: 'crm',
    handler: (ctx) => {
      const fields = param(ctx.params, 'fields', 'FIELDS');
      if (!fields || typeof fields !== 'object') throw new RestError('', 'Parameter "fields" must be array.', 400);
      const row = addEntity(ctx.portal, entity, fields as Record<string, unknown>, ctx.auth.userId);
      return { result: row.ID, cost: SIMPLE_COST };
    },
  },
  {
    name: `${prefix}.update`,
    scope: 'crm',
    handler: (ctx) => {
      const id = requireId(ctx);
      const fields = param(ctx.params, 'fields', 'FIELDS');
      if (!fields || typeof fields !== 'object') throw new RestError('', 'Parameter "fields" must be array.', 400);
      updateEntity(ctx.portal, entity, id, fields as Record<string, unknown>, ctx.auth.userId);
      return { result: true, cost: SIMPLE_COST };
    },
  },
  {
    name: `${prefix}.delete`,
    scope: 'crm',
    handler: (ctx) => {
      deleteEntity(ctx.portal, entity, requireId(ctx), ctx.auth.userId);
      return { result: true, cost: SIMPLE_COST };
    },
  },
  {
    name: `${prefix}.get`,
    scope: 'crm',
    handler: (ctx) => {
      const id = requireId(ctx);
      const row = ctx.portal.data.table(entity).get(id);
      if (!row) throw new RestError('', 'Not found', 400);
      const fields = entityFields(entity, userFieldsOf(ctx.portal, entity)).filter((f) => f.name !== 'CONTACT_IDS');
      return { result: renderRow(row, fields, 'legacy', ctx.portal.utcOffsetMinutes), cost: SIMPLE_COST };
    },
  },
];

/** crm.deal.fields type names for our internal types. */
function fieldTypeName(f: FieldDef): string {
  if (f.type === 'status') return 'crm_status';
  if (f.type === 'user') return 'user';
  if (f.name === 'CURRENCY_ID') return 'crm_currency';
  if (f.name === 'CATEGORY_ID') return 'crm_category';
  if (f.name === 'CONTACT_ID' || f.name === 'CONTACT_IDS') return 'crm_contact';
  if (f.name === 'COMPANY_ID') return 'crm_company';
  return { id: 'integer', int: 'integer', money: 'double', double: 'double', char: 'char', date: 'date', datetime: 'datetime', bool: 'char', ufBool: 'boolean', json: 'string', intList: 'integer', string: 'string', status: 'crm_status', user: 'user' }[f.type];
}

function dealFields(ctx: MethodContext) {
  const out: Record<string, unknown> = {};
  for (const f of ENTITIES.deal.fields) {
    out[f.name] = {
      type: fieldTypeName(f),
      isRequired: false,
      isReadOnly: ['ID', 'DATE_CREATE', 'DATE_MODIFY', 'STAGE_SEMANTIC_ID', 'IS_NEW', 'CREATED_BY_ID', 'MODIFY_BY_ID'].includes(f.name),
      isImmutable: f.name === 'CATEGORY_ID',
      isMultiple: f.name === 'CONTACT_IDS',
      isDynamic: false,
      title: f.title ?? f.name,
    };
  }
  for (const uf of ctx.portal.data.table('userfield').all()) {
    if (uf.ENTITY_ID !== 'CRM_DEAL') continue;
    const label = String(uf.EDIT_FORM_LABEL ?? uf.FIELD_NAME);
    out[String(uf.FIELD_NAME)] = {
      type: uf.USER_TYPE_ID,
      isRequired: uf.MANDATORY === 'Y',
      isReadOnly: false,
      isImmutable: false,
      isMultiple: uf.MULTIPLE === 'Y',
      isDynamic: true,
      title: uf.FIELD_NAME,
      listLabel: label,
      formLabel: label,
      filterLabel: label,
      settings: uf.SETTINGS ?? [],
      ...(uf.USER_TYPE_ID === 'enumeration'
        ? { items: ((uf.LIST as Record<string, unknown>[]) ?? []).map((i) => ({ ID: String(i.ID), VALUE: i.VALUE })) }
        : {}),
    };
  }
  return out;
}

function renderUserField(uf: Row, lang: string | undefined): Record<string, unknown> {
  const s = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const out: Record<string, unknown> = {
    ID: String(uf.ID),
    ENTITY_ID: uf.ENTITY_ID,
    FIELD_NAME: uf.FIELD_NAME,
    USER_TYPE_ID: uf.USER_TYPE_ID,
    XML_ID: uf.XML_ID ?? null,
    SORT: s(uf.SORT),
    MULTIPLE: uf.MULTIPLE,
    MANDATORY: uf.MANDATORY,
    SHOW_FILTER: uf.SHOW_FILTER ?? 'N',
    SHOW_IN_LIST: uf.SHOW_IN_LIST ?? 'Y',
    EDIT_IN_LIST: uf.EDIT_IN_LIST ?? 'Y',
    IS_SEARCHABLE: uf.IS_SEARCHABLE ?? 'N',
    SETTINGS: uf.SETTINGS ?? [],
  };
  // Labels come as strings only when filter[LANG] is given (reference §7.1); otherwise they are absent.
  if (lang) {
    out.EDIT_FORM_LABEL = uf.EDIT_FORM_LABEL ?? null;
    out.LIST_COLUMN_LABEL = uf.LIST_COLUMN_LABEL ?? uf.EDIT_FORM_LABEL ?? null;
    out.LIST_FILTER_LABEL = uf.LIST_FILTER_LABEL ?? uf.EDIT_FORM_LABEL ?? null;
    out.ERROR_MESSAGE = null;
    out.HELP_MESSAGE = null;
  }
  if (uf.USER_TYPE_ID === 'enumeration') {
    out.LIST = ((uf.LIST as Record<string, unknown>[]) ?? []).map((i) => ({
      ID: String(i.ID),
      SORT: String(i.SORT ?? 100),
      VALUE: i.VALUE,
      DEF: i.DEF ?? 'N',
      XML_ID: i.XML_ID ?? null,
    }));
  }
  return out;
}

/** crm.deal.productrows.get renders mixed typing: string ids, numeric prices, PRICE_ACCOUNT as a money string. */
function renderProductRowLegacy(r: Row): Record<string, unknown> {
  return {
    ID: String(r.ID),
    OWNER_ID: String(r.OWNER_ID),
    OWNER_TYPE: r.OWNER_TYPE,
    PRODUCT_ID: r.PRODUCT_ID,
    PRODUCT_NAME: r.PRODUCT_NAME,
    ORIGINAL_PRODUCT_NAME: r.ORIGINAL_PRODUCT_NAME ?? r.PRODUCT_NAME,
    PRODUCT_DESCRIPTION: r.PRODUCT_DESCRIPTION ?? null,
    PRICE: r.PRICE,
    PRICE_EXCLUSIVE: r.PRICE_EXCLUSIVE,
    PRICE_NETTO: r.PRICE_NETTO,
    PRICE_BRUTTO: r.PRICE_BRUTTO,
    PRICE_ACCOUNT: Number(r.PRICE_ACCOUNT).toFixed(2),
    QUANTITY: r.QUANTITY,
    DISCOUNT_TYPE_ID: r.DISCOUNT_TYPE_ID,
    DISCOUNT_RATE: r.DISCOUNT_RATE,
    DISCOUNT_SUM: r.DISCOUNT_SUM,
    TAX_RATE: r.TAX_RATE,
    TAX_INCLUDED: r.TAX_INCLUDED,
    CUSTOMIZED: r.CUSTOMIZED,
    MEASURE_CODE: r.MEASURE_CODE,
    MEASURE_NAME: r.MEASURE_NAME,
    SORT: r.SORT,
    XML_ID: r.XML_ID ?? null,
    TYPE: r.TYPE,
    STORE_ID: r.STORE_ID ?? 0,
  };
}

const ITEM_ENTITY: Record<number, EntityName> = { 1: 'lead', 2: 'deal', 3: 'contact' };

function itemEntity(ctx: MethodContext): EntityName {
  const t = Number(param(ctx.params, 'entityTypeId'));
  const entity = ITEM_ENTITY[t];
  if (!entity) throw new RestError('NOT_FOUND', 'Smart process not found', 400);
  return entity;
}

/** crm.item.* fields: UF names camelCase unless useOriginalUfNames=Y. */
function itemFields(ctx: MethodContext, entity: EntityName): FieldDef[] {
  const original = String(param(ctx.params, 'useOriginalUfNames') ?? 'N').toUpperCase() === 'Y';
  return entityFields(entity, userFieldsOf(ctx.portal, entity)).map((f) =>
    f.name.startsWith('UF_') ? { ...f, item: original ? f.name : ufItemName(f.name) } : f,
  );
}

const stageHistoryEntity = (ctx: MethodContext) => Number(param(ctx.params, 'entityTypeId') ?? 0);

export const crmMethods: MethodDef[] = [
  ...crud('deal', 'crm.deal'),
  ...crud('contact', 'crm.contact'),
  {
    name: 'crm.deal.list',
    scope: 'crm',
    // CONTACT_IDS is not supported by crm.deal.list (only crm.item.list has contactIds).
    handler: listMethod({ entity: 'deal', typing: 'legacy', paging: 'legacy', hidden: ['CONTACT_IDS'] }),
  },
  { name: 'crm.contact.list', scope: 'crm', handler: listMethod({ entity: 'contact', typing: 'legacy', paging: 'legacy' }) },
  { name: 'crm.lead.list', scope: 'crm', handler: listMethod({ entity: 'lead', typing: 'legacy', paging: 'legacy' }) },
  { name: 'crm.activity.list', scope: 'crm', handler: listMethod({ entity: 'activity', typing: 'legacy', paging: 'legacy' }) },
  { name: 'crm.product.list', scope: 'crm', handler: listMethod({ entity: 'product', typing: 'legacy', paging: 'legacy' }) },
  {
    name: 'crm.productsection.list',
    scope: 'crm',
    handler: listMethod({ entity: 'productsection', typing: 'legacy', paging: 'legacy' }),
  },
  { name: 'crm.deal.fields', scope: 'crm', handler: (ctx) => ({ result: dealFields(ctx), cost: SIMPLE_COST }) },
  {
    name: 'crm.deal.userfield.list',
    scope: 'crm',
    handler: (ctx) => {
      const filter = (param(ctx.params, 'filter', 'FILTER') ?? {}) as Record<string, unknown>;
      const lang = typeof filter.LANG === 'string' ? filter.LANG : undefined;
      const rows = [...ctx.portal.data.table('userfield').all()].filter(
        (u) =>
          u.ENTITY_ID === 'CRM_DEAL' &&
          Object.entries(filter).every(([k, v]) => k === 'LANG' || String(u[k.toUpperCase()]) === String(v)),
      );
      return { result: rows.map((u) => renderUserField(u, lang)), total: rows.length, cost: SIMPLE_COST };
    },
  },
  {
    name: 'crm.deal.productrows.get',
    scope: 'crm',
    handler: (ctx) => {
      const id = requireId(ctx, 'The parameter id is invalid or not defined.');
      if (!ctx.portal.data.table('deal').get(id)) throw new RestError('', 'Not found', 400);
      const rows = [...ctx.portal.data.table('productrow').all()]
        .filter((r) => r.OWNER_TYPE === 'D' && r.OWNER_ID === id)
        .sort((a, b) => Number(a.SORT) - Number(b.SORT) || a.ID - b.ID);
      return { result: rows.map(renderProductRowLegacy), cost: SIMPLE_COST + 0.0004 * rows.length };
    },
  },
  {
    name: 'crm.deal.productrows.set',
    scope: 'crm',
    handler: (ctx) => {
      const id = requireId(ctx, 'The parameter id is invalid or not defined.');
      const rows = param(ctx.params, 'rows', 'ROWS') ?? [];
      const list = Array.isArray(rows) ? rows : Object.values(rows as object);
      setProductRows(ctx.portal, id, list as Record<string, unknown>[], ctx.auth.userId);
      return { result: true, cost: SIMPLE_COST };
    },
  },
  {
    name: 'crm.item.productrow.list',
    scope: 'crm',
    // `=ownerId` arrays are allowed for every caller; the source's permission check for non-admins
    // casts the array to int, so their behaviour is UNCONFIRMED (an admin-authorised app is safest).
    handler: (ctx) => {
      const filter = (param(ctx.params, 'filter') ?? {}) as Record<string, unknown>;
      if (!('=ownerType' in filter) || !('=ownerId' in filter)) {
        throw new RestError('100', 'Required parameters not provided: filter[=ownerType], filter[=ownerId]', 400);
      }
      for (const [k, v] of Object.entries(filter)) {
        if (/^[<>]/.test(k) && typeof v === 'object') throw new RestError('INVALID_ARG_VALUE', `Invalid value for filter ${k}`, 400);
      }
      return listMethod({
        entity: 'productrow',
        typing: 'item',
        paging: 'controller',
        strict: true,
        wrap: (productRows) => ({ productRows }),
      })(ctx);
    },
  },
  {
    name: 'crm.item.list',
    scope: 'crm',
    handler: (ctx) => {
      const entity = itemEntity(ctx);
      return listMethod({
        entity,
        typing: 'item',
        paging: 'controller',
        strict: true,
        fields: (c) => itemFields(c, entity),
        wrap: (items) => ({ items }),
        mapRow: (out) => ({ ...out, entityTypeId: ENTITIES[entity].entityTypeId }),
      })(ctx);
    },
  },
  {
    name: 'crm.item.get',
    scope: 'crm',
    handler: (ctx) => {
      const entity = itemEntity(ctx);
      const row = ctx.portal.data.table(entity).get(Number(param(ctx.params, 'id')));
      if (!row) throw new RestError('NOT_FOUND', 'Element not found', 400);
      const fields = itemFields(ctx, entity).filter((f) => !f.multi);
      const item = { ...renderRow(row, fields, 'item', ctx.portal.utcOffsetMinutes), entityTypeId: ENTITIES[entity].entityTypeId };
      return { result: { item }, cost: SIMPLE_COST };
    },
  },
  {
    name: 'crm.category.list',
    scope: 'crm',
    handler: (ctx) => {
      const t = Number(param(ctx.params, 'entityTypeId'));
      if (t !== 2) throw new RestError('NOT_FOUND', 'Entity type not supported by the emulator', 400);
      return listMethod({
        entity: 'category',
        typing: 'item',
        paging: 'controller',
        strict: true,
        where: (r) => r.ENTITY_TYPE_ID === t,
        wrap: (categories) => ({ categories }),
      })(ctx);
    },
  },
  {
    name: 'crm.status.list',
    scope: 'crm',
    // Directory methods answer every matching row at once with `total` (paging at 50 UNCONFIRMED).
    handler: (ctx) => {
      const all = listAllStatuses(ctx);
      return { result: all, total: all.length, cost: SIMPLE_COST };
    },
  },
  {
    name: 'crm.stagehistory.list',
    scope: 'crm',
    handler: (ctx) => {
      const t = stageHistoryEntity(ctx);
      if (t !== 1 && t !== 2) throw new RestError('NOT_FOUND', 'Entity type not supported', 400);
      return listMethod({
        entity: 'stagehistory',
        typing: 'item',
        paging: 'controller',
        hidden: ['ENTITY_TYPE_ID'],
        fields: () =>
          ENTITIES.stagehistory.fields.map((f) => ({
            ...f,
            // Numeric ids; leads name their stage STATUS_ID (UNCONFIRMED exact typing, parse leniently).
            item: t === 1 && f.name.startsWith('STAGE_') ? f.name.replace('STAGE_', 'STATUS_') : f.name,
          })),
        where: (r) => r.ENTITY_TYPE_ID === t,
        wrap: (items) => ({ items }),
      })(ctx);
    },
  },
  {
    name: 'crm.currency.list',
    scope: 'crm',
    handler: (ctx) => ({
      result: [...ctx.portal.data.table('currency').all()]
        .sort((a, b) => Number(a.SORT) - Number(b.SORT))
        .map((c) => ({
          CURRENCY: c.CURRENCY,
          AMOUNT_CNT: String(c.AMOUNT_CNT),
          AMOUNT: Number(c.AMOUNT).toFixed(4),
          SORT: String(c.SORT),
          BASE: c.BASE,
          FULL_NAME: c.FULL_NAME,
          LID: c.LID ?? 'ru',
          FORMAT_STRING: c.FORMAT_STRING ?? '# ' + String(c.CURRENCY),
          DATE_UPDATE: renderRow(c, ENTITIES.currency.fields.filter((f) => f.name === 'DATE_UPDATE'), 'legacy', ctx.portal.utcOffsetMinutes)
            .DATE_UPDATE,
        })),
      cost: SIMPLE_COST,
    }),
  },
];

function listAllStatuses(ctx: MethodContext): Record<string, unknown>[] {
  const filter = (param(ctx.params, 'filter', 'FILTER') ?? {}) as Record<string, unknown>;
  const rows = [...ctx.portal.data.table('status').all()]
    .filter((s) => Object.entries(filter).every(([k, v]) => String(s[k.replace(/^=/, '').toUpperCase()]) === String(v)))
    .sort((a, b) => String(a.ENTITY_ID).localeCompare(String(b.ENTITY_ID)) || Number(a.SORT) - Number(b.SORT));
  return rows.map((s) => ({
    ID: String(s.ID),
    ENTITY_ID: s.ENTITY_ID,
    STATUS_ID: s.STATUS_ID,
    NAME: s.NAME,
    NAME_INIT: s.NAME_INIT ?? '',
    SORT: String(s.SORT),
    SYSTEM: s.SYSTEM ?? 'N',
    CATEGORY_ID: s.CATEGORY_ID === null || s.CATEGORY_ID === undefined ? null : String(s.CATEGORY_ID),
    COLOR: s.COLOR ?? null,
    SEMANTICS: s.SEMANTICS ?? null,
    EXTRA: s.EXTRA ?? [],
  }));
}
