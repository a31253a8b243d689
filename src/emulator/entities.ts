// The emulated portal's entity catalogue: for every CRM/system entity, its fields with the wire type
// Bitrix24 gives them. Rows are stored with *typed internal values* under the legacy UPPER_SNAKE names;
// `wire.ts` turns them into the legacy string typing or the crm.item camelCase numeric typing.
//
// Internal value conventions (what the generator and the methods store):
//   id/int/user/intOrNull -> number | null        money/double -> number
//   char (Y/N)            -> 'Y' | 'N'             string/status -> string | null
//   date                  -> 'YYYY-MM-DD' | null   datetime -> epoch milliseconds | null
//   bool                  -> boolean               json -> any JSON value (arrays, objects)
//   intList               -> number[]
// User fields (UF_CRM_*) are stored under their FIELD_NAME with the internal type their
// definition implies (enumeration -> enum item id number, employee -> user id number, ...).

export type FieldType =
  | 'id'
  | 'int'
  | 'user'
  | 'money'
  | 'double'
  | 'string'
  | 'char'
  | 'date'
  | 'datetime'
  | 'status'
  | 'bool'
  /** A boolean user field: stored 1/0, "1"/"0" in legacy output, "Y"/"N" in crm.item output. */
  | 'ufBool'
  | 'json'
  | 'intList';

export interface FieldDef {
  name: string;
  type: FieldType;
  /** camelCase name in crm.item.* output; absent = the field is not exposed there. */
  item?: string;
  /** Multi-fields (PHONE, EMAIL, ...) come only when named in `select` (or with crm.item `*`). */
  multi?: boolean;
  /** crm.deal.fields title. */
  title?: string;
}

export type EntityName =
  | 'deal'
  | 'contact'
  | 'lead'
  | 'productrow'
  | 'product'
  | 'productsection'
  | 'category'
  | 'status'
  | 'user'
  | 'department'
  | 'userfield'
  | 'activity'
  | 'call'
  | 'stagehistory'
  | 'currency';

export interface EntityDef {
  name: EntityName;
  fields: FieldDef[];
  /** ENTITY_ID of user-field definitions attached to this entity. */
  ufEntityId?: 'CRM_DEAL' | 'CRM_CONTACT' | 'CRM_LEAD';
  /** crm.item entityTypeId where the entity is reachable through crm.item.* */
  entityTypeId?: number;
}

const f = (name: string, type: FieldType, item?: string, extra: Partial<FieldDef> = {}): FieldDef => ({
  name,
  type,
  ...(item ? { item } : {}),
  ...extra,
});

const UTM = ['UTM_SOURCE', 'UTM_MEDIUM', 'UTM_CAMPAIGN', 'UTM_CONTENT', 'UTM_TERM'].map((n) =>
  f(n, 'string', n.toLowerCase().replace(/_(\w)/g, (_, c: string) => c.toUpperCase())),
);

const MULTI = ['PHONE', 'EMAIL', 'WEB', 'IM', 'LINK'].map((n) => f(n, 'json', undefined, { multi: true }));

