// POST /bi/check, /bi/tables, /bi/describe, /bi/data — the four URLs of the connector, called by
// Bitrix24 BI Builder (reference §1.4–1.7). Not behind the /api/v1 session: every call authenticates
// with the source's secret in `connection[token]`, checked against the portal named in the URL
// (`?portal=<member_id>`: one deployment, many portals). Bodies are PHP form encoding, parsed by our
// own parser in this plugin only (src/bi/form.ts).
//
// Answers: 200 with JSON on success (Bitrix accepts exactly 200 and a non-empty body that is not "0");
// 401 for a wrong or missing secret, 400 naming the problem, 503 before the first sync. Bitrix logs
// these bodies and shows its own message (§1.2).
//
// A store error in the middle of a data stream cannot change the status any more: the connection is
// then cut (Fastify destroys the response), so Bitrix sees a failed transfer rather than a valid but
// silently truncated array.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../http/errors.js';
import type { BiConnector } from './connector.js';
import { FormError, parsePhpForm, type FormMap } from './form.js';

const PortalQuery = Type.Object(
  { portal: Type.String({ minLength: 1, maxLength: 128, examples: ['a1b2c3d4e5f6'] }) },
  { additionalProperties: false },
);

declare module 'fastify' {
  interface FastifyRequest {
    biForm?: FormMap;
  }
}

export async function biRoutes(app: FastifyInstance, opts: { connector: BiConnector }): Promise<void> {
  const { connector } = opts;
  // Our parser for this plugin's routes only (encapsulated): PHP bracket arrays of any length.
  app.removeContentTypeParser('application/x-www-form-urlencoded');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) => {
    try {
      done(null, parsePhpForm(body as string));
    } catch (e) {
      done(e instanceof FormError ? new AppError(400, 'invalid_request', `body: ${e.message}`) : (e as Error), undefined);
    }
  });

  const schema = { querystring: PortalQuery };
  const form = (body: unknown): FormMap => (body instanceof Map ? (body as FormMap) : new Map());
  type Req = { query: { portal: string }; body: unknown };

  app.post('/bi/check', { schema }, async (req, reply) => {
    const r = req as unknown as Req;
    await connector.authorize(r.query.portal, form(r.body));
    return reply.type('application/json').send({ status: 'ok' });
  });

  app.post('/bi/tables', { schema }, async (req, reply) => {
    const r = req as unknown as Req;
    const body = form(r.body);
    await connector.authorize(r.query.portal, body);
    const search = body.get('searchString');
    return reply.send(connector.tables(typeof search === 'string' ? search : undefined));
  });

  app.post('/bi/describe', { schema }, async (req, reply) => {
    const r = req as unknown as Req;
    const body = form(r.body);
    await connector.authorize(r.query.portal, body);
    return reply.send(connector.describe(body.get('table')));
  });

  app.post('/bi/data', { schema }, async (req, reply) => {
    const r = req as unknown as Req;
    const body = form(r.body);
    const portalId = await connector.authorize(r.query.portal, body);
    const plan = connector.plan(body);
    const stream = await connector.stream(portalId, plan);
    // A client gone mid-stream destroys the response; destroy the source with it so no more pages are read.
    reply.raw.once('close', () => stream.destroy());
    return reply.type('application/json; charset=utf-8').header('cache-control', 'no-store').send(stream);
  });
}
