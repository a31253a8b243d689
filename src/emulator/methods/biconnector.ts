// Emulated `biconnector.*` REST methods: the app registers a BI Builder connector, a source (its
// credential values) and datasets (reference bi-builder-connector.md §2; CORE biconnector/lib/Rest/
// {Base,Connector,Source,Dataset}.php, ExternalSource/{DatasetManager,RestDatasetManager}.php).
//
// ERROR FORM (decision on the UNCONFIRMED note of §2.1): CORE methods *return*
// `['error' => ['error' => CODE, 'error_description' => MSG]]`, and the REST server wraps every return
// value lacking a top-level `error_description` into `result`. So we answer HTTP 200
// `{"result":{"error":{"error":CODE,"error_description":MSG}}}` — an app must look at `result.error`,
// not only at a top-level `error`. Only what the REST core itself refuses (token, scope, webhooks via
// `appOnly` → WRONG_AUTH_TYPE) keeps the top-level form. Like CORE, only the FIRST error is reported.
//
// Objects are visible only to the app that created them (APP_ID = the caller's client_id).
import type { MethodContext, MethodDef, MethodResult } from '../method.js';
import type { Portal } from '../portal.js';
import {
  BiBuilderClient,
  mapType,
  phpEmpty,
  type BiClientOptions,
  type BiDataResult,
  type BiFilterItem,
} from '../bi-client.js';

interface ConnectorSetting {
  name: string;
  code: string;
  type: string;
}
interface ConnectorRec {
  id: number;
  appId: string;
  title: string;
  description: string | null;
  dateCreate: number;
  logo: string;
  urlCheck: string;
  urlTableList: string;
  urlTableDescription: string;
  urlData: string;
  settings: ConnectorSetting[];
  sort: number;
  supportMapping: boolean;
  sourceCode: string | null;
}
interface SourceRec {
  id: number;
  connectorId: number;
  title: string;
  description: string | null;
  active: boolean;
  dateCreate: number;
  dateUpdate: number | null;
  createdById: number;
  updatedById: number | null;
  settings: (ConnectorSetting & { value: string })[];
}
interface DatasetField {
  id: number;
  datasetId: number;
  type: string;
  name: string;
  externalCode: string;
  visible: boolean;
}
interface DatasetRec {
  id: number;
  sourceId: number;
  name: string;
  description: string | null;
  externalName: string;
  externalCode: string;
  externalId: number;
  dateCreate: number;
  dateUpdate: number | null;
  createdById: number;
  updatedById: number | null;
  fields: DatasetField[];
}

export interface BiconnectorState {
  connectors: Map<number, ConnectorRec>;
  sources: Map<number, SourceRec>;
  datasets: Map<number, DatasetRec>;
  seq: { connector: number; source: number; dataset: number; field: number; superset: number };
  /** How the portal calls connectors (source.add's urlCheck, biClientForDataset); tests shorten timeouts here. */
  clientOptions: BiClientOptions;
}

export function biconnectorState(portal: Portal): BiconnectorState {
  return portal.ext<BiconnectorState>('biconnector', () => ({
    connectors: new Map(),
    sources: new Map(),
    datasets: new Map(),
    seq: { connector: 0, source: 0, dataset: 0, field: 0, superset: 0 },
    clientOptions: {},
  }));
}

// ───────────────────────── answers and parameter validation (Rest/Base.php) ─────────────────────────

/** A CORE `Error(msg, code)`; a class so a handler's answer can never be mistaken for one. */
class Fail {
  constructor(
    readonly code: string,
    readonly msg: string,
  ) {}
}
const fail = (code: string, msg: string) => new Fail(code, msg);
const isFail = (x: unknown): x is Fail => x instanceof Fail;
const errorAnswer = (f: Fail): MethodResult => ({
  result: { error: { error: f.code, error_description: f.msg } },
});
const ACCESS_DENIED = fail('ACCESS_DENIED', 'Access denied.');

