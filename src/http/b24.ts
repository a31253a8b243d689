// Routes Bitrix24 itself calls: the install handler (iframe POST or ONAPPINSTALL event) and the event
// handler. Bodies are form-encoded with PHP bracket keys (auth[member_id]); fields we do not know are
// ignored, never stored.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { CredentialError } from '../portal-app/bitrix-auth.js';
import type { EventIntake } from '../portal-app/events.js';
import type { Installer } from '../portal-app/install.js';
import type { Manifest } from '../portal-app/manifest.js';
import { AppError } from './errors.js';
import { FrameQuery, framingCsp, renderPage, type PageLang } from './pages.js';

const Token = Type.String({ minLength: 1, maxLength: 512 });
const MemberId = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' });
const Short = Type.String({ maxLength: 512 });

const EventAuth = Type.Object({
  member_id: MemberId,
  application_token: Token,
  access_token: Type.Optional(Token),
  refresh_token: Type.Optional(Token),
  domain: Type.Optional(Short),
  server_endpoint: Type.Optional(Short),
  client_endpoint: Type.Optional(Short),
  scope: Type.Optional(Short),
  status: Type.Optional(Short),
  expires: Type.Optional(Short),
  expires_in: Type.Optional(Short),
  user_id: Type.Optional(Short),
});

export const InstallBody = Type.Object({
  // The install page's iframe POST (reference §5.2).
  AUTH_ID: Type.Optional(Token),
  AUTH_EXPIRES: Type.Optional(Short),
  REFRESH_ID: Type.Optional(Token),
  SERVER_ENDPOINT: Type.Optional(Short),
  APPLICATION_TOKEN: Type.Optional(Token),
  APPLICATION_SCOPE: Type.Optional(Short),
  member_id: Type.Optional(MemberId),
  status: Type.Optional(Short),
  PLACEMENT: Type.Optional(Short),
  PLACEMENT_OPTIONS: Type.Optional(Type.String({ maxLength: 4096 })),
  // The ONAPPINSTALL event (server to server).
  event: Type.Optional(Type.String({ pattern: '^[A-Za-z]{1,64}$' })),
  event_handler_id: Type.Optional(Short),
  ts: Type.Optional(Short),
  data: Type.Optional(Type.Object({ LANGUAGE_ID: Type.Optional(Short), VERSION: Type.Optional(Short) })),
  auth: Type.Optional(EventAuth),
});


const EventBody = Type.Object({
  event: Type.String({ pattern: '^[A-Za-z]{1,64}$' }),
  event_handler_id: Type.Optional(Short),
  ts: Type.Optional(Short),
  data: Type.Optional(
    Type.Object({
      FIELDS: Type.Optional(Type.Object({ ID: Type.Optional(Type.String({ pattern: '^\\d{1,18}$' })) })),
      CLEAN: Type.Optional(Short),
      LANGUAGE_ID: Type.Optional(Short),
    }),
  ),
  auth: EventAuth,
});

export interface B24RouteDeps {
  manifest: Manifest;
  installer: Installer;
  intake: EventIntake;
  rateLimits: { install: { max: number; timeWindow: number }; events: { max: number; timeWindow: number } };
}

const lang = (l: string | undefined): PageLang => (l === 'en' ? 'en' : 'ru');

/** Origin the install page may be framed by when the install failed and nothing is verified. */
function claimedOrigin(q: Static<typeof FrameQuery>): string[] {
  if (!q.DOMAIN || !/^[a-z0-9.-]+(:\d+)?$/i.test(q.DOMAIN)) return [];
  return [`${q.PROTOCOL === '0' ? 'http' : 'https'}://${q.DOMAIN}`];
}

function memberKey(req: FastifyRequest): string {
  const b = req.body as { member_id?: unknown; auth?: { member_id?: unknown } } | undefined;
  return `${req.ip}|${String(b?.auth?.member_id ?? b?.member_id ?? '-')}`;
}

export const b24Routes: FastifyPluginAsyncTypebox<B24RouteDeps> = async (app, deps) => {
  const { paths } = deps.manifest;

  app.post(
    paths.install,
    {
      bodyLimit: 64 * 1024,
      schema: { body: InstallBody, querystring: FrameQuery },
      config: { rateLimit: { ...deps.rateLimits.install, hook: 'preValidation', keyGenerator: memberKey } },
    },
    async (req, reply) => {
      const b = req.body;
      if (b.event !== undefined) {
        // Server to server: ONAPPINSTALL with auth[...].
        if (b.event.toUpperCase() !== 'ONAPPINSTALL') throw new AppError(400, 'invalid_request', `the install handler takes ONAPPINSTALL, not ${b.event}`);
        const a = b.auth;
        if (!a?.refresh_token) throw new AppError(400, 'invalid_request', 'body.auth.refresh_token: missing field "refresh_token"');
        const done = await deps.installer.install({
          via: 'event',
          memberId: a.member_id,
          refreshToken: a.refresh_token,
          applicationToken: a.application_token,
          serverEndpoint: a.server_endpoint,
          language: b.data?.LANGUAGE_ID,
        });
        return reply.send({ installed: true, memberId: done.portalId, firstRunId: done.firstRunId });
      }
      // The install page in the portal's iframe.
      const missing = (['AUTH_ID', 'REFRESH_ID', 'member_id', 'APPLICATION_TOKEN'] as const).filter((k) => !b[k]);
      const pageLang = lang(req.query.LANG);
      if (missing.length) {
        reply.header('content-security-policy', framingCsp(claimedOrigin(req.query)));
        return reply
          .code(400)
          .type('text/html; charset=utf-8')
          .send(renderPage({ kind: 'error', lang: pageLang, message: `The install request lacks ${missing.join(', ')}: Bitrix24 opens this page with them when an administrator installs the app.` }));
      }
      try {
        const done = await deps.installer.install({
          via: 'iframe',
          memberId: b.member_id!,
          refreshToken: b.REFRESH_ID!,
          applicationToken: b.APPLICATION_TOKEN!,
          serverEndpoint: b.SERVER_ENDPOINT,
          language: req.query.LANG,
        });
        reply.header('content-security-policy', framingCsp([done.origin]));
        return reply.type('text/html; charset=utf-8').send(renderPage({ kind: 'install', lang: pageLang }));
      } catch (e) {
        if (!(e instanceof CredentialError)) throw e;
        req.log.warn({ code: e.code, memberId: b.member_id }, 'install refused');
        reply.header('content-security-policy', framingCsp(claimedOrigin(req.query)));
        return reply
          .code(e.statusCode)
          .type('text/html; charset=utf-8')
          .send(renderPage({ kind: 'error', lang: pageLang, message: `The app could not be installed: ${e.message}.` }));
      }
    },
  );

  app.post(
    paths.events,
    {
      bodyLimit: 16 * 1024,
      schema: { body: EventBody },
      config: { rateLimit: { ...deps.rateLimits.events, hook: 'preValidation', keyGenerator: memberKey } },
    },
    async (req, reply) => {
      const verdict = await deps.intake.verify(req.body);
      if (!verdict.accepted) {
        req.log.warn({ event: req.body.event, memberId: req.body.auth.member_id, reason: verdict.reason, ip: req.ip }, 'event refused');
        throw new AppError(401, 'event_not_verified', 'the event is not from a portal that installed this app');
      }
      // Answer first (Bitrix24 does not retry and deprioritises slow handlers), then work.
      reply.send({ ok: true });
      deps.intake.dispatch(req.body, verdict);
      return reply;
    },
  );
};
