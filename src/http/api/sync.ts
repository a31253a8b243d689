// Admin controls of the sync: start a full or incremental run, its status and history, and a
// server-sent-events stream of progress. The stream is read with fetch() (EventSource cannot send
// the Authorization header, and tokens do not belong in URLs).
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../errors.js';
import { requireAdmin } from '../auth.js';
import { NoQuery } from '../schemas.js';
import type { ApiDeps } from './index.js';

const EntityCounts = Type.Object({ fetched: Type.Integer(), upserted: Type.Integer(), deleted: Type.Integer() });
const RunSchema = Type.Object({
  id: Type.Integer(),
  mode: Type.Union([Type.Literal('full'), Type.Literal('incremental'), Type.Literal('events'), Type.Literal('reconcile')]),
  status: Type.Union([Type.Literal('running'), Type.Literal('finished'), Type.Literal('failed')]),
  startedAt: Type.String(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  requests: Type.Integer(),
  entities: Type.Record(Type.String(), EntityCounts),
  error: Type.Union([Type.String(), Type.Null()]),
});
export const SyncStatusSchema = Type.Object({
  auth: Type.Union([Type.Literal('ok'), Type.Literal('needs_reauth')]),
  running: Type.Union([RunSchema, Type.Null()]),
  runs: Type.Array(RunSchema),
  lastError: Type.Union([Type.String(), Type.Null()]),
});
const ErrorSchema = Type.Object({ error: Type.String(), message: Type.String() }, { additionalProperties: true });

const HEARTBEAT_MS = 15_000;

export const syncRoutes: FastifyPluginAsyncTypebox<ApiDeps> = async (app, deps) => {
  app.addHook('preHandler', requireAdmin);

  const portalOf = async (portalId: string) => {
    const portal = await deps.portals.get(portalId);
    if (!portal) throw new AppError(401, 'session_invalid', 'the app is no longer installed on this portal');
    return portal;
  };

  app.post(
    '/sync',
    {
      bodyLimit: 1024,
      schema: {
        body: Type.Object({ mode: Type.Union([Type.Literal('full'), Type.Literal('incremental')]) }, { additionalProperties: false }),
        response: { 202: Type.Object({ runId: Type.Integer() }), 409: ErrorSchema },
      },
    },
    async (req, reply) => {
      const started = await deps.sync.start(req.session.portalId, req.body.mode);
      if ('busy' in started) {
        throw new AppError(409, 'sync_running', 'a sync of this portal is already running', { runId: started.runId });
      }
      return reply.code(202).send({ runId: started.runId });
    },
  );

  app.get('/sync/status', { schema: { querystring: NoQuery, response: { 200: SyncStatusSchema } } }, async (req) => deps.sync.status(await portalOf(req.session.portalId)));

  app.get('/sync/stream', { schema: { querystring: NoQuery } }, async (req, reply) => {
    const portalId = req.session.portalId;
    await portalOf(portalId);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write('retry: 3000\n\n');
    let last = '';
    let closed = false;
    let lastWrite = Date.now();
    req.raw.on('close', () => {
      closed = true;
    });
    while (!closed) {
      try {
        const portal = await deps.portals.get(portalId);
        if (!portal || portal.status === 'uninstalled') {
          raw.write('event: end\ndata: {"reason":"uninstalled"}\n\n');
          break;
        }
        const json = JSON.stringify(await deps.sync.status(portal));
        if (json !== last) {
          raw.write(`event: status\ndata: ${json}\n\n`);
          last = json;
          lastWrite = Date.now();
        } else if (Date.now() - lastWrite > HEARTBEAT_MS) {
          raw.write(': keep-alive\n\n');
          lastWrite = Date.now();
        }
      } catch (e) {
        req.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'progress stream stopped');
        break;
      }
      await new Promise((r) => setTimeout(r, deps.streamPollMs));
    }
    raw.end();
  });
};
