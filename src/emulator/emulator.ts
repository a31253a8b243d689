// One emulated portal with everything around it: REST core, OAuth server, event bus, limits,
// faults, and the control operations tests and the demo use (install an app, make a webhook,
// change CRM data, expire tokens, exhaust budgets).
import { randomBytes } from 'node:crypto';
import { Faults } from './faults.js';
import { EventBus } from './events.js';
import {
  CLOUD_LIMITS,
  LeakyBucket,
  NO_LIMITS,
  OperatingBudget,
  wallClock,
  type Clock,
  type LimitOptions,
} from './limits.js';
import type { MethodDef } from './method.js';
import { addEntity, deleteEntity, moveDealToCategory, setProductRows, updateEntity } from './crm-ops.js';
import type { EntityName, Row } from './entities.js';
import { allMethods } from './methods/index.js';
import { issueTokens } from './oauth.js';
import { phpFormEncode } from './params.js';
import { Portal, type InstalledApp, type PortalOptions } from './portal.js';
import { RestCore } from './rest.js';

export interface EmulatorOptions {
  portal?: PortalOptions;
  /** 'cloud' (default): cloud values; 'off': no limits; or explicit values. */
  limits?: 'cloud' | 'off' | Partial<LimitOptions>;
  clock?: Clock;
  /** 'cost': each call really takes its virtual run time (realistic sync benchmarks). */
  latency?: 'none' | 'cost';
  /** Refuse incoming webhooks over plain http (INVALID_REQUEST), as the cloud does. Off by default
   *  because the emulator itself speaks plain http. */
  webhookHttpsOnly?: boolean;
  accessTokenTtlSec?: number;
  refreshTokenTtlSec?: number;
}

export interface InstallOptions {
  clientId?: string;
  clientSecret?: string;
  scope?: string[];
  /** The app's main handler URL (iframe page). */
  handlerUrl?: string;
  /** Where ONAPPINSTALL is posted (API-only apps) — server to server, form-encoded. */
  installUrl?: string;
  /** An app with UI is installed only after `installFinish()`; until then no events are delivered. */
  withUi?: boolean;
  userId?: number;
  status?: InstalledApp['status'];
}

export interface InstallResult {
  clientId: string;
  clientSecret: string;
  applicationToken: string;
  accessToken: string;
  refreshToken: string;
  expires: number;
  expiresIn: number;
  memberId: string;
  domain: string;
  clientEndpoint: string;
  serverEndpoint: string;
  userId: number;
  scope: string[];
  /** Status of the ONAPPINSTALL POST when `installUrl` was given. */
  installEventStatus?: number | 'error';
}

export const DEFAULT_SCOPE = ['crm', 'user_brief', 'department', 'placement', 'biconnector', 'telephony', 'im'];

export class Emulator {
  readonly portal: Portal;
  readonly clock: Clock;
  readonly limits: LimitOptions;
  readonly bucket?: LeakyBucket;
  readonly operating?: OperatingBudget;
  readonly methods: Map<string, MethodDef>;
  readonly events: EventBus;
  readonly faults = new Faults();
  readonly rest: RestCore;
  readonly stats = { requests: 0, refreshes: 0, calls: new Map<string, number>() };
  readonly options: Required<Pick<EmulatorOptions, 'latency' | 'webhookHttpsOnly' | 'accessTokenTtlSec' | 'refreshTokenTtlSec'>>;
  /** `http://127.0.0.1:PORT`, set when the server listens. */
  baseUrl = 'http://127.0.0.1';

