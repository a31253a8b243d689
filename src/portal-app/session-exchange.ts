// POST /api/session: the frame's Bitrix24 access token in, an app session token out. The portal is
// found by member_id — never by a domain the browser sends — and the token is checked by calling the
// endpoint stored at install (profile + app.info in one batch): it must be a live token of a user of
// that portal, minted for this app.
import type { Kysely } from 'kysely';
import type { PortalRepo } from '../db/portals.js';
import type { Database } from '../db/schema.js';
import { asAppInfo, asProfile, assertEndpoint, callAsUser, CredentialError } from './bitrix-auth.js';
import { isAppAdmin } from './roles.js';
import { signSession, SESSION_TTL_SEC } from './session.js';
import { getInstall } from './store.js';
import type { SyncControl } from './sync-control.js';

export interface SessionRequest {
  accessToken: string;
  memberId: string;
  domain: string;
}

export interface SessionAnswer {
  token: string;
  expiresAt: string;
  user: { id: number; name: string; isAdmin: boolean };
  portal: {
    memberId: string;
    domain: string;
    /** Enough for any user's page to say how fresh the data is and when it is next refreshed. */
    sync: { auth: 'ok' | 'needs_reauth'; state: 'never' | 'running' | 'finished' | 'failed'; lastSyncedAt: string | null; schedule: SyncSchedule };
  };
}

/** The portal's incremental sync schedule in force: its cron expression and the next run, when the
 *  scheduler has planned it. */
export interface SyncSchedule {
  cron: string;
  nextAt: string | null;
}

export interface SessionExchangeDeps {
  db: Kysely<Database>;
  portals: PortalRepo;
  sync: SyncControl;
  appSecret: string;
  clientId: string;
  allowInsecure: boolean;
  ttlSec?: number;
  schedule: (portalId: string) => SyncSchedule;
}

export async function exchangeSession(deps: SessionExchangeDeps, req: SessionRequest): Promise<SessionAnswer> {
  const portal = await deps.portals.get(req.memberId);
  if (!portal || portal.authKind !== 'oauth') {
    throw new CredentialError('portal_not_installed', 'this portal has not installed the app (or removed it): an administrator installs it first', 404);
  }
  if (portal.status === 'uninstalled') throw new CredentialError('portal_uninstalled', 'the app was uninstalled from this portal', 403);
  const domain = req.domain.toLowerCase();
  if (domain !== portal.domain.toLowerCase() && domain !== new URL(portal.clientEndpoint).host.toLowerCase()) {
    throw new CredentialError('portal_mismatch', 'the domain does not belong to the portal with this member_id');
  }
  assertEndpoint(portal.clientEndpoint, deps.allowInsecure);
  const answers = await callAsUser(portal.clientEndpoint, req.accessToken, { me: 'profile', app: 'app.info' });
  const app = asAppInfo(answers.app);
  const me = asProfile(answers.me);
  const installed = await getInstall(deps.db, portal.portalId);
  const ours = installed ? Number(installed.app_id) === app.ID && installed.app_code === app.CODE : app.CODE === deps.clientId;
  if (!ours) throw new CredentialError('app_mismatch', 'the access token was issued to another application');

  const isAdmin = await isAppAdmin(deps.db, portal.portalId, me.ID, me.ADMIN);
  const { token, claims } = signSession(deps.appSecret, { portalId: portal.portalId, userId: me.ID, isAdmin }, deps.ttlSec ?? SESSION_TTL_SEC);
  const status = await deps.sync.status(portal);
  const lastFinished = status.runs.find((r) => r.status === 'finished' && r.mode !== 'events');
  const latest = status.runs[0];
  return {
    token,
    expiresAt: new Date(claims.exp * 1000).toISOString(),
    user: { id: me.ID, name: [me.NAME, me.LAST_NAME].filter(Boolean).join(' ') || `#${me.ID}`, isAdmin },
    portal: {
      memberId: portal.portalId,
      domain: portal.domain,
      sync: {
        auth: status.auth,
        state: status.running ? 'running' : latest ? (latest.status === 'failed' ? 'failed' : 'finished') : 'never',
        lastSyncedAt: lastFinished?.finishedAt ?? null,
        schedule: deps.schedule(portal.portalId),
      },
    },
  };
}
