// Admin: the BI Builder connector of the session's portal — its registration status (with a plain
// message when the portal has no BI Builder for us) and registration on demand (src/bi/register.ts).
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { BiConnector } from '../../bi/connector.js';
import type { BiRegistrar } from '../../bi/register.js';
import type { PortalClients } from '../../bitrix/client.js';
import { PortalRest } from '../../sync/rest.js';
import { requireAdmin } from '../auth.js';
import { AppError } from '../errors.js';
import { NoQuery } from '../schemas.js';
import type { ApiDeps } from './index.js';

/** What buildApp decorates the instance with for these routes. */
export interface BiServices {
  connector: BiConnector;
  registrar: BiRegistrar;
  clients: PortalClients;
}

declare module 'fastify' {
  interface FastifyInstance {
    bi: BiServices;
  }
}

const N = Type.Union([Type.Integer(), Type.Null()]);
const S = Type.Union([Type.String(), Type.Null()]);
export const BiStatusSchema = Type.Object({
  status: Type.Union(['not_registered', 'registering', 'registered', 'unavailable', 'failed'].map((s) => Type.Literal(s))),
  message: S,
  connectorId: N,
  sourceId: N,
  datasets: Type.Array(Type.String()),
  registeredAt: S,
  updatedAt: S,
  urls: Type.Object({ urlCheck: Type.String(), urlTableList: Type.String(), urlTableDescription: Type.String(), urlData: Type.String() }),
});

export const biRoutes: FastifyPluginAsyncTypebox<ApiDeps> = async (app) => {
  app.addHook('preHandler', requireAdmin);
  const withUrls = async (portalId: string) => ({ ...(await app.bi.connector.store.status(portalId)), urls: app.bi.registrar.urls(portalId) });

  app.get('/bi/status', { schema: { querystring: NoQuery, response: { 200: BiStatusSchema } } }, async (req) => withUrls(req.session.portalId));

  app.post('/bi/register', { bodyLimit: 1024, schema: { querystring: NoQuery, response: { 200: BiStatusSchema } } }, async (req) => {
    const portalId = req.session.portalId;
    const current = await app.bi.connector.store.status(portalId);
    if (current.status === 'registering' && current.updatedAt && Date.now() - Date.parse(current.updatedAt) < 60_000)
      throw new AppError(409, 'bi_registering', 'a registration of the BI Builder connector is already running');
    await app.bi.registrar.register(portalId, new PortalRest(await app.bi.clients.get(portalId)));
    return withUrls(portalId);
  });
};
