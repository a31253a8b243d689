// POST /api/session: the one unauthenticated /api route. It trades the frame's Bitrix24 token for an
// app session token (src/portal-app/session-exchange.ts); rate-limited per source and portal.
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { exchangeSession, type SessionExchangeDeps } from '../portal-app/session-exchange.js';

export const SessionBody = Type.Object(
  {
    accessToken: Type.String({ minLength: 8, maxLength: 512 }),
    memberId: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
    domain: Type.String({ pattern: '^[A-Za-z0-9.-]{1,253}(:\\d{1,5})?$' }),
  },
  { additionalProperties: false },
);

const SessionAnswerSchema = Type.Object({
  token: Type.String(),
  expiresAt: Type.String(),
  user: Type.Object({ id: Type.Integer(), name: Type.String(), isAdmin: Type.Boolean() }),
  portal: Type.Object({
    memberId: Type.String(),
    domain: Type.String(),
    sync: Type.Object({
      auth: Type.Union([Type.Literal('ok'), Type.Literal('needs_reauth')]),
      state: Type.Union([Type.Literal('never'), Type.Literal('running'), Type.Literal('finished'), Type.Literal('failed')]),
      lastSyncedAt: Type.Union([Type.String(), Type.Null()]),
      schedule: Type.Object({ cron: Type.String(), nextAt: Type.Union([Type.String(), Type.Null()]) }),
    }),
  }),
});

export interface SessionRouteDeps extends SessionExchangeDeps {
  rateLimit: { max: number; timeWindow: number };
}

export const sessionRoutes: FastifyPluginAsyncTypebox<SessionRouteDeps> = async (app, deps) => {
  app.post(
    '/api/session',
    {
      bodyLimit: 4 * 1024,
      schema: { body: SessionBody, response: { 200: SessionAnswerSchema } },
      config: {
        rateLimit: {
          ...deps.rateLimit,
          hook: 'preValidation',
          keyGenerator: (req: FastifyRequest) => `${req.ip}|${String((req.body as { memberId?: unknown } | undefined)?.memberId ?? '-')}`,
        },
      },
    },
    async (req) => exchangeSession(deps, req.body),
  );
};
