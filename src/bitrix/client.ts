// One REST client per portal per process, on @bitrix24/b24jssdk. The SDK does the transport: the
// leaky bucket, retries with back-off on 503/5xx/network errors, 429 waits, per-method operating-time
// tracking, and the one refresh-and-retry on expired_token. What we add:
//  - the refresh itself goes through the store (setCustomRefreshAuth): the portal row is locked, a
//    pair another process stored meanwhile is reused, and only otherwise the OAuth server is asked —
//    so two processes never spend one refresh token;
//  - `invalid_grant` marks the portal "needs re-authorisation" and stops its syncs;
//  - http:// endpoints are refused unless ALLOW_INSECURE_PORTALS is on;
//  - request counting for the sync run log.
import {
  B24OAuth,
  ParamsFactory,
  RefreshTokenError,
  SdkError,
  type AbstractB24,
  type B24OAuthParams,
  type HandlerRefreshAuth,
  type RestrictionParams,
} from '@bitrix24/b24jssdk';
import type { Kysely } from 'kysely';
import type { PortalRepo } from '../db/portals.js';
import type { Database } from '../db/schema.js';
import { WebhookB24 } from './webhook.js';

export interface OAuthApp {
  clientId: string;
  clientSecret: string;
}

export class PortalAuthError extends Error {
  constructor(
    readonly portalId: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PortalAuthError';
  }
}

export class InsecurePortalError extends Error {
  constructor(portalId: string, endpoint: string) {
    super(`portal ${portalId} uses the insecure endpoint ${endpoint}; set ALLOW_INSECURE_PORTALS=1 to allow http:// (development only)`);
    this.name = 'InsecurePortalError';
  }
}

/** Restriction settings for sync traffic: the cloud plan's own rate (burst 50, 2 req/s). The SDK's
 *  "batch processing" profile (1 req/s, burst 30) measured twice as slow on a full load for no gain:
 *  the portal allows 2 req/s. Always complete sub-objects (the SDK merges shallowly; a partial
 *  `rateLimit` silently disables throttling). */
export const SYNC_RESTRICTIONS: RestrictionParams = ParamsFactory.getDefault();

export interface ClientDeps {
  db: Kysely<Database>;
  portals: PortalRepo;
  oauthApp?: OAuthApp;
  allowInsecure: boolean;
  restrictions?: RestrictionParams;
}

/** True when an error (thrown by the SDK or by our refresh) means the portal must be re-authorised. */
export function needsReauth(e: unknown): boolean {
  if (e instanceof PortalAuthError) return true;
  if (e instanceof RefreshTokenError) return true;
  if (e instanceof SdkError && (e as { originalError?: unknown }).originalError instanceof RefreshTokenError) return true;
  if (e instanceof SdkError && (e as { originalError?: unknown }).originalError instanceof PortalAuthError) return true;
  return false;
}

export class PortalClients {
  private readonly clients = new Map<string, Promise<AbstractB24>>();

  constructor(private readonly deps: ClientDeps) {}

  get(portalId: string): Promise<AbstractB24> {
    let p = this.clients.get(portalId);
    if (!p) {
      p = this.create(portalId);
      this.clients.set(portalId, p);
      p.catch(() => this.clients.delete(portalId));
    }
    return p;
  }

  forget(portalId: string): void {
    this.clients.delete(portalId);
  }

  private assertSecure(portalId: string, endpoint: string): void {
    if (endpoint.startsWith('http://') && !this.deps.allowInsecure) throw new InsecurePortalError(portalId, endpoint);
  }

