// Installing the app into a portal, by either of Bitrix24's two ways (reference §5.2): the install
// page's iframe POST (AUTH_ID, REFRESH_ID, member_id, APPLICATION_TOKEN…) or the server-to-server
// ONAPPINSTALL event (auth[...]). Both end in the same idempotent steps: prove the tokens, store the
// portal, bind the manifest's events and placements, run the extra install steps (the BI Builder
// connector), start the first full sync.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { OAuthApp, PortalClients } from '../bitrix/client.js';
import type { PortalRepo } from '../db/portals.js';
import type { Database } from '../db/schema.js';
import { PortalRest, RestError, type Cmd } from '../sync/rest.js';
import {
  asAppInfo,
  asProfile,
  callAsUser,
  CredentialError,
  proveInstall,
  trustedOAuthOrigin,
  type ProvenInstall,
} from './bitrix-auth.js';
import type { Manifest } from './manifest.js';
import { saveInstall } from './store.js';
import type { SyncControl } from './sync-control.js';

export interface InstallClaim {
  via: 'iframe' | 'event';
  memberId: string;
  refreshToken: string;
  applicationToken: string;
  serverEndpoint?: string;
  language?: string;
}

export interface InstalledPortal {
  portalId: string;
  domain: string;
  /** The portal's web origin, the only one allowed to frame our pages. */
  origin: string;
  userId: number;
  appCode: string;
  /** Run id of the first full sync, or null when one was already running. */
  firstRunId: number | null;
}

/** An extra step run on every (re)install with the portal's own client, e.g. registering the BI
 *  Builder connector. It must be idempotent. A failing step is logged; the install still stands. */
export interface InstallStep {
  name: string;
  run(ctx: { portalId: string; rest: PortalRest; publicUrl: string; manifest: Manifest }): Promise<void>;
}

export interface InstallerDeps {
  db: Kysely<Database>;
  portals: PortalRepo;
  clients: PortalClients;
  sync: SyncControl;
  manifest: Manifest;
  publicUrl: string;
  oauthApp: OAuthApp;
  allowInsecure: boolean;
  log: Logger;
  steps: InstallStep[];
}

export class Installer {
  constructor(private readonly deps: InstallerDeps) {}

  async install(claim: InstallClaim): Promise<InstalledPortal> {
    const { deps } = this;
    if (!claim.applicationToken) throw new CredentialError('application_token_missing', 'the install carries no application token', 400);
    const proven = await proveInstall({
      oauthOrigin: trustedOAuthOrigin(claim.serverEndpoint, deps.allowInsecure),
      app: deps.oauthApp,
      refreshToken: claim.refreshToken,
      claimedMemberId: claim.memberId,
      allowInsecure: deps.allowInsecure,
    });
    const answers = await callAsUser(proven.clientEndpoint, proven.accessToken, { me: 'profile', app: 'app.info' });
    const me = asProfile(answers.me);
    const app = asAppInfo(answers.app);
    if (!me.ADMIN) throw new CredentialError('admin_required', 'only a portal administrator can install the app', 403);

    await this.store(claim, proven, me.ID, app.ID, app.CODE);
    const rest = new PortalRest(await deps.clients.get(proven.memberId));
    await this.bindEvents(rest);
    await this.bindPlacements(rest);
    for (const step of deps.steps) {
      try {
        await step.run({ portalId: proven.memberId, rest, publicUrl: deps.publicUrl, manifest: deps.manifest });
      } catch (e) {
        deps.log.warn({ portalId: proven.memberId, step: step.name, err: e instanceof Error ? e.message : String(e) }, 'install step failed');
      }
    }
    const first = await deps.sync.start(proven.memberId, 'full');
    deps.log.info({ portalId: proven.memberId, via: claim.via, userId: me.ID, firstRunId: 'runId' in first ? first.runId : null }, 'app installed');
    return {
      portalId: proven.memberId,
      domain: proven.domain,
      origin: new URL(proven.clientEndpoint).origin,
      userId: me.ID,
      appCode: app.CODE,
      firstRunId: 'runId' in first ? first.runId : null,
    };
  }

