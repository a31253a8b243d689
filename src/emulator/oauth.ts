// The OAuth server (oauth.bitrix.info in the cloud): refresh with rotation. A refresh token works
// once — a used, revoked or expired one answers `invalid_grant` — and every refresh returns a new pair.
// Whether the real server invalidates the old refresh token immediately is UNCONFIRMED; we do, which
// is the strictest reading and what a correct client must survive.
import { randomBytes } from 'node:crypto';
import type { Emulator } from './emulator.js';
import type { HttpAnswer } from './rest.js';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** Unix seconds. */
  expires: number;
  expiresIn: number;
}

export function newToken(): string {
  return randomBytes(24).toString('hex');
}

export function issueTokens(emu: Emulator, clientId: string, userId: number, scope: string[]): TokenPair {
  const now = emu.clock.now();
  const accessTtl = emu.options.accessTokenTtlSec;
  const access = newToken();
  const refresh = newToken();
  emu.portal.accessTokens.set(access, { token: access, clientId, userId, scope, expiresAt: now + accessTtl * 1000 });
  emu.portal.refreshTokens.set(refresh, {
    token: refresh,
    clientId,
    userId,
    scope,
    used: false,
    expiresAt: now + emu.options.refreshTokenTtlSec * 1000,
  });
  return { accessToken: access, refreshToken: refresh, expires: Math.floor((now + accessTtl * 1000) / 1000), expiresIn: accessTtl };
}

function oauthError(status: number, error: string, description: string): HttpAnswer {
  return { status, json: { error, error_description: description } };
}

/** `GET|POST /oauth/token/` with grant_type=refresh_token. */
export function handleTokenRequest(emu: Emulator, params: Record<string, unknown>): HttpAnswer {
  const grant = String(params.grant_type ?? '');
  const clientId = String(params.client_id ?? '');
  const app = emu.portal.appByClientId(clientId);
  if (!app || String(params.client_secret ?? '') !== app.clientSecret) {
    return oauthError(401, 'invalid_client', 'invalid client credentials');
  }
  if (grant !== 'refresh_token') {
    return oauthError(400, 'invalid_request', `grant_type "${grant}" is not supported by the emulator`);
  }
  const rt = emu.portal.refreshTokens.get(String(params.refresh_token ?? ''));
  if (!rt || rt.used || rt.clientId !== clientId || rt.expiresAt <= emu.clock.now()) {
    return oauthError(400, 'invalid_grant', 'Invalid grant');
  }
  rt.used = true;
  emu.stats.refreshes++;
  const pair = issueTokens(emu, clientId, rt.userId, rt.scope);
  const base = emu.baseUrl;
  return {
    status: 200,
    json: {
      access_token: pair.accessToken,
      refresh_token: pair.refreshToken,
      expires: pair.expires,
      expires_in: pair.expiresIn,
      scope: rt.scope.join(','),
      // Docs name the OAuth server's host here, older responses the portal's (UNCONFIRMED which one
      // current servers send): we send the OAuth server's; clients derive the portal from client_endpoint.
      domain: new URL(base).host,
      client_endpoint: `${base}/rest/`,
      server_endpoint: `${base}/rest/`,
      member_id: emu.portal.memberId,
      status: app.status,
      user_id: rt.userId,
    },
  };
}