  private async create(portalId: string): Promise<AbstractB24> {
    const portal = await this.deps.portals.get(portalId);
    if (!portal) throw new Error(`portal ${portalId} is not registered`);
    if (portal.status !== 'active') {
      throw new PortalAuthError(portalId, portal.status, `portal ${portalId} is ${portal.status}${portal.statusReason ? `: ${portal.statusReason}` : ''}`);
    }
    const restrictions = this.deps.restrictions ?? SYNC_RESTRICTIONS;
    const secrets = await this.deps.portals.secrets(portalId);
    if (portal.authKind === 'webhook') {
      this.assertSecure(portalId, secrets.webhookUrl!);
      return new WebhookB24(secrets.webhookUrl!, restrictions);
    }
    this.assertSecure(portalId, portal.clientEndpoint);
    const app = this.deps.oauthApp;
    if (!app) throw new Error('B24_CLIENT_ID and B24_CLIENT_SECRET are needed for OAuth portals');
    const tokens = secrets.tokens!;
    let version = secrets.tokenVersion;
    const params: B24OAuthParams = {
      applicationToken: '',
      userId: portal.userId ?? 0,
      memberId: portalId,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expires: tokens.expiresAt,
      expiresIn: 3600,
      scope: portal.scope.join(','),
      domain: portal.domain,
      clientEndpoint: portal.clientEndpoint,
      serverEndpoint: portal.serverEndpoint ?? 'https://oauth.bitrix.info/rest/',
      status: 'L',
    };
    const b24 = new B24OAuth(params, app, { restrictionParams: restrictions });
    b24.offClientSideWarning();
    b24.setCustomRefreshAuth(async (): Promise<HandlerRefreshAuth> => {
      const fresh = await this.refreshSerialised(portalId, version, params.serverEndpoint, app);
      version = fresh.version;
      return fresh.handler;
    });
    return b24;
  }

  /**
   * Refreshes under a lock on the portal row. A no-op write takes the row (PostgreSQL) or database
   * (SQLite) write lock first, so concurrent refreshers queue; the one that comes second sees a newer
   * token_version and reuses that pair instead of spending the same refresh token again.
   */
  private async refreshSerialised(
    portalId: string,
    knownVersion: number,
    serverEndpoint: string,
    app: OAuthApp,
  ): Promise<{ version: number; handler: HandlerRefreshAuth }> {
    const { portals, db } = this.deps;
    return db.transaction().execute(async (trx) => {
      await trx.updateTable('portal').set((eb) => ({ token_version: eb.ref('token_version') })).where('portal_id', '=', portalId).execute();
      const portal = (await portals.get(portalId, trx))!;
      const secrets = await portals.secrets(portalId, trx);
      const stored = secrets.tokens!;
      if (secrets.tokenVersion > knownVersion && stored.expiresAt > Date.now() / 1000 + 60) {
        return { version: secrets.tokenVersion, handler: handlerOf(portal.clientEndpoint, serverEndpoint, portalId, portal.scope, stored) };
      }
      // The OAuth server is not the portal's REST API, so this is not the SDK's transport's job; the
      // SDK's own default refresh makes the same single form POST.
      const res = await fetch(`${new URL(serverEndpoint).origin}/oauth/token/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: app.clientId,
          client_secret: app.clientSecret,
          refresh_token: stored.refreshToken,
        }).toString(),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      if (!res.ok || typeof body.access_token !== 'string') {
        const code = String(body.error ?? `HTTP ${res.status}`);
        if (code === 'invalid_grant' || code === 'invalid_client' || code === 'PAYMENT_REQUIRED') {
          throw new PortalAuthError(portalId, code, `the portal's authorisation is no longer valid (${code}): reinstall or re-open the app as an admin`);
        }
        throw new Error(`token refresh for portal ${portalId} failed (${code}); it will be retried`);
      }
      const tokens = { accessToken: body.access_token, refreshToken: String(body.refresh_token), expiresAt: Number(body.expires) };
      const clientEndpoint = typeof body.client_endpoint === 'string' ? body.client_endpoint : portal.clientEndpoint;
      await portals.saveTokens(portalId, tokens, secrets.tokenVersion, { clientEndpoint }, trx);
      return { version: secrets.tokenVersion + 1, handler: handlerOf(clientEndpoint, serverEndpoint, portalId, portal.scope, tokens) };
    });
  }
}

function handlerOf(
  clientEndpoint: string,
  serverEndpoint: string,
  portalId: string,
  scope: string[],
  t: { accessToken: string; refreshToken: string; expiresAt: number },
): HandlerRefreshAuth {
  return {
    access_token: t.accessToken,
    refresh_token: t.refreshToken,
    expires: String(t.expiresAt),
    expires_in: String(Math.max(0, t.expiresAt - Math.floor(Date.now() / 1000))),
    client_endpoint: clientEndpoint,
    server_endpoint: serverEndpoint,
    member_id: portalId,
    scope: scope.join(','),
    status: 'L',
    domain: new URL(clientEndpoint).host,
  };
}
