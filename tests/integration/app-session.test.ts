// POST /api/session against the emulated portal: a valid admin token, a non-admin (and one the
// clinic settings make admin), an expired Bitrix24 token, a token of another app, a wrong domain,
// bad bodies; the app session token itself (expired, forged, missing); the rate limit; and that no
// token or secret ever reaches the logs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveSettings, DEFAULT_SETTINGS } from '../../src/clinic/settings.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { sessionKey, signWithKey, verifySession } from '../../src/portal-app/session.js';
import { DIALECTS } from '../fixtures/stores.js';
import { HARNESS_APP_SECRET, installByEvent, openSession, startApp, startPortal, type AppHarness } from '../fixtures/app-harness.js';

const secrets: string[] = [HARNESS_APP_SECRET];

describe.each(DIALECTS)('session exchange on %s', (dialect) => {
  let h: AppHarness;
  let emu: RunningEmulator;
  let portalId: string;
  const post = (body: unknown) =>
    fetch(`${h.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const status = (token: string) => fetch(`${h.url}/api/v1/sync/status`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    [h, emu] = await Promise.all([startApp(dialect, { rateLimits: { session: { max: 25, timeWindow: 60_000 }, events: { max: 5, timeWindow: 60_000 } } }), startPortal(31)]);
    const inst = await installByEvent(h, emu);
    secrets.push(inst.accessToken, inst.refreshToken, inst.applicationToken, h.clientSecret);
    portalId = emu.emulator.portal.memberId;
    await h.app.services.settle();
    const stored = await h.app.services.portals.secrets(portalId);
    secrets.push(stored.tokens!.accessToken, stored.tokens!.refreshToken);
  });
  afterAll(async () => {
    await h?.close();
    await emu?.close();
  });

  it('a portal admin gets a signed session naming them, usable as a bearer token', async () => {
    const t = emu.emulator.userTokens(h.clientId, 1);
    secrets.push(t.accessToken, t.refreshToken);
    const res = await post({ accessToken: t.accessToken, memberId: portalId, domain: emu.emulator.portal.domain });
    const body = (await res.json()) as any;
    expect(res.status).toBe(200);
    secrets.push(body.token);
    const user = emu.emulator.portal.data.table('user').get(1)!;
    expect(body.user).toEqual({ id: 1, name: `${user.NAME} ${user.LAST_NAME}`, isAdmin: true });
    expect(body.portal).toMatchObject({ memberId: portalId, domain: emu.emulator.portal.domain, sync: { auth: 'ok', state: 'finished' } });
    // No scheduler here (serveApp starts it): the default schedule, with no next run to tell.
    expect(body.portal.sync.schedule).toEqual({ cron: '*/10 * * * *', nextAt: null });
    const claims = verifySession(HARNESS_APP_SECRET, body.token);
    expect(claims).toMatchObject({ portalId, userId: 1, isAdmin: true });
    expect(claims.exp - claims.iat).toBe(15 * 60);
    expect(Date.parse(body.expiresAt)).toBe(claims.exp * 1000);
    const s = await status(body.token);
    expect(s.status).toBe(200);
    const st = (await s.json()) as any;
    expect(st).toMatchObject({ auth: 'ok', running: null, lastError: null });
    const runs = await h.store.db.selectFrom('sync_run').select(['id', 'mode', 'status']).where('portal_id', '=', portalId).orderBy('id', 'desc').execute();
    expect(st.runs.map((r: any) => [r.id, r.mode, r.status])).toEqual(runs.map((r) => [Number(r.id), r.mode, r.status]));
  });

  it('a user who is not a portal admin is not an app admin, until the clinic settings name them', async () => {
    const users = [...emu.emulator.portal.data.tables.user.all()].filter((u) => u.IS_ADMIN !== true && u.ACTIVE !== false);
    const doctor = users[0]!;
    const first = await openSession(h, emu, Number(doctor.ID));
    expect(first.status).toBe(200);
    secrets.push(first.body.token);
    expect(first.body.user).toEqual({ id: Number(doctor.ID), name: `${doctor.NAME} ${doctor.LAST_NAME}`, isAdmin: false });
    const denied = await status(first.body.token);
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: 'admin_only' });

    await saveSettings(h.store.db, portalId, { ...DEFAULT_SETTINGS, access: { adminUserIds: [Number(doctor.ID)], othersSee: 'own' } }, 1);
    const second = await openSession(h, emu, Number(doctor.ID));
    expect(second.body.user.isAdmin).toBe(true);
    expect((await status(second.body.token)).status).toBe(200);
  });

  it('refuses an expired Bitrix24 token, another app\'s token, an unknown portal and a foreign domain', async () => {
    const t = emu.emulator.userTokens(h.clientId, 1);
    const domain = emu.emulator.portal.domain;
    emu.emulator.expireAccessTokens(h.clientId);
    const expired = await post({ accessToken: t.accessToken, memberId: portalId, domain });
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ error: 'bitrix_token_expired' });

    const other = await emu.emulator.installApp({});
    const foreign = await post({ accessToken: other.accessToken, memberId: portalId, domain });
    expect(foreign.status).toBe(401);
    expect(await foreign.json()).toMatchObject({ error: 'app_mismatch' });

    const garbage = await post({ accessToken: 'not-a-token-at-all', memberId: portalId, domain });
    expect(garbage.status).toBe(401);
    expect(await garbage.json()).toMatchObject({ error: 'bitrix_token_invalid' });

    const fresh = emu.emulator.userTokens(h.clientId, 1);
    const unknown = await post({ accessToken: fresh.accessToken, memberId: 'a'.repeat(32), domain });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'portal_not_installed' });
    const wrongDomain = await post({ accessToken: fresh.accessToken, memberId: portalId, domain: 'evil.example.com' });
    expect(wrongDomain.status).toBe(401);
    expect(await wrongDomain.json()).toMatchObject({ error: 'portal_mismatch' });
  });

  it('names what is wrong with a bad body', async () => {
    const extra = await post({ accessToken: 'x'.repeat(20), memberId: portalId, domain: 'a.b', role: 'admin' });
    expect(extra.status).toBe(400);
    expect(await extra.json()).toMatchObject({ error: 'invalid_request', message: 'body: unknown field "role"' });
    const missing = await post({ memberId: portalId, domain: 'a.b' });
    expect(await missing.json()).toMatchObject({ message: 'body: missing field "accessToken"' });
    const badMember = await post({ accessToken: 'x'.repeat(20), memberId: '../etc', domain: 'a.b' });
    expect((await badMember.json()).message).toMatch(/^body\.memberId: must match pattern/);
    const notJson = await fetch(`${h.url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(notJson.status).toBe(400);
    const huge = await post({ accessToken: 'x'.repeat(5000), memberId: portalId, domain: 'a.b' });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: 'body_too_large' });
  });

  it('refuses app session tokens that are missing, malformed, expired or signed for another portal', async () => {
    const none = await fetch(`${h.url}/api/v1/sync/status`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: 'session_missing' });
    expect(await (await status('v1.abc')).json()).toMatchObject({ error: 'session_malformed' });
    const now = Math.floor(Date.now() / 1000);
    const key = sessionKey(HARNESS_APP_SECRET, portalId);
    const expired = signWithKey(key, { portalId, userId: 1, isAdmin: true, iat: now - 1000, exp: now - 1 });
    const r1 = await status(expired);
    expect(r1.status).toBe(401);
    expect(await r1.json()).toMatchObject({ error: 'session_expired' });
    // Same claims, but the MAC made with another portal's key, or a flipped admin flag.
    const otherKey = signWithKey(sessionKey(HARNESS_APP_SECRET, 'b'.repeat(32)), { portalId, userId: 1, isAdmin: true, iat: now, exp: now + 600 });
    expect(await (await status(otherKey)).json()).toMatchObject({ error: 'session_invalid' });
    const honest = signWithKey(key, { portalId, userId: 7, isAdmin: false, iat: now, exp: now + 600 });
    const [v, body, mac] = honest.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString());
    const promoted = `${v}.${Buffer.from(JSON.stringify({ ...claims, isAdmin: true })).toString('base64url')}.${mac}`;
    expect(await (await status(promoted)).json()).toMatchObject({ error: 'session_invalid' });
  });

  it('rate-limits the session exchange per source and portal', async () => {
    let limited: Response | undefined;
    for (let i = 0; i < 30 && !limited; i++) {
      const r = await post({ accessToken: 'x'.repeat(20), memberId: portalId, domain: 'evil.example.com' });
      if (r.status === 429) limited = r;
    }
    expect(limited).toBeDefined();
    expect(await limited!.json()).toMatchObject({ error: 'rate_limited' });
    // Another portal's key from the same source is counted apart.
    const other = await post({ accessToken: 'x'.repeat(20), memberId: 'c'.repeat(32), domain: 'a.b' });
    expect(other.status).toBe(404);
  });

  it('rate-limits the event handler per source and portal', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await fetch(`${h.url}/b24/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ event: 'ONCRMDEALUPDATE', 'data[FIELDS][ID]': '1', 'auth[member_id]': portalId, 'auth[application_token]': 'forged' }).toString(),
      });
      statuses.push(r.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });

  it('sends security headers for a framed app: CSP frame-ancestors, no X-Frame-Options', async () => {
    const api = await fetch(`${h.url}/api/v1/sync/status`);
    expect(api.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(api.headers.get('x-frame-options')).toBeNull();
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    expect(api.headers.get('strict-transport-security')).toContain('max-age=');
    // The main page as Bitrix24 opens it (POST with member_id): framable by this portal's origin only.
    const page = await fetch(`${h.url}/?DOMAIN=${encodeURIComponent(emu.emulator.portal.domain)}&PROTOCOL=0&LANG=en&APP_SID=x`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ member_id: portalId, PLACEMENT: 'DEFAULT' }).toString(),
    });
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain(`frame-ancestors ${emu.url}`);
    expect(csp).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBeNull();
    // An unknown portal's DOMAIN gains nothing.
    const foreign = await fetch(`${h.url}/?DOMAIN=evil.example.com&PROTOCOL=1`);
    expect(foreign.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('never writes a token or a secret into the logs', async () => {
    await h.app.services.settle();
    expect(h.logs.length).toBeGreaterThan(20);
    const all = h.logs.join('\n');
    expect(all).toContain('app installed');
    for (const s of secrets) expect(all.includes(s), `a secret of length ${s.length} is in the logs`).toBe(false);
  });
});