  private async store(claim: InstallClaim, p: ProvenInstall, userId: number, appId: number, appCode: string): Promise<void> {
    const { deps } = this;
    await deps.portals.registerOAuth({
      portalId: p.memberId,
      domain: p.domain,
      clientEndpoint: p.clientEndpoint,
      serverEndpoint: p.serverEndpoint,
      scope: p.scope,
      userId,
      tokens: { accessToken: p.accessToken, refreshToken: p.refreshToken, expiresAt: p.expiresAt },
      applicationToken: claim.applicationToken,
    });
    await saveInstall(deps.db, {
      portal_id: p.memberId,
      app_id: appId,
      app_code: appCode,
      installed_by: userId,
      installed_via: claim.via,
      language: claim.language ?? null,
    });
    // A cached client holds the previous token pair.
    deps.clients.forget(p.memberId);
  }

  private url(path: string): string {
    return `${this.deps.publicUrl}${path}`;
  }

  /** Binds the manifest's events to our handler; drops our bindings that point elsewhere (an old
   *  PUBLIC_URL). Re-running it changes nothing. */
  private async bindEvents(rest: PortalRest): Promise<void> {
    const handler = this.url(this.deps.manifest.paths.events);
    const wanted = new Set(this.deps.manifest.events);
    const bound = ((await rest.call('event.get')).result as { event: string; handler?: string; offline?: number }[]) ?? [];
    const cmds: Cmd[] = [];
    for (const b of bound) {
      if (b.offline || !b.handler || !wanted.has(b.event.toUpperCase()) || b.handler === handler) continue;
      if (!b.handler.endsWith(this.deps.manifest.paths.events)) continue; // not ours
      cmds.push({ method: 'event.unbind', params: { event: b.event, handler: b.handler } });
    }
    const have = new Set(bound.filter((b) => !b.offline && b.handler === handler).map((b) => b.event.toUpperCase()));
    for (const event of wanted) if (!have.has(event)) cmds.push({ method: 'event.bind', params: { event, handler } });
    await this.runTolerant(rest, cmds);
  }

  private async bindPlacements(rest: PortalRest): Promise<void> {
    const m = this.deps.manifest;
    const bound = ((await rest.call('placement.get')).result as { placement: string; handler: string }[]) ?? [];
    const cmds: Cmd[] = [];
    for (const p of m.placements) {
      const handler = this.url(p.path);
      for (const b of bound) {
        if (b.placement === p.code && b.handler !== handler && b.handler.endsWith(p.path)) {
          cmds.push({ method: 'placement.unbind', params: { PLACEMENT: p.code, HANDLER: b.handler } });
        }
      }
      if (bound.some((b) => b.placement === p.code && b.handler === handler)) continue;
      cmds.push({
        method: 'placement.bind',
        params: {
          PLACEMENT: p.code,
          HANDLER: handler,
          TITLE: p.title.ru,
          DESCRIPTION: p.description.ru,
          LANG_ALL: {
            ru: { TITLE: p.title.ru, DESCRIPTION: p.description.ru },
            en: { TITLE: p.title.en, DESCRIPTION: p.description.en },
          },
        },
      });
    }
    await this.runTolerant(rest, cmds);
  }

  /** Runs commands in batches of 50; a binding that already exists (a concurrent install) is fine. */
  private async runTolerant(rest: PortalRest, cmds: Cmd[]): Promise<void> {
    for (let i = 0; i < cmds.length; i += 50) {
      const part = cmds.slice(i, i + 50);
      try {
        await rest.batch(Object.fromEntries(part.map((c, j) => [`c${j}`, c])));
      } catch (e) {
        if (!(e instanceof RestError) || e.code !== 'ERROR_HANDLER_ALREADY_EXIST') throw e;
        // One duplicate stops the batch's error check, not the portal's work: redo one by one.
        for (const c of part) {
          try {
            await rest.call(c.method, c.params);
          } catch (err) {
            const e2 = err as { code?: unknown; message?: unknown };
            if (!/ALREADY_EXIST/.test(`${String(e2.code ?? '')} ${String(e2.message ?? '')}`)) throw err;
          }
        }
      }
    }
  }
}
