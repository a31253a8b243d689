// App-context methods: event bindings and the offline queue, placements, and the messenger's
// system notifications (reference §6.1, §6.5, §8).
import { randomBytes } from 'node:crypto';
import { param, RestError, type MethodContext, type MethodDef } from '../method.js';
import { formatDateTime } from '../wire.js';

/** Events an app may bind (by scope). Unknown names answer ERROR_EVENT_NOT_FOUND. */
const EVENTS_BY_SCOPE: Record<string, string[]> = {
  crm: [
    ...['DEAL', 'CONTACT', 'LEAD', 'COMPANY', 'ACTIVITY', 'PRODUCT', 'PRODUCTSECTION'].flatMap((e) =>
      ['ADD', 'UPDATE', 'DELETE'].map((a) => `ONCRM${e}${a}`),
    ),
    'ONCRMDEALMOVETOCATEGORY',
    'ONCRMDEALUSERFIELDADD',
    'ONCRMDEALUSERFIELDUPDATE',
    'ONCRMDEALUSERFIELDDELETE',
    'ONCRMDEALUSERFIELDSETENUMVALUES',
  ],
  user: ['ONUSERADD'],
  '': ['ONAPPINSTALL', 'ONAPPUNINSTALL', 'ONAPPUPDATE', 'ONOFFLINEEVENT'],
};

function bindableEvent(ctx: MethodContext, event: string): boolean {
  return Object.entries(EVENTS_BY_SCOPE).some(
    ([scope, names]) => names.includes(event) && (scope === '' || ctx.auth.scope.includes(scope) || (scope === 'user' && ctx.auth.scope.some((s) => s.startsWith('user')))),
  );
}

const truthy = (v: unknown) => ['1', 'true', 'Y', 'y'].includes(String(v ?? ''));

