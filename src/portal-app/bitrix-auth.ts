// The two calls that decide whom to trust, made with credentials a browser or a POST handed us:
//  - proveInstall: spends an install's refresh token at the OAuth server with OUR client secret. Only
//    tokens issued to this app on that portal survive it, and the answer (member_id, client_endpoint)
//    comes from the OAuth server, not from the request — so a forged install cannot point a portal's
//    member_id at an endpoint the forger controls.
//  - callAsUser: one batch with a user's frame token against the portal endpoint we stored at install.
// Both are single plain requests rather than SDK clients: we need the exact error (expired vs
// invalid), no retries and no refresh of a user's token.
import type { OAuthApp } from '../bitrix/client.js';

/** The Bitrix24 OAuth server; cloud and on-premise portals alike have apps' tokens issued there. */
export const BITRIX_OAUTH_ORIGIN = 'https://oauth.bitrix.info';

export class CredentialError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 401,
  ) {
    super(message);
    this.name = 'CredentialError';
  }
}

export interface ProvenInstall {
  memberId: string;
  accessToken: string;
  refreshToken: string;
  /** Unix seconds. */
  expiresAt: number;
  clientEndpoint: string;
  serverEndpoint: string;
  domain: string;
  scope: string[];
}

const TIMEOUT_MS = 15_000;

/** Which OAuth server may vouch for an install: Bitrix24's, or — only with ALLOW_INSECURE_PORTALS
 *  (development, the emulator) — the one the install names. */
export function trustedOAuthOrigin(serverEndpoint: string | undefined, allowInsecure: boolean): string {
  if (!serverEndpoint) return BITRIX_OAUTH_ORIGIN;
  let origin: string;
  try {
    origin = new URL(serverEndpoint).origin;
  } catch {
    throw new CredentialError('invalid_server_endpoint', 'the install names a server endpoint that is not a URL', 400);
  }
  if (origin === BITRIX_OAUTH_ORIGIN || allowInsecure) return origin;
  throw new CredentialError('untrusted_oauth_server', `tokens must come from ${BITRIX_OAUTH_ORIGIN}, not ${origin}`, 400);
}

export function assertEndpoint(endpoint: string, allowInsecure: boolean): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new CredentialError('invalid_portal_endpoint', 'the portal endpoint is not a URL', 400);
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && allowInsecure)) return;
  throw new CredentialError('insecure_portal', `the portal endpoint must be https:// (got ${url.protocol}); ALLOW_INSECURE_PORTALS=1 allows http:// in development`, 400);
}

async function readJson(res: Response): Promise<Record<string, unknown>> {
  try {
    const v = (await res.json()) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export async function proveInstall(opts: {
  oauthOrigin: string;
  app: OAuthApp;
  refreshToken: string;
  claimedMemberId: string;
  allowInsecure: boolean;
}): Promise<ProvenInstall> {
  let res: Response;
  try {
    res = await fetch(`${opts.oauthOrigin}/oauth/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: opts.app.clientId,
        client_secret: opts.app.clientSecret,
        refresh_token: opts.refreshToken,
      }).toString(),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    throw new CredentialError('oauth_unreachable', `the OAuth server ${opts.oauthOrigin} did not answer`, 502);
  }
  const body = await readJson(res);
  if (!res.ok || typeof body.access_token !== 'string') {
    const code = String(body.error ?? `HTTP ${res.status}`);
    if (code === 'invalid_client') {
      throw new CredentialError('app_credentials_rejected', 'the OAuth server rejected B24_CLIENT_ID / B24_CLIENT_SECRET: check the app\'s credentials', 500);
    }
    throw new CredentialError('install_token_rejected', `the OAuth server did not accept the install's refresh token (${code}): it is expired, used, or was issued to another application`);
  }
  const memberId = String(body.member_id ?? '');
  if (!memberId || memberId !== opts.claimedMemberId) {
    throw new CredentialError('portal_mismatch', 'the tokens belong to another portal than the member_id sent with them');
  }
  const clientEndpoint = String(body.client_endpoint ?? '');
  assertEndpoint(clientEndpoint, opts.allowInsecure);
  return {
    memberId,
    accessToken: body.access_token,
    refreshToken: String(body.refresh_token ?? ''),
    expiresAt: Number(body.expires ?? Math.floor(Date.now() / 1000) + Number(body.expires_in ?? 3600)),
    clientEndpoint,
    serverEndpoint: typeof body.server_endpoint === 'string' ? body.server_endpoint : `${opts.oauthOrigin}/rest/`,
    domain: new URL(clientEndpoint).host,
    scope: String(body.scope ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  };
}

/** Runs `batch` with a user's access token; returns each command's result, or throws CredentialError. */
export async function callAsUser(clientEndpoint: string, accessToken: string, cmd: Record<string, string>): Promise<Record<string, unknown>> {
  const url = `${clientEndpoint.replace(/\/?$/, '/')}batch`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: accessToken, halt: 1, cmd }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    throw new CredentialError('portal_unreachable', 'the Bitrix24 portal did not answer', 502);
  }
  const body = await readJson(res);
  if (!res.ok) {
    const code = String(body.error ?? '');
    if (code === 'expired_token') throw new CredentialError('bitrix_token_expired', 'the Bitrix24 access token has expired: refresh it in the frame and try again');
    if (res.status === 401 || res.status === 403 || /token|auth|ACCESS_DENIED/i.test(code)) {
      throw new CredentialError('bitrix_token_invalid', `Bitrix24 did not accept the access token (${code || res.status})`);
    }
    throw new CredentialError('portal_error', `the Bitrix24 portal answered ${res.status} ${code}`.trim(), 502);
  }
  const maps = (body.result ?? {}) as { result?: Record<string, unknown>; result_error?: Record<string, { error?: string; error_description?: string }> | unknown[] };
  const errors = maps.result_error && !Array.isArray(maps.result_error) ? maps.result_error : {};
  for (const [name, e] of Object.entries(errors)) {
    throw new CredentialError('bitrix_token_invalid', `Bitrix24 refused ${cmd[name] ?? name} with this token (${e?.error ?? 'error'})`);
  }
  const out = (maps.result ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(cmd)) {
    if (!(name in out)) throw new CredentialError('portal_error', `the portal's batch answer lacks "${name}"`, 502);
  }
  return out;
}

export interface AppInfo {
  ID: number;
  CODE: string;
  INSTALLED?: boolean;
}

export interface Profile {
  ID: number;
  ADMIN: boolean;
  NAME: string;
  LAST_NAME: string;
}

export function asProfile(v: unknown): Profile {
  const p = (v ?? {}) as Record<string, unknown>;
  const id = Number(p.ID);
  if (!Number.isInteger(id) || id <= 0) throw new CredentialError('portal_error', 'profile returned no user id', 502);
  return { ID: id, ADMIN: p.ADMIN === true || p.ADMIN === 'Y' || p.ADMIN === 'true', NAME: String(p.NAME ?? ''), LAST_NAME: String(p.LAST_NAME ?? '') };
}

export function asAppInfo(v: unknown): AppInfo {
  const a = (v ?? {}) as Record<string, unknown>;
  if (typeof a.CODE !== 'string' || a.ID === undefined) {
    throw new CredentialError('app_mismatch', 'the token is not an application token (app.info has no ID/CODE)');
  }
  return { ID: Number(a.ID), CODE: a.CODE, INSTALLED: a.INSTALLED === true };
}