export const ENTITIES: Record<EntityName, EntityDef> = {
  deal: {
    name: 'deal',
    ufEntityId: 'CRM_DEAL',
    entityTypeId: 2,
    fields: [
      f('ID', 'id', 'id', { title: 'ID' }),
      f('TITLE', 'string', 'title', { title: 'Название' }),
      f('TYPE_ID', 'status', 'typeId', { title: 'Тип' }),
      f('CATEGORY_ID', 'int', 'categoryId', { title: 'Воронка' }),
      f('STAGE_ID', 'status', 'stageId', { title: 'Стадия сделки' }),
      f('STAGE_SEMANTIC_ID', 'string', 'stageSemanticId', { title: 'Группа стадии' }),
      f('IS_NEW', 'char', 'isNew'),
      f('IS_RECURRING', 'char', 'isRecurring'),
      f('IS_RETURN_CUSTOMER', 'char', 'isReturnCustomer'),
      f('IS_REPEATED_APPROACH', 'char', 'isRepeatedApproach'),
      f('PROBABILITY', 'int', 'probability'),
      f('CURRENCY_ID', 'string', 'currencyId', { title: 'Валюта' }),
      f('OPPORTUNITY', 'money', 'opportunity', { title: 'Сумма' }),
      f('IS_MANUAL_OPPORTUNITY', 'char', 'isManualOpportunity'),
      f('TAX_VALUE', 'money', 'taxValue'),
      f('COMPANY_ID', 'int', 'companyId'),
      f('CONTACT_ID', 'int', 'contactId', { title: 'Контакт' }),
      f('CONTACT_IDS', 'intList', 'contactIds'),
      f('QUOTE_ID', 'int', 'quoteId'),
      f('BEGINDATE', 'date', 'begindate', { title: 'Дата начала' }),
      f('CLOSEDATE', 'date', 'closedate', { title: 'Дата завершения' }),
      f('ASSIGNED_BY_ID', 'user', 'assignedById', { title: 'Ответственный' }),
      f('CREATED_BY_ID', 'user', 'createdBy'),
      f('MODIFY_BY_ID', 'user', 'updatedBy'),
      f('MOVED_BY_ID', 'user', 'movedBy'),
      f('DATE_CREATE', 'datetime', 'createdTime', { title: 'Дата создания' }),
      f('DATE_MODIFY', 'datetime', 'updatedTime', { title: 'Дата изменения' }),
      f('MOVED_TIME', 'datetime', 'movedTime'),
      f('OPENED', 'char', 'opened'),
      f('CLOSED', 'char', 'closed'),
      f('COMMENTS', 'string', 'comments'),
      f('ADDITIONAL_INFO', 'string'),
      f('LOCATION_ID', 'string', 'locationId'),
      f('SOURCE_ID', 'status', 'sourceId', { title: 'Источник' }),
      f('SOURCE_DESCRIPTION', 'string', 'sourceDescription'),
      f('LEAD_ID', 'int', 'leadId'),
      f('ORIGINATOR_ID', 'string', 'originatorId'),
      f('ORIGIN_ID', 'string', 'originId'),
      f('LAST_ACTIVITY_TIME', 'datetime', 'lastActivityTime'),
      f('LAST_ACTIVITY_BY', 'user', 'lastActivityBy'),
      ...UTM,
    ],
  },
  contact: {
    name: 'contact',
    ufEntityId: 'CRM_CONTACT',
    entityTypeId: 3,
    fields: [
      f('ID', 'id', 'id'),
      f('HONORIFIC', 'status', 'honorific'),
      f('NAME', 'string', 'name'),
      f('SECOND_NAME', 'string', 'secondName'),
      f('LAST_NAME', 'string', 'lastName'),
      f('POST', 'string', 'post'),
      f('TYPE_ID', 'status', 'typeId'),
      f('SOURCE_ID', 'status', 'sourceId'),
      f('SOURCE_DESCRIPTION', 'string', 'sourceDescription'),
      f('COMPANY_ID', 'int', 'companyId'),
      f('LEAD_ID', 'int', 'leadId'),
      f('BIRTHDATE', 'date', 'birthdate'),
      f('EXPORT', 'char', 'export'),
      f('HAS_PHONE', 'char', 'hasPhone'),
      f('HAS_EMAIL', 'char', 'hasEmail'),
      f('HAS_IMOL', 'char', 'hasImol'),
      f('ASSIGNED_BY_ID', 'user', 'assignedById'),
      f('CREATED_BY_ID', 'user', 'createdBy'),
      f('MODIFY_BY_ID', 'user', 'updatedBy'),
      f('DATE_CREATE', 'datetime', 'createdTime'),
      f('DATE_MODIFY', 'datetime', 'updatedTime'),
      f('OPENED', 'char', 'opened'),
      f('COMMENTS', 'string', 'comments'),
      f('ORIGINATOR_ID', 'string', 'originatorId'),
      f('ORIGIN_ID', 'string', 'originId'),
      ...UTM,
      ...MULTI,
    ],
  },
  lead: {
    name: 'lead',
    ufEntityId: 'CRM_LEAD',
    entityTypeId: 1,
    fields: [
      f('ID', 'id', 'id'),
      f('TITLE', 'string', 'title'),
      f('NAME', 'string', 'name'),
      f('LAST_NAME', 'string', 'lastName'),
      f('STATUS_ID', 'status', 'stageId'),
      f('STATUS_SEMANTIC_ID', 'string', 'stageSemanticId'),
      f('STATUS_DESCRIPTION', 'string', 'statusDescription'),
      f('SOURCE_ID', 'status', 'sourceId'),
      f('SOURCE_DESCRIPTION', 'string', 'sourceDescription'),
      f('CURRENCY_ID', 'string', 'currencyId'),
      f('OPPORTUNITY', 'money', 'opportunity'),
      f('IS_MANUAL_OPPORTUNITY', 'char', 'isManualOpportunity'),
      f('IS_RETURN_CUSTOMER', 'char', 'isReturnCustomer'),
      f('HAS_PHONE', 'char', 'hasPhone'),
      f('HAS_EMAIL', 'char', 'hasEmail'),
      f('ASSIGNED_BY_ID', 'user', 'assignedById'),
      f('CREATED_BY_ID', 'user', 'createdBy'),
      f('MODIFY_BY_ID', 'user', 'updatedBy'),
      f('DATE_CREATE', 'datetime', 'createdTime'),
      f('DATE_MODIFY', 'datetime', 'updatedTime'),
      f('DATE_CLOSED', 'datetime', 'closedTime'),
      f('MOVED_TIME', 'datetime', 'movedTime'),
      f('CONTACT_ID', 'int', 'contactId'),
      f('COMPANY_ID', 'int', 'companyId'),
      f('BIRTHDATE', 'date', 'birthdate'),
      f('OPENED', 'char', 'opened'),
      ...UTM,
      ...MULTI,
    ],
  },
  productrow: {
    name: 'productrow',
    fields: [
      f('ID', 'id', 'id'),
      f('OWNER_ID', 'int', 'ownerId'),
      f('OWNER_TYPE', 'string', 'ownerType'),
      f('PRODUCT_ID', 'int', 'productId'),
      f('PRODUCT_NAME', 'string', 'productName'),
      f('ORIGINAL_PRODUCT_NAME', 'string'),
      f('PRODUCT_DESCRIPTION', 'string'),
      f('PRICE', 'money', 'price'),
      f('PRICE_EXCLUSIVE', 'money', 'priceExclusive'),
      f('PRICE_NETTO', 'money', 'priceNetto'),
      f('PRICE_BRUTTO', 'money', 'priceBrutto'),
      f('PRICE_ACCOUNT', 'money', 'priceAccount'),
      f('QUANTITY', 'double', 'quantity'),
      f('DISCOUNT_TYPE_ID', 'int', 'discountTypeId'),
      f('DISCOUNT_RATE', 'double', 'discountRate'),
      f('DISCOUNT_SUM', 'money', 'discountSum'),
      f('TAX_RATE', 'double', 'taxRate'),
      f('TAX_INCLUDED', 'char', 'taxIncluded'),
      f('CUSTOMIZED', 'char', 'customized'),
      f('MEASURE_CODE', 'int', 'measureCode'),
      f('MEASURE_NAME', 'string', 'measureName'),
      f('SORT', 'int', 'sort'),
      f('XML_ID', 'string', 'xmlId'),
      f('TYPE', 'int', 'type'),
      f('STORE_ID', 'int', 'storeId'),
    ],
  },
  product: {
    name: 'product',
    fields: [
      f('ID', 'id'),
      f('NAME', 'string'),
      f('ACTIVE', 'char'),
      f('CATALOG_ID', 'int'),
      f('SECTION_ID', 'int'),
      f('PRICE', 'money'),
      f('CURRENCY_ID', 'string'),
      f('MEASURE', 'int'),
      f('VAT_ID', 'int'),
      f('VAT_INCLUDED', 'char'),
      f('XML_ID', 'string'),
      f('SORT', 'int'),
      f('DESCRIPTION', 'string'),
      f('DATE_CREATE', 'datetime'),
      f('TIMESTAMP_X', 'datetime'),
      f('CREATED_BY', 'user'),
      f('MODIFIED_BY', 'user'),
    ],
  },
  productsection: {
    name: 'productsection',
    fields: [f('ID', 'id'), f('CATALOG_ID', 'int'), f('SECTION_ID', 'int'), f('NAME', 'string'), f('XML_ID', 'string')],
  },
  category: {
    name: 'category',
    // crm.category.list is a controller method: camelCase, numeric.
    fields: [
      f('ID', 'id', 'id'),
      f('NAME', 'string', 'name'),
      f('SORT', 'int', 'sort'),
      f('ENTITY_TYPE_ID', 'int', 'entityTypeId'),
      f('IS_DEFAULT', 'char', 'isDefault'),
      f('ORIGIN_ID', 'string', 'originId'),
      f('ORIGINATOR_ID', 'string', 'originatorId'),
    ],
  },
  status: {
    name: 'status',
    fields: [
      f('ID', 'id'),
      f('ENTITY_ID', 'string'),
      f('STATUS_ID', 'string'),
      f('NAME', 'string'),
      f('NAME_INIT', 'string'),
      f('SORT', 'int'),
      f('SYSTEM', 'char'),
      f('CATEGORY_ID', 'int'),
      f('COLOR', 'string'),
      f('SEMANTICS', 'string'),
      f('EXTRA', 'json'),
    ],
  },
  user: {
    name: 'user',
    fields: [
      f('ID', 'id'),
      f('ACTIVE', 'bool'),
      f('NAME', 'string'),
      f('LAST_NAME', 'string'),
      f('SECOND_NAME', 'string'),
      f('EMAIL', 'string'),
      f('WORK_POSITION', 'string'),
      f('UF_DEPARTMENT', 'intList'),
      f('USER_TYPE', 'string'),
      f('IS_ADMIN', 'bool'),
      f('PERSONAL_GENDER', 'string'),
      f('TIME_ZONE', 'string'),
      f('DATE_REGISTER', 'datetime'),
      f('LAST_LOGIN', 'datetime'),
      f('IS_ONLINE', 'char'),
    ],
  },
  department: {
    name: 'department',
    fields: [f('ID', 'id'), f('NAME', 'string'), f('SORT', 'int'), f('PARENT', 'int'), f('UF_HEAD', 'user')],
  },
  userfield: {
    name: 'userfield',
    fields: [
      f('ID', 'id'),
      f('ENTITY_ID', 'string'),
      f('FIELD_NAME', 'string'),
      f('USER_TYPE_ID', 'string'),
      f('XML_ID', 'string'),
      f('SORT', 'int'),
      f('MULTIPLE', 'char'),
      f('MANDATORY', 'char'),
      f('SHOW_FILTER', 'string'),
      f('SHOW_IN_LIST', 'char'),
      f('EDIT_IN_LIST', 'char'),
      f('IS_SEARCHABLE', 'char'),
      f('SETTINGS', 'json'),
      f('EDIT_FORM_LABEL', 'string'),
      f('LIST_COLUMN_LABEL', 'string'),
      f('LIST_FILTER_LABEL', 'string'),
      // enumeration items: [{ID, SORT, VALUE, DEF, XML_ID}] with internal numbers for ID/SORT
      f('LIST', 'json'),
    ],
  },
  activity: {
    name: 'activity',
    fields: [
      f('ID', 'id'),
      f('OWNER_ID', 'int'),
      f('OWNER_TYPE_ID', 'int'),
      f('TYPE_ID', 'int'),
      f('PROVIDER_ID', 'string'),
      f('PROVIDER_TYPE_ID', 'string'),
      f('DIRECTION', 'int'),
      f('SUBJECT', 'string'),
      f('CREATED', 'datetime'),
      f('LAST_UPDATED', 'datetime'),
      f('START_TIME', 'datetime'),
      f('END_TIME', 'datetime'),
      f('DEADLINE', 'datetime'),
      f('COMPLETED', 'char'),
      f('STATUS', 'int'),
      f('RESPONSIBLE_ID', 'user'),
      f('AUTHOR_ID', 'user'),
      f('EDITOR_ID', 'user'),
      f('PRIORITY', 'int'),
      f('DESCRIPTION', 'string'),
      f('ORIGIN_ID', 'string'),
    ],
  },
  call: {
    name: 'call',
    fields: [
      f('ID', 'id'),
      f('CALL_ID', 'string'),
      f('PORTAL_USER_ID', 'user'),
      f('PORTAL_NUMBER', 'string'),
      f('PHONE_NUMBER', 'string'),
      f('CALL_TYPE', 'int'),
      f('CALL_DURATION', 'int'),
      f('CALL_START_DATE', 'datetime'),
      f('CALL_FAILED_CODE', 'string'),
      f('CALL_FAILED_REASON', 'string'),
      f('CRM_ENTITY_TYPE', 'string'),
      f('CRM_ENTITY_ID', 'int'),
      f('CRM_ACTIVITY_ID', 'int'),
      f('COST', 'money'),
      f('COST_CURRENCY', 'string'),
    ],
  },
  stagehistory: {
    name: 'stagehistory',
    // crm.stagehistory.list is a controller method (camelCase-free UPPER names, numeric ids).
    fields: [
      f('ID', 'id'),
      // Internal: which entity the record belongs to (2 deal, 1 lead); the method filters on it.
      f('ENTITY_TYPE_ID', 'int'),
      f('TYPE_ID', 'int'),
      f('OWNER_ID', 'int'),
      f('CREATED_TIME', 'datetime'),
      f('CATEGORY_ID', 'int'),
      f('STAGE_SEMANTIC_ID', 'string'),
      f('STAGE_ID', 'string'),
    ],
  },
  currency: {
    name: 'currency',
    fields: [
      f('CURRENCY', 'string'),
      f('AMOUNT_CNT', 'int'),
      f('AMOUNT', 'double'),
      f('SORT', 'int'),
      f('BASE', 'char'),
      f('FULL_NAME', 'string'),
      f('LID', 'string'),
      f('FORMAT_STRING', 'string'),
      f('DATE_UPDATE', 'datetime'),
    ],
  },
};

export type Row = Record<string, unknown> & { ID: number };

const fieldIndex = new Map<EntityName, Map<string, FieldDef>>();
export function fieldOf(entity: EntityName, name: string): FieldDef | undefined {
  let idx = fieldIndex.get(entity);
  if (!idx) {
    idx = new Map(ENTITIES[entity].fields.map((d) => [d.name, d]));
    fieldIndex.set(entity, idx);
  }
  return idx.get(name);
}

/** Internal type of a user field value, from its USER_TYPE_ID. Enumeration values are the enum item
 *  ids — strings in legacy output, JSON numbers in crm.item output (the crm.item typing is
 *  UNCONFIRMED; clients must parse leniently). Booleans are stored as 1/0: "1"/"0" in legacy output
 *  (UNCONFIRMED), "Y"/"N" in crm.item output (reference §7), filtered with 1/0. */
export function ufFieldType(userTypeId: string): FieldType {
  switch (userTypeId) {
    case 'enumeration':
    case 'employee':
    case 'integer':
    case 'iblock_element':
    case 'iblock_section':
      return 'int';
    case 'double':
      return 'double';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
    case 'boolean':
      return 'ufBool';
    default:
      return 'string';
  }
}