  constructor(opts: EmulatorOptions = {}) {
    this.portal = new Portal(opts.portal);
    this.clock = opts.clock ?? wallClock;
    // Cloud limits follow the plan: Enterprise portals (license `*_ent*`) get the 250/5 bucket.
    const cloud: LimitOptions = /_ent/.test(this.portal.license)
      ? { ...CLOUD_LIMITS, rate: { burst: 250, drainPerSec: 5 } }
      : CLOUD_LIMITS;
    this.limits =
      opts.limits === 'off'
        ? NO_LIMITS
        : opts.limits === 'cloud' || opts.limits === undefined
          ? cloud
          : { ...cloud, ...opts.limits };
    if (this.limits.rate) this.bucket = new LeakyBucket(this.clock, this.limits.rate);
    if (this.limits.operating) this.operating = new OperatingBudget(this.clock, this.limits.operating);
    this.options = {
      latency: opts.latency ?? 'none',
      webhookHttpsOnly: opts.webhookHttpsOnly ?? false,
      accessTokenTtlSec: opts.accessTokenTtlSec ?? 3600,
      refreshTokenTtlSec: opts.refreshTokenTtlSec ?? 180 * 86400,
    };
    this.methods = new Map(allMethods.map((m) => [m.name, m]));
    this.events = new EventBus(this);
    this.portal.clock = this.clock;
    this.portal.eventSink = (event, data, causedBy) => this.events.emit(event, data, causedBy);
    this.rest = new RestCore(this);
  }

  get clientEndpoint(): string {
    return `${this.baseUrl}/rest/`;
  }

  /** Installs an app: creates it with its tokens and, for API-only apps, posts ONAPPINSTALL. */
  async installApp(o: InstallOptions = {}): Promise<InstallResult> {
    const clientId = o.clientId ?? `local.${randomBytes(7).toString('hex')}.${Date.now() % 1e8}`;
    const existing = this.portal.appByClientId(clientId);
    const scope = o.scope ?? DEFAULT_SCOPE;
    const app: InstalledApp = existing ?? {
      clientId,
      clientSecret: o.clientSecret ?? randomBytes(24).toString('base64url'),
      id: this.portal.nextSeq(),
      code: clientId,
      version: 1,
      status: o.status ?? 'L',
      scope,
      applicationToken: randomBytes(16).toString('hex'),
      installed: false,
    };
    if (o.clientSecret) app.clientSecret = o.clientSecret;
    app.scope = scope;
    app.handlerUrl = o.handlerUrl;
    app.installUrl = o.installUrl;
    app.installed = !o.withUi;
    this.portal.apps.set(clientId, app);
    const userId = o.userId ?? 1;
    const pair = issueTokens(this, clientId, userId, scope);
    const result: InstallResult = {
      clientId,
      clientSecret: app.clientSecret,
      applicationToken: app.applicationToken,
      ...pair,
      memberId: this.portal.memberId,
      domain: this.portal.domain,
      clientEndpoint: this.clientEndpoint,
      serverEndpoint: this.clientEndpoint,
      userId,
      scope,
    };
    if (o.installUrl && !o.withUi) {
      const auth = {
        access_token: pair.accessToken,
        expires: String(pair.expires),
        expires_in: String(pair.expiresIn),
        scope: scope.join(','),
        domain: this.portal.domain,
        server_endpoint: this.clientEndpoint,
        status: app.status,
        client_endpoint: this.clientEndpoint,
        member_id: this.portal.memberId,
        user_id: String(userId),
        refresh_token: pair.refreshToken,
        application_token: app.applicationToken,
      };
      const body = phpFormEncode({
        event: 'ONAPPINSTALL',
        data: { VERSION: String(app.version), ACTIVE: 'Y', INSTALLED: 'Y', LANGUAGE_ID: this.portal.language },
        ts: String(Math.floor(this.clock.now() / 1000)),
        auth,
      });
      await this.events.post('ONAPPINSTALL', o.installUrl, body);
      result.installEventStatus = this.events.deliveries.at(-1)?.status;
    }
    return result;
  }

  /** What the page's `BX24.installFinish()` does: the app counts as installed from now on. */
  finishInstall(clientId: string): void {
    const app = this.portal.appByClientId(clientId);
    if (app) app.installed = true;
  }

