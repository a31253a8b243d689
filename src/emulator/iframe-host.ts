// The iframe host: a portal page that embeds an installed app the way Bitrix24 does, so a real browser
// can run the app's frontend (and the official SDK's B24Frame) against the emulator.
//
//   GET  /_emulator/frame?clientId=…&userId=1&url=…&placement=DEFAULT&options={…}&lang=ru&install=1
//        → the host page (iframe-host-page.ts). It form-POSTs `url` into the iframe with DOMAIN, PROTOCOL,
//          LANG, APP_SID in the query and the §5.2 fields in the body, then answers the SDK's postMessage
//          commands.
//   POST /_emulator/frame/ajax {sid, action, …}
//        → what the portal does server-side for the page (BX.rest.AppLayout's ajaxUrl): `access_refresh`,
//          `set_installed`, `set_option`, `set_user_option`, `set_install`.
//
// Sessions (one per rendered page, keyed by APP_SID) and the options the page stores live in
// `frameHostState(emu)`.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Emulator } from './emulator.js';
import { renderHostPage } from './iframe-host-page.js';

export const FRAME_PATH = '/_emulator/frame';
export const FRAME_AJAX_PATH = '/_emulator/frame/ajax';

export interface FrameSession {
  /** APP_SID */
  sid: string;
  clientId: string;
  userId: number;
  placement: string;
  placementOptions: Record<string, unknown>;
  lang: string;
  install: boolean;
  /** The app URL as opened (with the DOMAIN/PROTOCOL/LANG/APP_SID query). */
  appUrl: string;
  createdAt: number;
  refreshes: number;
  /** 'Y'/'N' after the page's setInstallFinish. */
  installFinished?: 'Y' | 'N';
}

export interface FrameHostState {
  sessions: Map<string, FrameSession>;
  /** `clientId|userId` of users whose page sent `setInstall {install: true}` (no more FIRST_RUN). */
  ran: Set<string>;
  /** APP_OPTIONS per app, USER_OPTIONS per `clientId|userId` (what BX24 setAppOption/setUserOption store). */
  appOptions: Map<string, Record<string, unknown>>;
  userOptions: Map<string, Record<string, unknown>>;
}

const MAX_SESSIONS = 1000;

export function frameHostState(emu: Emulator): FrameHostState {
  return emu.portal.ext<FrameHostState>('iframe-host', () => ({
    sessions: new Map(),
    ran: new Set(),
    appOptions: new Map(),
    userOptions: new Map(),
  }));
}

class HostError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function queryString(q: unknown, name: string): string | undefined {
  const v = (q as Record<string, unknown> | undefined)?.[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s !== '' ? s : undefined;
}

function flag(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (['1', 'true', 'Y', 'y', 'yes'].includes(v)) return true;
  if (['0', 'false', 'N', 'n', 'no'].includes(v)) return false;
  throw new HostError(400, `install must be 1 or 0, got "${v}"`);
}

function sessionKey(clientId: string, userId: number): string {
  return `${clientId}|${userId}`;
}

function renderFrame(emu: Emulator, q: unknown): string {
  const clientId = queryString(q, 'clientId');
  if (!clientId)
    throw new HostError(
      400,
      'clientId is required: /_emulator/frame?clientId=<client_id of an installed app>',
    );
  const app = emu.portal.appByClientId(clientId);
  if (!app) {
    throw new HostError(
      404,
      `Application "${clientId}" is not installed on this portal: install it first (emu.installApp / POST /_emulator/install)`,
    );
  }

  const userId = Number(queryString(q, 'userId') ?? '1');
  if (!Number.isInteger(userId) || userId <= 0) throw new HostError(400, 'userId must be a positive integer');
  const user = emu.portal.data.table('user').get(userId);
  if (!user) throw new HostError(404, `User ${userId} does not exist on this portal`);
  if (user.ACTIVE === false) throw new HostError(403, `User ${userId} is not active`);

  const placement = (queryString(q, 'placement') ?? 'DEFAULT').toUpperCase();
  let placementOptions: Record<string, unknown> = {};
  const rawOptions = queryString(q, 'options');
  if (rawOptions !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawOptions);
    } catch {
      throw new HostError(400, 'options must be a JSON object');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new HostError(400, 'options must be a JSON object');
    placementOptions = parsed as Record<string, unknown>;
  }