type FieldType = 'integer' | 'string' | 'array' | 'boolean' | 'datetime';
interface FieldSpec {
  title: string;
  type: FieldType;
  required?: boolean;
  readOnly?: boolean;
  immutable?: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
/** PHP is_numeric: numbers and numeric strings (leading whitespace, trailing whitespace since PHP 8). */
const isNumeric = (v: unknown) =>
  (typeof v === 'number' && Number.isFinite(v)) ||
  (typeof v === 'string' && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(v));
/** Base::validateFields — JSON booleans must be real booleans (form-encoded "1" fails). */
function validateFields(fields: unknown, specs: FieldSpec[], strict: boolean): Fail | null {
  if (phpEmpty(fields) || typeof fields !== 'object')
    return fail('VALIDATION_FIELDS_NOT_PROVIDED', 'Fields not provided.');
  const f = fields as Record<string, unknown>;
  const unknown = Object.keys(f).filter((k) => !specs.some((s) => s.title === k));
  if (unknown.length)
    return fail('VALIDATION_UNKNOWN_PARAMETERS', `Unknown parameters: ${unknown.join(', ')}`);
  for (const s of specs) {
    if (!(s.title in f)) {
      if (strict && s.required && !s.readOnly)
        return fail('VALIDATION_REQUIRED_FIELD_MISSING', `Field "${s.title}" is required.`);
      continue;
    }
    if (s.readOnly) return fail('VALIDATION_READ_ONLY_FIELD', `Field "${s.title}" is read only.`);
    if (!strict && s.immutable) return fail('VALIDATION_IMMUTABLE_FIELD', `Field "${s.title}" is immutable.`);
    const v = f[s.title];
    const bad =
      (s.type === 'integer' && !isNumeric(v)) ||
      (s.type === 'string' && typeof v !== 'string') ||
      (s.type === 'array' && (typeof v !== 'object' || v === null)) ||
      (s.type === 'boolean' && typeof v !== 'boolean');
    if (bad) return fail('VALIDATION_INVALID_FIELD_TYPE', `Field "${s.title}" must be of type ${s.type}.`);
  }
  return null;
}

function validateId(params: Record<string, unknown>): Fail | null {
  if (!('id' in params)) return fail('VALIDATION_ID_NOT_PROVIDED', 'ID is missing.');
  if (!isNumeric(params.id) || Math.trunc(Number(params.id)) <= 0)
    return fail('VALIDATION_INVALID_ID_FORMAT', 'ID has to be a positive integer.');
  return null;
}

/** ORM string length validators (table definitions). Code/message UNCONFIRMED (ORM FieldError). */
function tooLong(f: Record<string, unknown>, limits: Record<string, number>): Fail | null {
  for (const [k, max] of Object.entries(limits)) {
    if (typeof f[k] === 'string' && [...(f[k] as string)].length > max)
      return fail('BX_INVALID_VALUE', `Field "${k}" must not exceed ${max} characters.`);
  }
  return null;
}

/** Common prologue of every method: permission, then the app id (webhooks have none). */
function guard(ctx: MethodContext): Fail | null {
  // BI Builder access + external-dashboard config rights: the emulator grants them to admins only.
  if (!ctx.auth.isAdmin) return ACCESS_DENIED;
  if (ctx.auth.kind !== 'oauth') return ACCESS_DENIED;
  return null;
}

function method(name: string, body: (ctx: MethodContext, s: BiconnectorState) => unknown): MethodDef {
  return {
    name,
    scope: 'biconnector',
    appOnly: true,
    handler: async (ctx) => {
      const denied = guard(ctx);
      if (denied) return errorAnswer(denied);
      const out = await body(ctx, biconnectorState(ctx.portal));
      return isFail(out) ? errorAnswer(out) : { result: out };
    },
  };
}

// ───────────────────────── list (Base::list: select/filter/order/page, 50 a page) ─────────────────────────

const PAGE = 50;

function matches(row: Record<string, unknown>, filter: Record<string, unknown>): boolean {
  const logic = String(filter.logic ?? 'AND').toUpperCase();
  const results: boolean[] = [];
  for (const [key, want] of Object.entries(filter)) {
    if (key === 'logic') continue;
    if (isObj(want) || (Array.isArray(want) && /^\d+$/.test(key))) {
      results.push(matches(row, want as Record<string, unknown>));
      continue;
    }
    const [, op = '', field = ''] = /^([<>=!@%]*)(.*)$/.exec(key) ?? [];
    const have = row[field];
    const list = Array.isArray(want) ? want : [want];
    const eq = list.some((w) => String(w) === String(have));
    const cmp =
      isNumeric(have) && isNumeric(want)
        ? Number(have) - Number(want)
        : String(have).localeCompare(String(want));
    const like = String(have ?? '').toLowerCase();
    const needle = String(want ?? '').toLowerCase();
    const ok: Record<string, boolean> = {
      '': eq,
      '=': eq,
      '@': eq,
      '!': !eq,
      '!=': !eq,
      '!@': !eq,
      '>': cmp > 0,
      '>=': cmp >= 0,
      '<': cmp < 0,
      '<=': cmp <= 0,
      '%': like.includes(needle),
      '=%': like.startsWith(needle),
      '%=': like.endsWith(needle),
    };
    results.push(ok[op] ?? false);
  }
  return logic === 'OR' ? results.length === 0 || results.some(Boolean) : results.every(Boolean);
}

function validateFilterKeys(filter: Record<string, unknown>, allowed: string[]): Fail | null {
  for (const [key, value] of Object.entries(filter)) {
    if (key === 'logic') {
      if (!['AND', 'OR'].includes(String(value).toUpperCase()))
        return fail('VALIDATION_INVALID_FILTER_LOGIC', 'Field "logic" must be either "AND" or "OR".');
      continue;
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const inner = validateFilterKeys(value as Record<string, unknown>, allowed);
      if (inner) return inner;
      continue;
    }
    if (Array.isArray(value) && /^\d+$/.test(key)) continue;
    const field = key.replace(/^[<>=!@%]+/, '');
    if (!allowed.includes(field))
      return fail(
        'VALIDATION_FIELD_NOT_ALLOWED_IN_FILTER',
        `Field "${field}" is not allowed in the "filter".`,
      );
  }
  return null;
}

/**
 * `rows` are full camelCase items. `select` names pick columns (id always comes back, as the ORM
 * fetches the primary key); `ignored` are columns CORE drops from select/filter (settings, fields).
 */
function runList(
  ctx: MethodContext,
  rows: Record<string, unknown>[],
  allowed: string[],
  star: (row: Record<string, unknown>) => Record<string, unknown>,
  ignored: string[] = [],
): unknown {
  const { select, filter, order, page } = ctx.params;
  if (select !== undefined && select !== null) {
    if (typeof select !== 'object')
      return fail('VALIDATION_SELECT_TYPE', 'Parameter "select" must be array.');
    for (const f of Object.values(select)) {
      if (f !== '*' && !allowed.includes(String(f)))
        return fail(
          'VALIDATION_FIELD_NOT_ALLOWED_IN_SELECT',
          `Field "${String(f)}" is not allowed in the "select".`,
        );
    }
  }
  if (filter !== undefined && filter !== null) {
    if (typeof filter !== 'object')
      return fail('VALIDATION_FILTER_TYPE', 'Parameter "filter" must be array.');
    const bad = validateFilterKeys(filter as Record<string, unknown>, allowed);
    if (bad) return bad;
  }
  if (order !== undefined && order !== null) {
    if (typeof order !== 'object') return fail('VALIDATION_ORDER_TYPE', 'Parameter "order" must be array.');
    for (const f of Object.keys(order)) {
      if (!allowed.includes(f))
        return fail('VALIDATION_FIELD_NOT_ALLOWED_IN_ORDER', `Field "${f}" is not allowed in the "order".`);
    }
  }
  const cleanFilter = Object.fromEntries(
    Object.entries((filter ?? {}) as Record<string, unknown>).filter(
      ([k]) => !ignored.includes(k.replace(/^[<>=!@%]+/, '')),
    ),
  );
  let out = rows.filter((r) => matches(r, cleanFilter));
  for (const [field, dir] of Object.entries((order ?? {}) as Record<string, unknown>).reverse()) {
    const sign = String(dir).toUpperCase() === 'DESC' ? -1 : 1;
    out = [...out].sort((a, b) => {
      const x = a[field];
      const y = b[field];
      return (
        sign *
        (isNumeric(x) && isNumeric(y)
          ? Number(x) - Number(y)
          : String(x ?? '').localeCompare(String(y ?? '')))
      );
    });
  }
  const p = isNumeric(page) && Number(page) > 1 ? Math.trunc(Number(page)) : 1;
  out = out.slice((p - 1) * PAGE, p * PAGE);
  const names = Array.isArray(select)
    ? select.map(String)
    : isObj(select)
      ? Object.values(select).map(String)
      : [];
  if (names.length === 0 || names.includes('*')) return out.map(star);
  const wanted = new Set(['id', ...names.filter((n) => !ignored.includes(n))]);
  return out.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => wanted.has(k))));
}

