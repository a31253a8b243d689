// Short-lived app session tokens. The dashboard lives in a third-party iframe where cookies are
// unreliable, so it carries `Authorization: Bearer <token>`. A token is `v1.<claims>.<mac>`
// (base64url), the MAC an HMAC-SHA256 under a key derived from APP_SECRET *and the portal's
// member_id*: a token minted for portal A that names portal B's member_id does not verify.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export interface SessionClaims {
  /** The portal's member_id. */
  portalId: string;
  userId: number;
  isAdmin: boolean;
  /** Unix seconds. */
  iat: number;
  exp: number;
}

export type SessionErrorCode = 'session_missing' | 'session_malformed' | 'session_invalid' | 'session_expired';

export class SessionError extends Error {
  constructor(
    readonly code: SessionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}

export const SESSION_TTL_SEC = 15 * 60;
const MAX_TOKEN_LENGTH = 1024;

export function sessionKey(appSecret: string, portalId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', appSecret, 'clinic-analytics', `session-token-v1:${portalId}`, 32));
}

function mac(key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update(`v1.${body}`).digest();
}

/** Signs claims with an explicit key (tests use it to forge tokens signed for another portal). */
export function signWithKey(key: Buffer, claims: SessionClaims): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `v1.${body}.${mac(key, body).toString('base64url')}`;
}

export function signSession(appSecret: string, claims: Omit<SessionClaims, 'iat' | 'exp'>, ttlSec = SESSION_TTL_SEC, now = Date.now()): { token: string; claims: SessionClaims } {
  const iat = Math.floor(now / 1000);
  const full: SessionClaims = { portalId: claims.portalId, userId: claims.userId, isAdmin: claims.isAdmin, iat, exp: iat + ttlSec };
  return { token: signWithKey(sessionKey(appSecret, full.portalId), full), claims: full };
}

function isClaims(v: unknown): v is SessionClaims {
  const c = v as Record<string, unknown>;
  return (
    !!c &&
    typeof c.portalId === 'string' &&
    /^[A-Za-z0-9_.-]{1,64}$/.test(c.portalId) &&
    Number.isInteger(c.userId) &&
    typeof c.isAdmin === 'boolean' &&
    Number.isInteger(c.iat) &&
    Number.isInteger(c.exp)
  );
}

/** Verifies a token; the claims are trusted only after the MAC under that portal's key matched. */
export function verifySession(appSecret: string, token: string, now = Date.now()): SessionClaims {
  if (token.length > MAX_TOKEN_LENGTH) throw new SessionError('session_malformed', 'the session token is too long');
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'v1' || !parts[1] || !parts[2]) {
    throw new SessionError('session_malformed', 'the session token is not a token this app issued');
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw new SessionError('session_malformed', 'the session token is not a token this app issued');
  }
  if (!isClaims(claims)) throw new SessionError('session_malformed', 'the session token is not a token this app issued');
  const expected = mac(sessionKey(appSecret, claims.portalId), parts[1]);
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new SessionError('session_invalid', 'the session token\'s signature does not match: open the app from Bitrix24 again');
  }
  if (claims.exp <= Math.floor(now / 1000)) {
    throw new SessionError('session_expired', 'the session has expired: the dashboard re-authenticates through Bitrix24');
  }
  return claims;
}