  let url = queryString(q, 'url');
  if (!url && placement !== 'DEFAULT') {
    url = emu.portal.placements.find((p) => p.clientId === clientId && p.placement === placement)?.handler;
    if (!url)
      throw new HostError(
        404,
        `Application "${clientId}" has no handler bound to placement ${placement} (placement.bind) and no url was given`,
      );
  }
  url ??= app.handlerUrl;
  if (!url) throw new HostError(400, `Application "${clientId}" has no handlerUrl: pass url=<app page URL>`);
  let appUrl: URL;
  try {
    appUrl = new URL(url);
  } catch {
    throw new HostError(400, `url is not an absolute URL: ${url}`);
  }
  if (appUrl.protocol !== 'http:' && appUrl.protocol !== 'https:')
    throw new HostError(400, 'url must be http(s)');

  const lang = queryString(q, 'lang') ?? emu.portal.language;
  const explicitInstall = flag(queryString(q, 'install'));
  if (explicitInstall === undefined && !app.installed && user.IS_ADMIN !== true) {
    throw new HostError(
      403,
      `Application "${clientId}" is not installed yet: only an administrator can finish its installation`,
    );
  }
  const install = explicitInstall ?? !app.installed;
  const state = frameHostState(emu);
  const key = sessionKey(clientId, userId);
  const firstRun = install || !state.ran.has(key);
  const base = new URL(emu.baseUrl);
  const domain = emu.portal.domain || base.host;
  const protocol = base.protocol === 'https:' ? 1 : 0;
  const sid = randomBytes(16).toString('hex');
  const tokens = emu.userTokens(clientId, userId);

  appUrl.searchParams.set('DOMAIN', domain);
  appUrl.searchParams.set('PROTOCOL', String(protocol));
  appUrl.searchParams.set('LANG', lang);
  appUrl.searchParams.set('APP_SID', sid);

  if (state.sessions.size >= MAX_SESSIONS) {
    const oldest = state.sessions.keys().next().value;
    if (oldest !== undefined) state.sessions.delete(oldest);
  }
  state.sessions.set(sid, {
    sid,
    clientId,
    userId,
    placement,
    placementOptions,
    lang,
    install,
    appUrl: appUrl.toString(),
    createdAt: emu.clock.now(),
    refreshes: 0,
  });

  return renderHostPage({
    sid,
    frameName: `${domain}|${protocol}|${sid}`,
    action: appUrl.toString(),
    appOrigin: appUrl.origin,
    ajaxUrl: FRAME_AJAX_PATH,
    title: app.code,
    lang,
    form: {
      AUTH_ID: tokens.accessToken,
      AUTH_EXPIRES: String(tokens.expiresIn),
      REFRESH_ID: tokens.refreshToken,
      SERVER_ENDPOINT: emu.clientEndpoint,
      APPLICATION_TOKEN: app.applicationToken,
      APPLICATION_SCOPE: app.scope.join(','),
      member_id: emu.portal.memberId,
      status: app.status,
      PLACEMENT: placement,
      PLACEMENT_OPTIONS: JSON.stringify(placementOptions),
    },
    initData: {
      LANG: lang,
      DOMAIN: domain,
      PROTOCOL: protocol,
      PATH: '/rest/',
      AUTH_ID: tokens.accessToken,
      AUTH_EXPIRES: tokens.expiresIn,
      REFRESH_ID: tokens.refreshToken,
      MEMBER_ID: emu.portal.memberId,
      FIRST_RUN: firstRun,
      IS_ADMIN: user.IS_ADMIN === true,
      INSTALL: install,
      USER_OPTIONS: { ...state.userOptions.get(key) },
      APP_OPTIONS: { ...state.appOptions.get(clientId) },
      PLACEMENT: placement,
      PLACEMENT_OPTIONS: placementOptions,
    },
  });
}