// ───────────────────────── rendering ─────────────────────────

/** `Y-m-d H:i:s` in the portal's server offset (Base::formatDateTime). */
function ymdhis(portal: Portal, ms: number | null): string | null {
  if (ms === null) return null;
  const d = new Date(ms + portal.utcOffsetMinutes * 60_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

function connectorItem(portal: Portal, c: ConnectorRec): Record<string, unknown> {
  return {
    id: c.id,
    title: c.title,
    description: c.description,
    dateCreate: ymdhis(portal, c.dateCreate),
    logo: c.logo,
    urlCheck: c.urlCheck,
    urlTableList: c.urlTableList,
    urlTableDescription: c.urlTableDescription,
    urlData: c.urlData,
    settings: c.settings.map((s) => ({ ...s })),
    sort: c.sort,
    supportMapping: c.supportMapping,
    sourceCode: c.sourceCode,
  };
}

function sourceColumns(portal: Portal, s: SourceRec): Record<string, unknown> {
  return {
    id: s.id,
    type: 'rest',
    code: `rest_${s.connectorId}`,
    title: s.title,
    description: s.description,
    active: s.active,
    dateCreate: ymdhis(portal, s.dateCreate),
    dateUpdate: ymdhis(portal, s.dateUpdate),
    createdById: s.createdById,
    updatedById: s.updatedById,
  };
}

function datasetColumns(portal: Portal, d: DatasetRec): Record<string, unknown> {
  return {
    id: d.id,
    type: 'rest',
    name: d.name,
    description: d.description,
    externalName: d.externalName,
    externalCode: d.externalCode,
    externalId: d.externalId,
    dateCreate: ymdhis(portal, d.dateCreate),
    dateUpdate: ymdhis(portal, d.dateUpdate),
    createdById: d.createdById,
    updatedById: d.updatedById,
  };
}

// ───────────────────────── ownership ─────────────────────────

const ownConnector = (s: BiconnectorState, appId: string, id: unknown) => {
  const c = s.connectors.get(Math.trunc(Number(id)));
  return c && c.appId === appId ? c : undefined;
};
const ownSource = (s: BiconnectorState, appId: string, id: unknown) => {
  const src = s.sources.get(Math.trunc(Number(id)));
  return src && s.connectors.get(src.connectorId)?.appId === appId ? src : undefined;
};
const ownDataset = (s: BiconnectorState, appId: string, id: unknown) => {
  const d = s.datasets.get(Math.trunc(Number(id)));
  return d && ownSource(s, appId, d.sourceId) ? d : undefined;
};

// ───────────────────────── connector ─────────────────────────

const CONNECTOR_FIELDS: FieldSpec[] = [
  { title: 'id', type: 'integer', required: true, readOnly: true },
  { title: 'title', type: 'string', required: true },
  { title: 'logo', type: 'string', required: true },
  { title: 'description', type: 'string' },
  { title: 'sort', type: 'integer' },
  { title: 'urlCheck', type: 'string', required: true },
  { title: 'urlData', type: 'string', required: true },
  { title: 'urlTableList', type: 'string', required: true },
  { title: 'urlTableDescription', type: 'string', required: true },
  { title: 'settings', type: 'array', required: true },
  { title: 'dateCreate', type: 'datetime', required: true, readOnly: true },
  { title: 'supportMapping', type: 'boolean' },
  // DOCS list it; one CORE version accepts it, the reference's snapshot does not (UNCONFIRMED): accepted.
  { title: 'sourceCode', type: 'string' },
];
const CONNECTOR_LIMITS = {
  title: 512,
  urlCheck: 2048,
  urlTableList: 2048,
  urlTableDescription: 2048,
  urlData: 2048,
  sourceCode: 64,
};

/** Keys arrive camelCase; CORE upper-snakes them (Converter), so `name`/`NAME` both work. */
const upperKeys = (o: unknown): Record<string, unknown> =>
  isObj(o)
    ? Object.fromEntries(
        Object.entries(o).map(([k, v]) => [k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase(), v]),
      )
    : {};

/** Connector::checkAndPrepareSettings. */
function checkSettings(raw: unknown): Fail | ConnectorSetting[] {
  const out: ConnectorSetting[] = [];
  for (const item of Object.values(raw as object)) {
    const s = upperKeys(item);
    if (s.TYPE == null || s.NAME == null || s.CODE == null)
      return fail(
        'VALIDATION_SETTINGS_MISSING_REQUIRED_FIELDS',
        'Settings must include "type", "name" and "code" fields.',
      );
    if ([...String(s.NAME)].length > 512)
      return fail('VALIDATION_SETTINGS_NAME_TOO_LONG', 'Parameter "name" must be less than 512 characters.');
    if ([...String(s.CODE)].length > 512)
      return fail('VALIDATION_SETTINGS_CODE_TOO_LONG', 'Parameter "code" must be less than 512 characters.');
    if (s.TYPE !== 'STRING' && s.TYPE !== 'INT')
      return fail('VALIDATION_SETTINGS_INVALID_TYPE', 'Parameter "type" is not correct.');
    out.push({ name: String(s.NAME), code: String(s.CODE), type: s.TYPE });
  }
  return out;
}

const connectorMethods: MethodDef[] = [
  method('biconnector.connector.add', (ctx, s) => {
    const bad = validateFields(ctx.params.fields, CONNECTOR_FIELDS, true);
    if (bad) return bad;
    const f = ctx.params.fields as Record<string, unknown>;
    const settings = checkSettings(f.settings);
    if (isFail(settings)) return settings;
    const long = tooLong(f, CONNECTOR_LIMITS);
    if (long) return long;
    const id = ++s.seq.connector;
    s.connectors.set(id, {
      id,
      appId: ctx.auth.clientKey,
      title: f.title as string,
      description: (f.description as string | undefined) ?? null,
      dateCreate: ctx.portal.clock.now(),
      logo: f.logo as string,
      urlCheck: f.urlCheck as string,
      urlTableList: f.urlTableList as string,
      urlTableDescription: f.urlTableDescription as string,
      urlData: f.urlData as string,
      settings,
      sort: f.sort === undefined ? 100 : Math.trunc(Number(f.sort)),
      supportMapping: (f.supportMapping as boolean | undefined) ?? false,
      sourceCode: (f.sourceCode as string | undefined) ?? null,
    });
    return { id };
  }),
  method('biconnector.connector.update', (ctx, s) => {
    const bad = validateId(ctx.params) ?? validateFields(ctx.params.fields, CONNECTOR_FIELDS, false);
    if (bad) return bad;
    const c = ownConnector(s, ctx.auth.clientKey, ctx.params.id);
    if (!c) return fail('CONNECTOR_NOT_FOUND', 'Connector was not found.');
    const f = ctx.params.fields as Record<string, unknown>;
    const settings = f.settings === undefined ? c.settings : checkSettings(f.settings);
    if (isFail(settings)) return settings;
    const long = tooLong(f, CONNECTOR_LIMITS);
    if (long) return long;
    Object.assign(c, f, { settings, ...(f.sort !== undefined ? { sort: Math.trunc(Number(f.sort)) } : {}) });
    return true;
  }),
  method('biconnector.connector.get', (ctx, s) => {
    const bad = validateId(ctx.params);
    if (bad) return bad;
    const c = ownConnector(s, ctx.auth.clientKey, ctx.params.id);
    return c
      ? { item: connectorItem(ctx.portal, c) }
      : fail('CONNECTOR_NOT_FOUND', 'Connector was not found.');
  }),
  method('biconnector.connector.list', (ctx, s) => {
    const mine = [...s.connectors.values()]
      .filter((c) => c.appId === ctx.auth.clientKey)
      .map((c) => connectorItem(ctx.portal, c));
    return runList(
      ctx,
      mine,
      CONNECTOR_FIELDS.map((f) => f.title),
      (r) => r,
    );
  }),
  method('biconnector.connector.delete', (ctx, s) => {
    const bad = validateId(ctx.params);
    if (bad) return bad;
    const c = ownConnector(s, ctx.auth.clientKey, ctx.params.id);
    if (!c) return fail('CONNECTOR_NOT_FOUND', 'Connector was not found.');
    if ([...s.sources.values()].some((src) => src.connectorId === c.id)) {
      return fail(
        'CONNECTOR_DELETE_RESTRICTED',
        'Connector cannot be removed. Remove the connections related to the connector first.',
      );
    }
    s.connectors.delete(c.id);
    return true;
  }),
];

// ───────────────────────── source ─────────────────────────

const SOURCE_FIELDS: FieldSpec[] = [
  { title: 'id', type: 'integer', required: true, readOnly: true },
  { title: 'title', type: 'string', required: true },
  { title: 'type', type: 'string', required: true, readOnly: true },
  { title: 'code', type: 'string', required: true, readOnly: true },
  { title: 'description', type: 'string' },
  { title: 'active', type: 'boolean' },
  { title: 'dateCreate', type: 'datetime', required: true, readOnly: true },
  { title: 'dateUpdate', type: 'datetime', required: true, readOnly: true },
  { title: 'createdById', type: 'integer', required: true, readOnly: true },
  { title: 'updatedById', type: 'integer', required: true, readOnly: true },
  { title: 'connectorId', type: 'integer', required: true, immutable: true },
  { title: 'settings', type: 'array', required: true },
];

function clientFor(
  s: BiconnectorState,
  portal: Portal,
  c: ConnectorRec,
  connection: Record<string, string>,
): BiBuilderClient {
  return new BiBuilderClient(c, connection, {
    locale: portal.language === 'en' ? 'en' : 'ru',
    utcOffsetMinutes: portal.utcOffsetMinutes,
    ...s.clientOptions,
  });
}

const settingValues = (raw: unknown): Record<string, string> =>
  Object.fromEntries(
    Object.entries((raw ?? {}) as Record<string, unknown>).map(([k, v]) => [
      k,
      v === null || v === undefined ? '' : typeof v === 'boolean' ? (v ? '1' : '') : String(v),
    ]),
  );

function sourceItem(portal: Portal, src: SourceRec): Record<string, unknown> {
  return {
    ...sourceColumns(portal, src),
    connectorId: src.connectorId,
    settings: src.settings.map((x) => ({ ...x })),
  };
}

const sourceMethods: MethodDef[] = [
  method('biconnector.source.add', async (ctx, s) => {
    const bad = validateFields(ctx.params.fields, SOURCE_FIELDS, true);
    if (bad) return bad;
    const f = ctx.params.fields as Record<string, unknown>;
    const c = ownConnector(s, ctx.auth.clientKey, f.connectorId);
    if (!c) return fail('CONNECTOR_NOT_FOUND', 'Connector was not found.');
    const values = settingValues(f.settings);
    // Synchronous urlCheck before saving (Source::checkConnectionBeforeAdd); the reason is not exposed.
    try {
      await clientFor(s, ctx.portal, c, values).check();
    } catch {
      return fail('SOURCE_CREATE_CONNECTION_ERROR', 'Cannot create connection.');
    }
    const id = ++s.seq.source;
    s.sources.set(id, {
      id,
      connectorId: c.id,
      title: f.title as string,
      description: (f.description as string | undefined) ?? null,
      active: (f.active as boolean | undefined) ?? true,
      dateCreate: ctx.portal.clock.now(),
      dateUpdate: null,
      createdById: ctx.auth.userId,
      updatedById: null,
      // Name and type come from the connector's declaration of that code.
      settings: Object.entries(values).map(([code, value]) => {
        const decl = c.settings.find((x) => x.code === code);
        return { code, name: decl?.name ?? code, type: decl?.type ?? 'STRING', value };
      }),
    });
    return { id };
  }),
  method('biconnector.source.get', (ctx, s) => {
    const bad = validateId(ctx.params);
    if (bad) return bad;
    const src = ownSource(s, ctx.auth.clientKey, ctx.params.id);
    if (!src) return fail('SOURCE_NOT_FOUND', 'Source was not found.');
    return {
      item: {
        connection: sourceColumns(ctx.portal, src),
        connectorId: src.connectorId,
        settings: src.settings.map((x) => ({ ...x })),
      },
    };
  }),
  method('biconnector.source.list', (ctx, s) => {
    const mine = [...s.sources.values()]
      .filter((src) => ownSource(s, ctx.auth.clientKey, src.id))
      .map((src) => sourceItem(ctx.portal, src));
    return runList(
      ctx,
      mine,
      SOURCE_FIELDS.map((f) => f.title),
      (r) => r,
      ['settings'],
    );
  }),
  method('biconnector.source.delete', (ctx, s) => {
    const bad = validateId(ctx.params);
    if (bad) return bad;
    const src = ownSource(s, ctx.auth.clientKey, ctx.params.id);
    if (!src) return fail('SOURCE_NOT_FOUND', 'Source was not found.');
    s.sources.delete(src.id);
    // SourceManager::deleteSource also drops the source's datasets (UNCONFIRMED detail).
    for (const d of [...s.datasets.values()]) if (d.sourceId === src.id) s.datasets.delete(d.id);
    return true;
  }),
];

// ───────────────────────── dataset ─────────────────────────

const DATASET_FIELDS: FieldSpec[] = [
  { title: 'id', type: 'integer', required: true, readOnly: true },
  { title: 'sourceId', type: 'integer', required: true, immutable: true },
  { title: 'name', type: 'string', required: true, immutable: true },
  { title: 'type', type: 'string', required: true, readOnly: true },
  { title: 'description', type: 'string' },
  { title: 'externalName', type: 'string', required: true, immutable: true },
  { title: 'externalCode', type: 'string', required: true, immutable: true },
  { title: 'externalId', type: 'integer', required: true, readOnly: true },
  { title: 'dateCreate', type: 'datetime', required: true, readOnly: true },
  { title: 'dateUpdate', type: 'datetime', required: true, readOnly: true },
  { title: 'createdById', type: 'integer', required: true, readOnly: true },
  { title: 'updatedById', type: 'integer', required: true, readOnly: true },
  { title: 'fields', type: 'array', required: true },
];

/** BI Builder's own tables (reference §3): a dataset may not take these names. */
const BUILTIN_TABLES = new Set(
  [
    'crm_deal crm_deal_uf crm_deal_product_row crm_deal_stage_history crm_contact crm_contact_uf crm_company crm_company_uf',
    'crm_lead crm_lead_uf crm_lead_product_row crm_lead_status_history crm_stages crm_activity crm_activity_relation',
    'crm_product crm_product_property crm_product_property_value crm_smart_proc crm_entity_relation crm_quote',
    'crm_quote_product_row crm_entity_stage_history telephony_call socialnetwork_group user',
  ]
    .join(' ')
    .split(' '),
);
const isBuiltin = (name: string) =>
  BUILTIN_TABLES.has(name) || /^crm_dynamic_items_\d+$/.test(name) || name.startsWith('bizproc_');
const FIELD_TYPES = new Set(['int', 'string', 'double', 'date', 'datetime', 'money', 'timezone']);

/** DatasetManager + RestDatasetManager checks, in CORE order; the first error wins. */
function checkDataset(s: BiconnectorState, name: string, fields: Record<string, unknown>[]): Fail | null {
  // array_column skips items without the key, so only present values can be duplicates.
  const dups = (key: string) => {
    const vals = fields.filter((x) => key in x).map((x) => String(x[key]));
    return [...new Set(vals.filter((v, i) => vals.indexOf(v) !== i))];
  };
  const dupNames = dups('NAME');
  if (dupNames.length) return fail('DUPLICATE_FIELDS', `Duplicate field names: ${dupNames.join(', ')}`);
  if (isBuiltin(name)) return fail('DATASET_ALREADY_EXIST', 'A dataset with this name already exists.');
  if ([...s.datasets.values()].some((d) => d.name === name))
    return fail('NAME_EXISTS', `Dataset with name "${name}" already exists.`);
  if (fields.length === 0) return fail('FIELDS_EMPTY', '$fields is empty');
  const dupCodes = dups('EXTERNAL_CODE');
  if (dupCodes.length)
    return fail(
      'VALIDATION_DUPLICATE_FIELD_CODE',
      `Duplicate values found in the "code" parameter: ${dupCodes.join(', ')}`,
    );
  for (const x of fields) {
    if (!('NAME' in x) || !('TYPE' in x) || !('EXTERNAL_CODE' in x)) {
      return fail(
        'VALIDATION_FIELD_MISSING_REQUIRED_PARAMETERS',
        'Field must include the required parameters: "name", "externalCode" and "type".',
      );
    }
    if (!/^[A-Z][A-Z0-9_]*$/.test(String(x.NAME))) {
      return fail(
        'VALIDATION_FIELD_NAME_INVALID_FORMAT',
        'Field "name" has to start with an uppercase Latin character. Possible entry includes uppercase Latin characters (A-Z), numbers (0-9) and underscores.',
      );
    }
    if (String(x.NAME).length > 32)
      return fail('VALIDATION_FIELD_NAME_TOO_LONG', 'Field "name" must not exceed 32 characters.');
    if (!FIELD_TYPES.has(String(x.TYPE))) return fail('VALIDATION_FIELD_INVALID_TYPE', 'Invalid field type.');
  }
  if (name.length > 230)
    return fail('VALIDATION_DATASET_NAME_TOO_LONG', 'Dataset name must not exceed 230 characters.');
  return null;
}

function datasetItem(portal: Portal, d: DatasetRec): Record<string, unknown> {
  return { ...datasetColumns(portal, d), fields: d.fields.map((x) => ({ ...x })) };
}

const datasetMethods: MethodDef[] = [
  method('biconnector.dataset.add', (ctx, s) => {
    const bad = validateFields(ctx.params.fields, DATASET_FIELDS, true);
    if (bad) return bad;
    const f = ctx.params.fields as Record<string, unknown>;
    const name = f.name as string;
    if (!/^[a-z][a-z0-9_]*$/.test(name)) {
      return fail(
        'VALIDATION_DATASET_NAME_INVALID',
        'Dataset name has to start with a lowercase Latin character. Possible entry includes lowercase Latin characters (a-z), numbers (0-9) and underscores.',
      );
    }
    const src = ownSource(s, ctx.auth.clientKey, f.sourceId);
    if (!src) return fail('SOURCE_NOT_FOUND', 'Source was not found.');
    const fields = Object.values(f.fields as object).map(upperKeys);
    const bad2 = checkDataset(s, name, fields);
    if (bad2) return bad2;
    const id = ++s.seq.dataset;
    s.datasets.set(id, {
      id,
      sourceId: src.id,
      name,
      description: (f.description as string | undefined) ?? null,
      externalName: f.externalName as string,
      externalCode: f.externalCode as string,
      // The Superset dataset is assumed to exist (BI Builder activated): its id.
      externalId: ++s.seq.superset,
      dateCreate: ctx.portal.clock.now(),
      dateUpdate: null,
      createdById: ctx.auth.userId,
      updatedById: null,
      fields: fields.map((x) => ({
        id: ++s.seq.field,
        datasetId: id,
        type: String(x.TYPE),
        name: String(x.NAME),
        externalCode: String(x.EXTERNAL_CODE),
        visible: true,
      })),
    });
    return { id };
  }),
  method('biconnector.dataset.get', (ctx, s) => {
    const bad = validateId(ctx.params);
    if (bad) return bad;
    const d = ownDataset(s, ctx.auth.clientKey, ctx.params.id);
    return d ? { item: datasetItem(ctx.portal, d) } : fail('DATASET_NOT_FOUND', 'Dataset was not found.');
  }),
  // Reference §2.4: {id, add: [{name, externalCode, type}], update: [{id, visible}], delete: [fieldId]}
  // → true. Applied as one change: nothing is written when any part is invalid. Error codes for a
  // foreign field id or a clash with an existing field are UNCONFIRMED (chosen like dataset.add's).
  method('biconnector.dataset.fields.update', (ctx, s) => {
    const bad = validateId(ctx.params);
    if (bad) return bad;
    const d = ownDataset(s, ctx.auth.clientKey, ctx.params.id);
    if (!d) return fail('DATASET_NOT_FOUND', 'Dataset was not found.');
    const list = (v: unknown): unknown[] =>
      v === undefined || v === null || v === '' ? [] : typeof v === 'object' ? Object.values(v) : [v];
    const add = list(ctx.params.add).map(upperKeys);
    const update = list(ctx.params.update).map(upperKeys);
    const remove = list(ctx.params.delete).map((x) => Math.trunc(Number(x)));
    const own = new Map(d.fields.map((f) => [f.id, f]));
    const foreign = [...remove, ...update.map((u) => Math.trunc(Number(u.ID)))].filter((id) => !own.has(id));
    if (foreign.length) return fail('FIELD_NOT_FOUND', `Fields were not found: ${foreign.join(', ')}`);
    for (const x of add) {
      if (!('NAME' in x) || !('TYPE' in x) || !('EXTERNAL_CODE' in x))
        return fail(
          'VALIDATION_FIELD_MISSING_REQUIRED_PARAMETERS',
          'Field must include the required parameters: "name", "externalCode" and "type".',
        );
      if (!/^[A-Z][A-Z0-9_]*$/.test(String(x.NAME)))
        return fail(
          'VALIDATION_FIELD_NAME_INVALID_FORMAT',
          'Field "name" has to start with an uppercase Latin character. Possible entry includes uppercase Latin characters (A-Z), numbers (0-9) and underscores.',
        );
      if (String(x.NAME).length > 32)
        return fail('VALIDATION_FIELD_NAME_TOO_LONG', 'Field "name" must not exceed 32 characters.');
      if (!FIELD_TYPES.has(String(x.TYPE)))
        return fail('VALIDATION_FIELD_INVALID_TYPE', 'Invalid field type.');
    }
    const kept = d.fields.filter((f) => !remove.includes(f.id));
    const names = [...kept.map((f) => f.name), ...add.map((x) => String(x.NAME))];
    const codes = [...kept.map((f) => f.externalCode), ...add.map((x) => String(x.EXTERNAL_CODE))];
    const dup = (vals: string[]) => vals.filter((v, i) => vals.indexOf(v) !== i);
    if (dup(names).length) return fail('DUPLICATE_FIELDS', `Duplicate field names: ${dup(names).join(', ')}`);
    if (dup(codes).length)
      return fail(
        'VALIDATION_DUPLICATE_FIELD_CODE',
        `Duplicate values found in the "code" parameter: ${dup(codes).join(', ')}`,
      );
    for (const u of update)
      own.get(Math.trunc(Number(u.ID)))!.visible = !['0', 'false', 'N', ''].includes(String(u.VISIBLE));
    d.fields = [
      ...kept,
      ...add.map((x) => ({
        id: ++s.seq.field,
        datasetId: d.id,
        type: String(x.TYPE),
        name: String(x.NAME),
        externalCode: String(x.EXTERNAL_CODE),
        visible: true,
      })),
    ];
    d.dateUpdate = ctx.portal.clock.now();
    d.updatedById = ctx.auth.userId;
    return true;
  }),
  method('biconnector.dataset.list', (ctx, s) => {
    const mine = [...s.datasets.values()]
      .filter((d) => ownDataset(s, ctx.auth.clientKey, d.id))
      .map((d) => ({ ...datasetColumns(ctx.portal, d), sourceId: d.sourceId }));
    return runList(
      ctx,
      mine,
      DATASET_FIELDS.map((x) => x.title),
      (r) => r,
      ['fields'],
    );
  }),
];

export const biconnectorMethods: MethodDef[] = [...connectorMethods, ...sourceMethods, ...datasetMethods];

// ───────────────────────── control interface: query a dataset as BI Builder does ─────────────────────────

export class DatasetBiClient extends BiBuilderClient {
  constructor(
    private readonly state: BiconnectorState,
    readonly dataset: DatasetRec,
    private readonly source: SourceRec,
    connector: ConnectorRec,
    portal: Portal,
  ) {
    super(connector, Object.fromEntries(source.settings.map((x) => [x.code, x.value])), {
      locale: portal.language === 'en' ? 'en' : 'ru',
      utcOffsetMinutes: portal.utcOffsetMinutes,
      ...state.clientOptions,
    });
  }

  /**
   * A BI query on this dataset (Source/Rest::getData): `table` = externalCode, `limit` 0 = all rows,
   * `mapFields` = code→NAME of every dataset with this externalCode, restricted to the NAMEs in
   * `select` when given. Values are checked against the dataset's field types.
   */
  dataFor(select?: string[], filter?: BiFilterItem[], limit = 0): Promise<BiDataResult> {
    // Bitrix refuses before calling the app when the source is switched off.
    if (!this.source.active) return Promise.reject(new Error(`source ${this.source.id} is not active`));
    const mapFields: Record<string, string> = {};
    for (const d of this.state.datasets.values()) {
      if (d.externalCode !== this.dataset.externalCode) continue;
      for (const x of d.fields)
        if (!select?.length || select.includes(x.name)) mapFields[x.externalCode] = x.name;
    }
    const columns = this.dataset.fields
      .filter((x) => x.visible)
      .map((x) => ({ code: x.externalCode, type: mapType(x.type) }));
    return this.data({
      table: this.dataset.externalCode,
      select,
      filter,
      limit,
      mapFields: Object.keys(mapFields).length ? mapFields : undefined,
      columns,
    });
  }
}

/** A BI Builder client for an app's dataset (by its lowercase `name`), as the portal would query it. */
export function biClientForDataset(portal: Portal, clientKey: string, datasetName: string): DatasetBiClient {
  const s = biconnectorState(portal);
  const d = [...s.datasets.values()].find((x) => x.name === datasetName && ownDataset(s, clientKey, x.id));
  if (!d) throw new Error(`dataset ${datasetName} not found for ${clientKey}`);
  const src = s.sources.get(d.sourceId)!;
  return new DatasetBiClient(s, d, src, s.connectors.get(src.connectorId)!, portal);
}
