// Authentication of every /api/v1 route, in one place. A request carries
// `Authorization: Bearer <app session token>` (POST /api/session issues it); the token is verified
// under its portal's key, the portal must still have the app, and the request gets
// `request.session`. Handlers read data only through `request.session.portalId`.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { PortalRepo } from '../db/portals.js';
import { SessionError, verifySession } from '../portal-app/session.js';
import { AppError } from './errors.js';

export interface Session {
  portalId: string;
  userId: number;
  isAdmin: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on every authenticated (/api/v1) request. */
    session: Session;
  }
}

export interface AuthOptions {
  appSecret: string;
  portals: Pick<PortalRepo, 'get'>;
}

function bearer(req: FastifyRequest): string {
  const h = req.headers.authorization;
  if (!h) throw new SessionError('session_missing', 'sign in first: POST /api/session, then send Authorization: Bearer <token>');
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  if (!m) throw new SessionError('session_malformed', 'the Authorization header must be "Bearer <token>"');
  return m[1]!;
}

const plugin: FastifyPluginAsync<AuthOptions> = async (app, opts) => {
  app.decorateRequest('session', null as unknown as Session);
  app.addHook('onRequest', async (req) => {
    const claims = verifySession(opts.appSecret, bearer(req));
    const portal = await opts.portals.get(claims.portalId);
    if (!portal || portal.status === 'uninstalled') {
      throw new SessionError('session_invalid', 'the app is no longer installed on this portal');
    }
    req.session = { portalId: claims.portalId, userId: claims.userId, isAdmin: claims.isAdmin };
  });
};

/** Registers the bearer check on the routes of the context it is registered in. */
export const authPlugin = fp(plugin, { name: 'clinic-auth', fastify: '5.x' });

/** preHandler for routes only admins may use. */
export async function requireAdmin(req: FastifyRequest): Promise<void> {
  if (!req.session?.isAdmin) {
    throw new AppError(403, 'admin_only', 'only portal administrators and users named in the clinic settings may do this');
  }
}