export const appMethods: MethodDef[] = [
  {
    name: 'event.bind',
    scope: null,
    appOnly: true,
    handler: (ctx) => {
      const event = String(param(ctx.params, 'event', 'EVENT') ?? '').toUpperCase();
      if (!event) throw new RestError('ERROR_ARGUMENT', "Argument 'event' is null or empty", 400, { argument: 'event' });
      if (!bindableEvent(ctx, event)) throw new RestError('ERROR_EVENT_NOT_FOUND', 'Event not found', 400);
      const offline = String(param(ctx.params, 'event_type') ?? 'online').toLowerCase() === 'offline';
      const authType = Number(param(ctx.params, 'auth_type') ?? 0);
      if ((offline || authType > 0) && !ctx.auth.isAdmin) {
        throw new RestError('ACCESS_DENIED', 'Access denied! Offline events binding requires administrator access rights', 403);
      }
      const handler = String(param(ctx.params, 'handler') ?? '');
      if (!offline && !/^https?:\/\//.test(handler)) {
        throw new RestError('ERROR_ARGUMENT', "Argument 'handler' is null or empty", 400, { argument: 'handler' });
      }
      const clientId = ctx.auth.clientKey;
      // A duplicate binding's error path is UNCONFIRMED; docs elsewhere show ERROR_HANDLER_ALREADY_EXIST.
      if (ctx.portal.bindings.some((b) => b.clientId === clientId && b.event === event && b.handler === handler && b.offline === offline)) {
        throw new RestError('ERROR_HANDLER_ALREADY_EXIST', 'Handler already exists!', 400);
      }
      ctx.portal.bindings.push({ id: ctx.portal.nextSeq(), clientId, event, handler, authType, offline, userId: ctx.auth.userId });
      return { result: true, cost: 0.005 };
    },
  },
  {
    name: 'event.unbind',
    scope: null,
    appOnly: true,
    handler: (ctx) => {
      const event = String(param(ctx.params, 'event', 'EVENT') ?? '').toUpperCase();
      const handler = param(ctx.params, 'handler');
      const offline = String(param(ctx.params, 'event_type') ?? 'online').toLowerCase() === 'offline';
      const before = ctx.portal.bindings.length;
      for (let i = ctx.portal.bindings.length - 1; i >= 0; i--) {
        const b = ctx.portal.bindings[i]!;
        if (b.clientId === ctx.auth.clientKey && b.event === event && b.offline === offline && (handler === undefined || b.handler === handler)) {
          ctx.portal.bindings.splice(i, 1);
        }
      }
      return { result: { count: before - ctx.portal.bindings.length }, cost: 0.005 };
    },
  },
  {
    name: 'event.get',
    scope: null,
    appOnly: true,
    handler: (ctx) => ({
      result: ctx.portal.bindings
        .filter((b) => b.clientId === ctx.auth.clientKey && (ctx.auth.isAdmin || b.userId === ctx.auth.userId))
        .map((b) =>
          b.offline
            ? { event: b.event, connector_id: '', offline: 1 }
            : { event: b.event, handler: b.handler, auth_type: String(b.authType), offline: 0 },
        ),
      cost: 0.002,
    }),
  },
  {
    name: 'event.offline.get',
    scope: null,
    appOnly: true,
    handler: (ctx) => {
      if (!ctx.auth.isAdmin) throw new RestError('ACCESS_DENIED', 'Access denied!', 403);
      const clear = param(ctx.params, 'clear') === undefined ? true : truthy(param(ctx.params, 'clear'));
      const limit = Math.max(1, Math.min(1000, Number(param(ctx.params, 'limit') ?? 50)));
      const q = ctx.portal.offlineQueue;
      const mine = q
        .filter((r) => r.clientId === ctx.auth.clientKey && r.PROCESS_ID === null)
        .sort((a, b) => a.TIMESTAMP_X - b.TIMESTAMP_X || a.ID - b.ID)
        .slice(0, limit);
      const processId = clear ? null : randomBytes(16).toString('hex');
      for (const r of mine) {
        if (clear) q.splice(q.indexOf(r), 1);
        else r.PROCESS_ID = processId;
      }
      return {
        result: {
          process_id: processId,
          events: mine.map((r) => ({
            ID: String(r.ID),
            TIMESTAMP_X: formatDateTime(r.TIMESTAMP_X, ctx.portal.utcOffsetMinutes),
            EVENT_NAME: r.EVENT_NAME,
            EVENT_DATA: r.EVENT_DATA,
            EVENT_ADDITIONAL: r.EVENT_ADDITIONAL,
            MESSAGE_ID: r.MESSAGE_ID,
          })),
        },
        cost: 0.005,
      };
    },
  },
  {
    name: 'placement.bind',
    scope: 'placement',
    appOnly: true,
    handler: (ctx) => {
      const upper = Object.fromEntries(Object.entries(ctx.params).map(([k, v]) => [k.toUpperCase(), v]));
      const placement = String(upper.PLACEMENT ?? '').toUpperCase();
      const handler = String(upper.HANDLER ?? '');
      if (!placement) throw new RestError('ERROR_ARGUMENT', "Argument 'PLACEMENT' is null or empty", 400, { argument: 'PLACEMENT' });
      if (!handler) throw new RestError('ERROR_ARGUMENT', "Argument 'HANDLER' is null or empty", 400, { argument: 'HANDLER' });
      if (!ctx.auth.isAdmin) throw new RestError('ACCESS_DENIED', 'Access denied!', 403);
      if (!PLACEMENTS.includes(placement)) throw new RestError('ERROR_PLACEMENT_NOT_FOUND', 'Placement not found', 400);
      const list = ctx.portal.placements;
      const existing = list.find((p) => p.clientId === ctx.auth.clientKey && p.placement === placement && p.handler === handler);
      const entry = {
        clientId: ctx.auth.clientKey,
        placement,
        handler,
        title: String(upper.TITLE ?? ''),
        description: String(upper.DESCRIPTION ?? ''),
        options: (upper.OPTIONS as Record<string, unknown>) ?? {},
      };
      if (existing) Object.assign(existing, entry);
      else list.push(entry);
      return { result: true, cost: 0.005 };
    },
  },
  {
    name: 'placement.list',
    scope: 'placement',
    appOnly: true,
    handler: () => ({ result: PLACEMENTS, cost: 0.002 }),
  },
  {
    name: 'placement.get',
    scope: 'placement',
    appOnly: true,
    handler: (ctx) => ({
      result: ctx.portal.placements
        .filter((p) => p.clientId === ctx.auth.clientKey)
        .map((p) => ({ placement: p.placement, handler: p.handler, title: p.title, description: p.description, options: p.options })),
      cost: 0.002,
    }),
  },
  {
    name: 'im.notify.system.add',
    scope: 'im',
    handler: (ctx) => {
      const upper = Object.fromEntries(Object.entries(ctx.params).map(([k, v]) => [k.toUpperCase(), v]));
      const userId = Number(upper.USER_ID);
      const message = String(upper.MESSAGE ?? '');
      if (!ctx.portal.data.table('user').get(userId)) throw new RestError('USER_ID_EMPTY', 'Recipient user id not specified', 400);
      if (!message) throw new RestError('MESSAGE_EMPTY', 'Message text empty', 400);
      const inbox = notifications(ctx);
      const id = ctx.portal.nextSeq();
      inbox.push({ id, userId, message, fromClient: ctx.auth.clientKey, at: ctx.portal.clock.now() });
      return { result: id, cost: 0.01 };
    },
  },
];

export interface Notification {
  id: number;
  userId: number;
  message: string;
  fromClient: string;
  at: number;
}

export function notifications(ctx: Pick<MethodContext, 'portal'>): Notification[] {
  return ctx.portal.ext<Notification[]>('im.notifications', () => []);
}

export const PLACEMENTS = [
  'DEFAULT',
  'LEFT_MENU',
  'REST_APP_URI',
  'CRM_ANALYTICS_MENU',
  'CRM_DEAL_LIST_MENU',
  'CRM_DEAL_LIST_TOOLBAR',
  'CRM_DEAL_DETAIL_TAB',
  'CRM_DEAL_DETAIL_TOOLBAR',
  'CRM_CONTACT_DETAIL_TAB',
  'CRM_LEAD_DETAIL_TAB',
];
