// Every /api/v1 route plugin, registered behind the one authentication (src/http/auth.ts). Add new
// route plugins to API_ROUTES; they inherit the bearer check and are enumerated by the tenant
// isolation test (through `app.apiRoutes`), so a new route is covered without touching the test.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Kysely } from 'kysely';
import type { PortalRepo } from '../../db/portals.js';
import type { Database } from '../../db/schema.js';
import type { SyncControl } from '../../portal-app/sync-control.js';
import { authPlugin } from '../auth.js';
import { biRoutes } from './bi.js';
import { kpiRoutes } from './kpi.js';
import { planRoutes } from './plans.js';
import { qualityRoutes } from './quality.js';
import { settingsRoutes } from './settings.js';
import { syncRoutes } from './sync.js';

export const API_PREFIX = '/api/v1';

/** What route plugins get. Handlers scope every read and write by `request.session.portalId`. */
export interface ApiDeps {
  db: Kysely<Database>;
  portals: PortalRepo;
  sync: SyncControl;
  /** How often the progress stream looks at the run log. */
  streamPollMs: number;
}

export interface ApiRoute {
  method: string;
  url: string;
  /** The route's TypeBox schema, for tests that build requests from it. */
  schema: unknown;
}

const API_ROUTES: FastifyPluginAsync<ApiDeps>[] = [syncRoutes, kpiRoutes, settingsRoutes, planRoutes, biRoutes, qualityRoutes];

export async function registerApi(app: FastifyInstance, deps: ApiDeps & { appSecret: string }, registered: ApiRoute[]): Promise<void> {
  await app.register(
    async (api) => {
      api.addHook('onRoute', (r) => {
        for (const method of [r.method].flat()) if (method !== 'HEAD') registered.push({ method, url: r.url, schema: r.schema });
      });
      await api.register(authPlugin, { appSecret: deps.appSecret, portals: deps.portals });
      for (const routes of API_ROUTES) await api.register(routes, deps);
    },
    { prefix: API_PREFIX },
  );
}