/** The portal-side actions of the host page. */
function frameAjax(emu: Emulator, body: Record<string, unknown>): Record<string, unknown> {
  const state = frameHostState(emu);
  const session = state.sessions.get(String(body.sid ?? ''));
  if (!session) throw new HostError(404, 'Unknown APP_SID: open the app through /_emulator/frame');
  const app = emu.portal.appByClientId(session.clientId);
  if (!app) throw new HostError(404, `Application "${session.clientId}" is no longer installed`);
  const user = emu.portal.data.table('user').get(session.userId);
  const isAdmin = user?.IS_ADMIN === true;
  const key = sessionKey(session.clientId, session.userId);
  switch (body.action) {
    case 'access_refresh': {
      const t = emu.userTokens(session.clientId, session.userId);
      session.refreshes++;
      return {
        access_token: t.accessToken,
        refresh_token: t.refreshToken,
        expires_in: t.expiresIn,
        expires: t.expires,
      };
    }
    case 'set_installed': {
      if (!isAdmin) return { result: false, error: 'ACCESS_DENIED' };
      if (body.v === 'N') app.installed = false;
      else emu.finishInstall(session.clientId);
      session.installFinished = body.v === 'N' ? 'N' : 'Y';
      return { result: true };
    }
    case 'set_option': {
      if (!isAdmin) return { result: false, error: 'ACCESS_DENIED' };
      const opts = state.appOptions.get(session.clientId) ?? {};
      for (const o of Array.isArray(body.options)
        ? (body.options as { name?: unknown; value?: unknown }[])
        : []) {
        if (typeof o?.name === 'string') opts[o.name] = o.value;
      }
      state.appOptions.set(session.clientId, opts);
      return { result: true };
    }
    case 'set_user_option': {
      const opts = state.userOptions.get(key) ?? {};
      if (typeof body.name === 'string') opts[body.name] = body.value;
      state.userOptions.set(key, opts);
      return { result: true };
    }
    case 'set_install': {
      if (body.install) state.ran.add(key);
      else state.ran.delete(key);
      return { result: true };
    }
    default:
      throw new HostError(400, `Unknown action "${String(body.action)}"`);
  }
}

function fail(reply: FastifyReply, e: unknown, asJson: boolean): FastifyReply {
  if (!(e instanceof HostError)) throw e;
  reply.code(e.status);
  if (asJson) return reply.type('application/json; charset=utf-8').send(JSON.stringify({ error: e.message }));
  return reply.type('text/plain; charset=utf-8').send(`Bitrix24 emulator iframe host: ${e.message}\n`);
}

/** Registers the host page and its ajax route on the emulator's Fastify app. */
export function registerIframeHost(app: FastifyInstance, emu: Emulator): void {
  app.get(FRAME_PATH, async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const html = renderFrame(emu, req.query);
      return reply.header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(html);
    } catch (e) {
      return fail(reply, e, false);
    }
  });
  app.post(FRAME_AJAX_PATH, async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      let body: unknown;
      try {
        body = typeof req.body === 'string' && req.body ? JSON.parse(req.body) : {};
      } catch {
        throw new HostError(400, 'body must be JSON');
      }
      if (!body || typeof body !== 'object') throw new HostError(400, 'body must be a JSON object');
      const answer = frameAjax(emu, body as Record<string, unknown>);
      return reply
        .header('Cache-Control', 'no-store')
        .type('application/json; charset=utf-8')
        .send(JSON.stringify(answer));
    } catch (e) {
      return fail(reply, e, true);
    }
  });
}
