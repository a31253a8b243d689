// Portals and their credentials. Tokens, webhook URLs and the application token are sealed at rest;
// they are opened only here, never logged. Every change of the token pair bumps `token_version`.
import type { Kysely, Transaction } from 'kysely';
import type { Database, PortalTable } from './schema.js';
import type { SecretBox } from './secrets.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface OAuthTokens {
  accessToken: string;
  refreshToken: string;
  /** Unix seconds. */
  expiresAt: number;
}

export interface Portal {
  portalId: string;
  domain: string;
  clientEndpoint: string;
  serverEndpoint: string | null;
  authKind: 'oauth' | 'webhook';
  scope: string[];
  userId: number | null;
  status: PortalTable['status'];
  statusReason: string | null;
  tokenVersion: number;
}

export interface PortalSecrets {
  tokens: OAuthTokens | null;
  webhookUrl: string | null;
  applicationToken: string | null;
}

export interface RegisterOAuth {
  portalId: string;
  domain: string;
  clientEndpoint: string;
  serverEndpoint: string;
  scope: string[];
  userId: number | null;
  tokens: OAuthTokens;
  applicationToken: string | null;
}

const now = () => new Date().toISOString();

export class PortalRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly box: SecretBox,
  ) {}

  private toPortal(r: PortalTable): Portal {
    return {
      portalId: r.portal_id,
      domain: r.domain,
      clientEndpoint: r.client_endpoint,
      serverEndpoint: r.server_endpoint,
      authKind: r.auth_kind,
      scope: r.scope ? r.scope.split(',') : [],
      userId: r.user_id,
      status: r.status,
      statusReason: r.status_reason,
      tokenVersion: r.token_version,
    };
  }

  async get(portalId: string, db: Db = this.db): Promise<Portal | undefined> {
    const r = await db.selectFrom('portal').selectAll().where('portal_id', '=', portalId).executeTakeFirst();
    return r ? this.toPortal(r) : undefined;
  }

  async list(): Promise<Portal[]> {
    return (await this.db.selectFrom('portal').selectAll().orderBy('portal_id').execute()).map((r) => this.toPortal(r));
  }

  async secrets(portalId: string, db: Db = this.db): Promise<PortalSecrets & { tokenVersion: number }> {
    const r = await db.selectFrom('portal').selectAll().where('portal_id', '=', portalId).executeTakeFirstOrThrow();
    const open = (v: string | null) => (v === null ? null : this.box.open(v));
    return {
      tokens:
        r.access_token && r.refresh_token
          ? { accessToken: open(r.access_token)!, refreshToken: open(r.refresh_token)!, expiresAt: r.expires_at ?? 0 }
          : null,
      webhookUrl: open(r.webhook_url),
      applicationToken: open(r.application_token),
      tokenVersion: r.token_version,
    };
  }

  /** Install or re-install an OAuth portal: idempotent, replaces its credentials. */
  async registerOAuth(p: RegisterOAuth): Promise<void> {
    const t = now();
    const values = {
      domain: p.domain,
      client_endpoint: p.clientEndpoint,
      server_endpoint: p.serverEndpoint,
      auth_kind: 'oauth' as const,
      scope: p.scope.join(','),
      user_id: p.userId,
      access_token: this.box.seal(p.tokens.accessToken),
      refresh_token: this.box.seal(p.tokens.refreshToken),
      expires_at: p.tokens.expiresAt,
      webhook_url: null,
      application_token: p.applicationToken === null ? null : this.box.seal(p.applicationToken),
      status: 'active' as const,
      status_reason: null,
      updated_at: t,
    };
    await this.db
      .insertInto('portal')
      .values({ portal_id: p.portalId, ...values, token_version: 1, created_at: t })
      .onConflict((oc) => oc.column('portal_id').doUpdateSet((eb) => ({ ...values, token_version: eb('portal.token_version', '+', 1) })))
      .execute();
  }

  /** A self-hosted portal reached through an incoming webhook URL (`https://host/rest/1/secret/`). */
  async registerWebhook(p: { portalId: string; webhookUrl: string; scope: string[] }): Promise<void> {
    const url = new URL(p.webhookUrl);
    const m = /^(.*\/rest\/)(\d+)\/[^/]+\/?$/.exec(url.pathname);
    if (!m) throw new Error('webhook URL must look like https://<portal>/rest/<user id>/<secret>/');
    const t = now();
    const values = {
      domain: url.host,
      client_endpoint: `${url.origin}${m[1]}`,
      server_endpoint: null,
      auth_kind: 'webhook' as const,
      scope: p.scope.join(','),
      user_id: Number(m[2]),
      access_token: null,
      refresh_token: null,
      expires_at: null,
      webhook_url: this.box.seal(p.webhookUrl),
      application_token: null,
      status: 'active' as const,
      status_reason: null,
      updated_at: t,
    };
    await this.db
      .insertInto('portal')
      .values({ portal_id: p.portalId, ...values, token_version: 1, created_at: t })
      .onConflict((oc) => oc.column('portal_id').doUpdateSet(values))
      .execute();
  }

  /** Stores a refreshed pair only if nobody stored one since `expectedVersion`; returns whether it did. */
  async saveTokens(portalId: string, tokens: OAuthTokens, expectedVersion: number, extra: { clientEndpoint?: string } = {}, db: Db = this.db): Promise<boolean> {
    const res = await db
      .updateTable('portal')
      .set({
        access_token: this.box.seal(tokens.accessToken),
        refresh_token: this.box.seal(tokens.refreshToken),
        expires_at: tokens.expiresAt,
        token_version: expectedVersion + 1,
        updated_at: now(),
        ...(extra.clientEndpoint ? { client_endpoint: extra.clientEndpoint } : {}),
      })
      .where('portal_id', '=', portalId)
      .where('token_version', '=', expectedVersion)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async setStatus(portalId: string, status: PortalTable['status'], reason: string | null = null): Promise<void> {
    await this.db.updateTable('portal').set({ status, status_reason: reason, updated_at: now() }).where('portal_id', '=', portalId).execute();
  }
}