  /** Uninstall: ONAPPUNINSTALL (no tokens, CLEAN) to bound handlers, then the app's handlers,
   *  placements and tokens are removed and every API call with its tokens fails. */
  async uninstallApp(clientId: string, opts: { clean?: boolean } = {}): Promise<void> {
    const app = this.portal.appByClientId(clientId);
    if (!app) return;
    const auth = this.events.authBlock(clientId, null);
    const sends: Promise<void>[] = [];
    for (const b of this.portal.bindings.filter((x) => x.clientId === clientId && x.event === 'ONAPPUNINSTALL')) {
      const body = phpFormEncode({
        event: 'ONAPPUNINSTALL',
        event_handler_id: String(b.id),
        data: { LANGUAGE_ID: this.portal.language, CLEAN: opts.clean ? '1' : '0' },
        ts: String(Math.floor(this.clock.now() / 1000)),
        auth,
      });
      sends.push(this.events.post('ONAPPUNINSTALL', b.handler, body));
    }
    await Promise.all(sends);
    this.portal.apps.delete(clientId);
    remove(this.portal.bindings, (b) => b.clientId === clientId);
    remove(this.portal.placements, (p) => p.clientId === clientId);
    for (const [k, t] of this.portal.accessTokens) if (t.clientId === clientId) this.portal.accessTokens.delete(k);
    for (const [k, t] of this.portal.refreshTokens) if (t.clientId === clientId) this.portal.refreshTokens.delete(k);
  }

  /** CRM changes made "in the portal's UI" by a user: same rules and events as the REST methods. */
  readonly crm = {
    add: (entity: EntityName, fields: Record<string, unknown>, userId = 1): Row => addEntity(this.portal, entity, fields, userId),
    update: (entity: EntityName, id: number, fields: Record<string, unknown>, userId = 1): Row =>
      updateEntity(this.portal, entity, id, fields, userId),
    delete: (entity: EntityName, id: number, userId = 1): void => deleteEntity(this.portal, entity, id, userId),
    moveDeal: (id: number, categoryId: number, stageId: string, userId = 1): void =>
      moveDealToCategory(this.portal, id, categoryId, stageId, userId),
    setProductRows: (dealId: number, rows: Record<string, unknown>[], userId = 1): void =>
      setProductRows(this.portal, dealId, rows, userId),
  };

  /** An incoming webhook of a user with the given scopes; returns its URL. */
  createWebhook(o: { userId?: number; scope?: string[] } = {}): { url: string; userId: number; code: string } {
    const userId = o.userId ?? 1;
    const code = randomBytes(8).toString('hex');
    this.portal.webhooks.set(code, { id: this.portal.nextSeq(), userId, code, scope: o.scope ?? DEFAULT_SCOPE });
    return { url: `${this.baseUrl}/rest/${userId}/${code}/`, userId, code };
  }

  /** A fresh token pair for a user of an installed app (what the iframe receives). */
  userTokens(clientId: string, userId: number) {
    const app = this.portal.appByClientId(clientId);
    if (!app) throw new Error(`app ${clientId} is not installed`);
    return issueTokens(this, clientId, userId, app.scope);
  }

  /** Forced token expiry: every access token (of one app, or all) is expired now. */
  expireAccessTokens(clientId?: string): void {
    const now = this.clock.now();
    for (const t of this.portal.accessTokens.values()) if (!clientId || t.clientId === clientId) t.expiresAt = now - 1;
  }

  /** Revokes refresh tokens: the next refresh answers invalid_grant. */
  revokeRefreshTokens(clientId?: string): void {
    for (const t of this.portal.refreshTokens.values()) if (!clientId || t.clientId === clientId) t.used = true;
  }

  /** Forced operating-time exhaustion of one method for one client (app client_id or `hook:<id>`). */
  exhaustOperating(clientKey: string, method: string): void {
    this.operating?.exhaust(`${clientKey}|${method.toLowerCase()}`);
  }

  resetLimits(): void {
    this.bucket?.reset();
    this.operating?.reset();
  }
}

function remove<T>(list: T[], pred: (x: T) => boolean): void {
  for (let i = list.length - 1; i >= 0; i--) if (pred(list[i]!)) list.splice(i, 1);
}
