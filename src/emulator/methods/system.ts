// System, user and department methods: app.info, profile, scope, server.time, user.*, department.get,
// voximplant.statistic.get (reference §7.8, §7.10, §8).
import { ENTITIES, type Row } from '../entities.js';
import { parseFilter, runList, splitFilterKey } from '../list.js';
import { SIMPLE_COST } from '../limits.js';
import { param, RestError, type MethodContext, type MethodDef } from '../method.js';
import { formatDateTime, renderRow } from '../wire.js';
import { listMethod, resolver } from './common.js';

const ALL_SCOPES = ['crm', 'user', 'user_brief', 'user_basic', 'department', 'placement', 'biconnector', 'telephony', 'im', 'catalog', 'task', 'disk'];

function renderUser(ctx: MethodContext, u: Row): Record<string, unknown> {
  const out = renderRow(u, ENTITIES.user.fields.filter((f) => f.name !== 'IS_ADMIN'), 'legacy', ctx.portal.utcOffsetMinutes);
  out.ACTIVE = u.ACTIVE === true;
  out.UF_DEPARTMENT = (u.UF_DEPARTMENT as number[] | undefined) ?? [];
  return out;
}

function currentUser(ctx: MethodContext): Row {
  const u = ctx.portal.data.table('user').get(ctx.auth.userId);
  if (!u) throw new RestError('authorization_error', 'Unable to authorize user', 401);
  return u;
}

/** user.get: flat `sort`/`order`, `FILTER` object replacing top-level filters, exact offsets,
 *  fired users included unless ACTIVE is filtered (reference §7.10). */
function userGet(ctx: MethodContext) {
  const upper = Object.fromEntries(Object.entries(ctx.params).map(([k, v]) => [k.toUpperCase(), v]));
  const rawFilter =
    upper.FILTER && typeof upper.FILTER === 'object'
      ? (upper.FILTER as Record<string, unknown>)
      : Object.fromEntries(
          Object.entries(upper).filter(([k]) => !['SORT', 'ORDER', 'SELECT', 'ADMIN_MODE', 'IMAGE_RESIZE', 'FILTER'].includes(k)),
        );
  const fields = ENTITIES.user.fields;
  const resolve = resolver(fields, 'legacy');
  const filterObj: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rawFilter)) {
    const { name } = splitFilterKey(k.toUpperCase());
    if (name === 'NAME_SEARCH' || name === 'IS_ONLINE') continue;
    filterObj[k.toUpperCase()] = v;
  }
  const filter = parseFilter(filterObj, { resolve, strict: false, allowLogic: false, offsetMin: ctx.portal.utcOffsetMinutes });
  const sortField = resolve(String(upper.SORT ?? 'ID')) ?? fields[0]!;
  const page = runList({
    table: ctx.portal.data.table('user'),
    filter,
    order: [{ field: sortField, desc: String(upper.ORDER ?? 'ASC').toUpperCase() === 'DESC' }],
    start: ctx.start,
    paging: 'orm',
  });
  return { result: page.rows.map((u) => renderUser(ctx, u)), total: page.total, next: page.next, cost: page.cost };
}

