// The emulator as a real HTTP server: REST at /rest/ (OAuth and incoming webhooks), the OAuth server
// at /oauth/token/, a small control API at /_emulator/ for the standalone process, and the iframe host.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Emulator, type EmulatorOptions, type InstallOptions } from './emulator.js';
import { registerIframeHost } from './iframe-host.js';
import { handleTokenRequest } from './oauth.js';
import { requestParams } from './params.js';
import { errorAnswer, type HttpAnswer } from './rest.js';
import { RestError } from './method.js';

export interface StartOptions extends EmulatorOptions {
  port?: number;
  host?: string;
  /** Fills the portal before the server starts listening (e.g. the clinic generator). */
  populate?: (emu: Emulator) => void | Promise<void>;
}

export interface RunningEmulator {
  /** `http://127.0.0.1:PORT` */
  url: string;
  emulator: Emulator;
  app: FastifyInstance;
  close(): Promise<void>;
}

function send(reply: FastifyReply, a: HttpAnswer): FastifyReply {
  reply.code(a.status);
  if (a.html !== undefined) return reply.type('text/html; charset=utf-8').send(a.html);
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(a.json));
}

function rawQuery(req: FastifyRequest): string {
  const i = req.url.indexOf('?');
  return i < 0 ? '' : req.url.slice(i + 1);
}

export function buildEmulatorApp(emu: Emulator): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024 * 1024,
    // The SDK joins `clientEndpoint` and the method with a slash, giving `/rest//crm.deal.list`.
    routerOptions: { ignoreDuplicateSlashes: true, ignoreTrailingSlash: true },
  });
  // Keep bodies raw: the REST core parses them the way PHP does (JSON or bracket query strings).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const rest = async (req: FastifyRequest, reply: FastifyReply) => {
    // The cloud answers REST cross-origin (CORS `*`), so a frame page may call it directly; a JSON
    // POST from a browser is preceded by a preflight.
    reply.header('Access-Control-Allow-Origin', '*');
    if (req.method === 'OPTIONS') {
      return reply
        .code(204)
        .header('Access-Control-Allow-Methods', 'GET, POST, OPTIONS')
        .header('Access-Control-Allow-Headers', 'content-type, authorization')
        .header('Access-Control-Max-Age', '600')
        .send();
    }
    const path = (req.params as { '*': string })['*'] ?? '';
    const method = path.split('/').filter(Boolean).pop()?.toLowerCase().replace(/\.json$/, '') ?? '';
    const fault = emu.faults.pick(method);
    if (fault === 'drop') {
      req.raw.socket.destroy();
      return reply;
    }
    if (fault === 'slow') await new Promise((r) => setTimeout(r, emu.faults.slowMs));
    if (fault === 'http503') return send(reply, errorAnswer(new RestError('QUERY_LIMIT_EXCEEDED', 'Too many requests', 503)));
    if (fault === 'http500') return send(reply, errorAnswer(new RestError('INTERNAL_SERVER_ERROR', 'Internal server error', 500)));
    if (fault === 'http502') {
      return send(reply, { status: 502, html: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>' });
    }
    const answer = await emu.rest.handle({
      path,
      query: rawQuery(req),
      contentType: req.headers['content-type'],
      body: typeof req.body === 'string' ? req.body : undefined,
      authorization: req.headers.authorization,
      secure: req.protocol === 'https',
    });
    return send(reply, answer);
  };
  app.all('/rest/*', rest);

  const token = async (req: FastifyRequest, reply: FastifyReply) =>
    send(reply, handleTokenRequest(emu, requestParams(rawQuery(req), req.headers['content-type'], req.body as string | undefined)));
  app.all('/oauth/token', token);

  // Control API for the standalone emulator (tests use the in-process handle instead).
  app.post('/_emulator/install', async (req, reply) => {
    const opts = (req.body ? JSON.parse(req.body as string) : {}) as InstallOptions;
    return reply.send(await emu.installApp(opts));
  });
  app.post('/_emulator/webhook', async (req, reply) => {
    const opts = (req.body ? JSON.parse(req.body as string) : {}) as { userId?: number; scope?: string[] };
    return reply.send(emu.createWebhook(opts));
  });
  app.post('/_emulator/expire-tokens', async (_req, reply) => {
    emu.expireAccessTokens();
    return reply.send({ ok: true });
  });
  registerIframeHost(app, emu);
  app.get('/_emulator/stats', async (_req, reply) =>
    reply.send({
      requests: emu.stats.requests,
      refreshes: emu.stats.refreshes,
      calls: Object.fromEntries(emu.stats.calls),
      tables: Object.fromEntries(Object.entries(emu.portal.data.tables).map(([k, t]) => [k, t.size])),
      memberId: emu.portal.memberId,
      domain: emu.portal.domain,
    }),
  );
  return app;
}

/** Starts an emulator on `port` (0 = any free port) and returns its URL and control handle. */
export async function startEmulator(opts: StartOptions = {}): Promise<RunningEmulator> {
  const emu = new Emulator(opts);
  if (opts.populate) await opts.populate(emu);
  const app = buildEmulatorApp(emu);
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  emu.baseUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  if (!emu.portal.domain) emu.portal.domain = new URL(emu.baseUrl).host;
  return {
    url: emu.baseUrl,
    emulator: emu,
    app,
    close: async () => {
      await emu.events.settle();
      await app.close();
    },
  };
}