/** department.get: flat filter params and `sort`/`order`; legacy strings. */
function departmentGet(ctx: MethodContext) {
  // Lower-case `sort`/`order` order the list; upper-case field names (ID, NAME, SORT, PARENT,
  // UF_HEAD) filter it — `sort` and `SORT` are different parameters here.
  const p = ctx.params;
  const filterObj = Object.fromEntries(Object.entries(p).filter(([k]) => ['ID', 'NAME', 'SORT', 'PARENT', 'UF_HEAD'].includes(k)));
  const resolve = resolver(ENTITIES.department.fields, 'legacy');
  const filter = parseFilter(filterObj, { resolve, strict: false, allowLogic: false, offsetMin: ctx.portal.utcOffsetMinutes });
  const sortField = resolve(String(p.sort ?? 'ID')) ?? ENTITIES.department.fields[0]!;
  const page = runList({
    table: ctx.portal.data.table('department'),
    filter,
    order: [{ field: sortField, desc: String(p.order ?? 'ASC').toUpperCase() === 'DESC' }],
    start: ctx.start ?? (p.START !== undefined ? Number(p.START) : undefined),
    paging: 'legacy',
  });
  const rows = page.rows.map((d) => {
    const out: Record<string, unknown> = { ID: String(d.ID), NAME: d.NAME, SORT: Number(d.SORT ?? 500) };
    if (d.PARENT !== null && d.PARENT !== undefined) out.PARENT = String(d.PARENT);
    if (d.UF_HEAD !== null && d.UF_HEAD !== undefined) out.UF_HEAD = String(d.UF_HEAD);
    return out;
  });
  return { result: rows, total: page.total, next: page.next, cost: page.cost };
}

export const systemMethods: MethodDef[] = [
  {
    name: 'server.time',
    scope: null,
    handler: (ctx) => ({ result: formatDateTime(ctx.portal.clock.now(), ctx.portal.utcOffsetMinutes), cost: 0.001 }),
  },
  {
    name: 'scope',
    scope: null,
    handler: (ctx) => ({
      result: ['1', 'true', 'Y'].includes(String(param(ctx.params, 'full') ?? '')) ? ALL_SCOPES : ctx.auth.scope,
      cost: 0.001,
    }),
  },
  {
    name: 'app.info',
    scope: null,
    handler: (ctx) => {
      const license = ctx.portal.license;
      if (ctx.auth.kind === 'webhook') return { result: { SCOPE: ctx.auth.scope, LICENSE: license }, cost: 0.001 };
      const app = ctx.portal.appByClientId(ctx.auth.appId!)!;
      const plan = license.split('_')[1] ?? license;
      return {
        result: {
          ID: app.id,
          CODE: app.code,
          VERSION: app.version,
          STATUS: app.status,
          INSTALLED: app.installed,
          PAYMENT_EXPIRED: 'N',
          DAYS: null,
          LANGUAGE_ID: ctx.portal.language,
          LICENSE: license,
          LICENSE_TYPE: plan,
          LICENSE_FAMILY: plan.replace(/\d+$/, ''),
        },
        cost: 0.001,
      };
    },
  },
  {
    name: 'profile',
    scope: null,
    handler: (ctx) => {
      const u = currentUser(ctx);
      return {
        result: {
          ID: String(u.ID),
          ADMIN: u.IS_ADMIN === true,
          NAME: u.NAME ?? '',
          LAST_NAME: u.LAST_NAME ?? '',
          PERSONAL_GENDER: u.PERSONAL_GENDER ?? '',
          TIME_ZONE: ctx.portal.timeZone,
          TIME_ZONE_OFFSET: ctx.portal.utcOffsetMinutes * 60,
        },
        cost: 0.001,
      };
    },
  },
  { name: 'user.admin', scope: null, handler: (ctx) => ({ result: currentUser(ctx).IS_ADMIN === true, cost: 0.001 }) },
  { name: 'user.current', scope: 'user', handler: (ctx) => ({ result: renderUser(ctx, currentUser(ctx)), cost: SIMPLE_COST }) },
  { name: 'user.get', scope: 'user', handler: userGet },
  { name: 'department.get', scope: 'department', handler: departmentGet },
  {
    name: 'voximplant.statistic.get',
    scope: 'telephony',
    handler: (ctx) => {
      const upper = Object.fromEntries(Object.entries(ctx.params).map(([k, v]) => [k.toUpperCase(), v]));
      const order = upper.SORT ? { [String(upper.SORT)]: String(upper.ORDER ?? 'ASC') } : undefined;
      return listMethod({ entity: 'call', typing: 'legacy', paging: 'legacy' })({
        ...ctx,
        params: { filter: upper.FILTER ?? {}, order, select: upper.SELECT },
      });
    },
  },
];
