// The app lifecycle against the emulated portal over real HTTP, on both store dialects: install by
// the ONAPPINSTALL event and by the install page's iframe POST, idempotent re-install, forged
// installs, CRM events applied and forged events refused, uninstall with and without CLEAN.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManifest } from '../../src/portal-app/manifest.js';
import { portalTables } from '../../src/portal-app/store.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { DIALECTS } from '../fixtures/stores.js';
import { iframeInstallForm, installByEvent, openSession, postForm, startApp, startPortal, waitFor, type AppHarness } from '../fixtures/app-harness.js';

const manifest = loadManifest();

async function countRows(h: AppHarness, portalId: string): Promise<Record<string, number>> {
  const db = h.store.db as any;
  const out: Record<string, number> = {};
  for (const t of await portalTables(h.store.db)) {
    const r = await db.selectFrom(t).select((eb: any) => eb.fn.countAll().as('n')).where('portal_id', '=', portalId).executeTakeFirst();
    out[t] = Number(r.n);
  }
  return out;
}

describe.each(DIALECTS)('app lifecycle on %s', (dialect) => {
  let h: AppHarness;
  let a: RunningEmulator; // installed by the ONAPPINSTALL event
  let b: RunningEmulator; // installed by the iframe POST
  beforeAll(async () => {
    [h, a, b] = await Promise.all([startApp(dialect), startPortal(21), startPortal(22)]);
  });
  afterAll(async () => {
    await h?.close();
    await Promise.all([a?.close(), b?.close()]);
  });

  it('installs by the ONAPPINSTALL event: portal stored with sealed tokens, events and placements bound, first full sync', async () => {
    const inst = await installByEvent(h, a);
    expect(inst.installEventStatus).toBe(200);
    const portalId = a.emulator.portal.memberId;
    const portal = await h.app.services.portals.get(portalId);
    expect(portal).toMatchObject({ domain: a.emulator.portal.domain, clientEndpoint: `${a.url}/rest/`, status: 'active', authKind: 'oauth', userId: 1 });

    // Tokens are sealed at rest; the stored pair is a fresh one (the install's refresh token was spent proving it).
    const raw = await h.store.db.selectFrom('portal').selectAll().where('portal_id', '=', portalId).executeTakeFirstOrThrow();
    expect(raw.access_token).toMatch(/^v1\./);
    expect(raw.refresh_token).not.toContain(inst.refreshToken);
    const secrets = await h.app.services.portals.secrets(portalId);
    expect(secrets.applicationToken).toBe(inst.applicationToken);
    expect(secrets.tokens!.refreshToken).not.toBe(inst.refreshToken);
    expect(a.emulator.portal.refreshTokens.get(inst.refreshToken)!.used).toBe(true);
    const res = await fetch(`${a.url}/rest/profile?auth=${secrets.tokens!.accessToken}`);
    expect(res.status).toBe(200);

    const app = await h.store.db.withTables<{ portal_app: any }>().selectFrom('portal_app').selectAll().where('portal_id', '=', portalId).executeTakeFirstOrThrow();
    expect(app).toMatchObject({ app_code: h.clientId, installed_via: 'event' });
    expect(Number(app.installed_by)).toBe(1);

    const bound = a.emulator.portal.bindings.filter((x) => x.clientId === h.clientId);
    expect(bound.map((x) => x.event).sort()).toEqual([...manifest.events].sort());
    expect(new Set(bound.map((x) => x.handler))).toEqual(new Set([`${h.url}/b24/events`]));
    expect(a.emulator.portal.placements.filter((p) => p.clientId === h.clientId).map((p) => [p.placement, p.handler])).toEqual([
      ['CRM_ANALYTICS_MENU', `${h.url}/placement/crm-analytics`],
    ]);

    await h.app.services.settle();
    const runs = await h.store.db.selectFrom('sync_run').selectAll().where('portal_id', '=', portalId).execute();
    expect(runs.map((r) => [r.mode, r.status, r.error])).toEqual([['full', 'finished', null]]);
    const deals = await h.store.db.selectFrom('b24_deal').select((eb) => eb.fn.countAll().as('n')).where('portal_id', '=', portalId).executeTakeFirstOrThrow();
    expect(Number(deals.n)).toBe(a.emulator.portal.data.tables.deal.size);
  });

  it('re-installing changes nothing twice: no duplicate bindings, one portal row, fresh tokens', async () => {
    const portalId = a.emulator.portal.memberId;
    const before = (await h.app.services.portals.get(portalId))!.tokenVersion;
    const inst = await installByEvent(h, a);
    expect(inst.installEventStatus).toBe(200);
    await h.app.services.settle();
    expect(a.emulator.portal.bindings.filter((x) => x.clientId === h.clientId)).toHaveLength(manifest.events.length);
    expect(a.emulator.portal.placements.filter((p) => p.clientId === h.clientId)).toHaveLength(1);
    expect((await h.app.services.portals.list()).filter((p) => p.portalId === portalId)).toHaveLength(1);
    expect((await h.app.services.portals.get(portalId))!.tokenVersion).toBeGreaterThan(before);
  });

  it('installs by the iframe POST and answers the install page, framable by that portal only', async () => {
    const { action, fields } = await iframeInstallForm(h, b, 1);
    expect(action.startsWith(`${h.url}/b24/install?DOMAIN=`)).toBe(true);
    const res = await postForm(action, fields);
    const html = await res.text();
    expect(res.status, html).toBe(200);
    expect(html).toContain('data-page="install"');
    expect(res.headers.get('content-security-policy')).toContain(`frame-ancestors ${b.url}`);
    expect(res.headers.get('x-frame-options')).toBeNull();
    const portalId = b.emulator.portal.memberId;
    expect(await h.app.services.portals.get(portalId)).toMatchObject({ status: 'active', domain: b.emulator.portal.domain });
    const app = await h.store.db.withTables<{ portal_app: any }>().selectFrom('portal_app').selectAll().where('portal_id', '=', portalId).executeTakeFirstOrThrow();
    expect(app.installed_via).toBe('iframe');
    expect(b.emulator.portal.bindings.filter((x) => x.clientId === h.clientId)).toHaveLength(manifest.events.length);
    // installFinish is the page's job (the browser test); until then the portal delivers no events.
    expect(b.emulator.portal.appByClientId(h.clientId)!.installed).toBe(false);
    b.emulator.finishInstall(h.clientId);
    await h.app.services.settle();
  });

  it('refuses installs it cannot prove: a non-admin, another app\'s token, a member_id that is not the token\'s', async () => {
    const portalsBefore = await h.app.services.portals.list();
    // A non-admin opening the install page.
    const nonAdmin = await iframeInstallForm(h, b, 2);
    const r1 = await postForm(nonAdmin.action, nonAdmin.fields);
    expect(r1.status).toBe(403);
    expect(await r1.text()).toContain('only a portal administrator can install the app');

    // Tokens of another app on the same portal.
    const other = await b.emulator.installApp({ withUi: true });
    const f2 = { ...nonAdmin.fields, AUTH_ID: other.accessToken, REFRESH_ID: other.refreshToken, APPLICATION_TOKEN: other.applicationToken };
    const r2 = await postForm(nonAdmin.action, f2);
    expect(r2.status).toBe(401);
    expect(await r2.text()).toContain('issued to another application');

    // Portal B's genuine tokens sent with portal A's member_id (trying to overwrite A's endpoint).
    const tb = b.emulator.userTokens(h.clientId, 1);
    const f3 = { ...nonAdmin.fields, AUTH_ID: tb.accessToken, REFRESH_ID: tb.refreshToken, member_id: a.emulator.portal.memberId };
    const r3 = await postForm(nonAdmin.action, f3);
    expect(r3.status).toBe(401);
    expect(await r3.text()).toContain('another portal');

    // The same as a server-to-server event.
    const r4 = await postForm(`${h.url}/b24/install`, {
      event: 'ONAPPINSTALL',
      'auth[member_id]': a.emulator.portal.memberId,
      'auth[refresh_token]': b.emulator.userTokens(h.clientId, 1).refreshToken,
      'auth[application_token]': 'forged',
      'auth[server_endpoint]': `${b.url}/rest/`,
    });
    expect(r4.status).toBe(401);
    expect(await r4.json()).toMatchObject({ error: 'portal_mismatch' });
    // A body that is neither install form.
    const r5 = await postForm(`${h.url}/b24/install`, { event: 'ONAPPINSTALL' });
    expect(r5.status).toBe(400);
    expect(await r5.json()).toMatchObject({ error: 'invalid_request', message: expect.stringContaining('refresh_token') });

    expect(await h.app.services.portals.list()).toEqual(portalsBefore);
  });

  it('applies CRM events through the coalescing queue', async () => {
    const portalId = a.emulator.portal.memberId;
    const deal = [...a.emulator.portal.data.tables.deal.all()][0]!;
    a.emulator.crm.update('deal', Number(deal.ID), { TITLE: 'Renamed by the event test' });
    const victim = [...a.emulator.portal.data.tables.deal.all()][1]!;
    a.emulator.crm.delete('deal', Number(victim.ID));
    await a.emulator.events.settle();
    const deliveries = a.emulator.events.deliveries.filter((d) => d.handler === `${h.url}/b24/events`);
    expect(deliveries.slice(-2).map((d) => [d.event, d.status])).toEqual([
      ['ONCRMDEALUPDATE', 200],
      ['ONCRMDEALDELETE', 200],
    ]);
    await waitFor('the event run', async () => {
      const row = await h.store.db.selectFrom('b24_deal').select('title').where('portal_id', '=', portalId).where('id', '=', Number(deal.ID)).executeTakeFirst();
      return row?.title === 'Renamed by the event test';
    });
    await waitFor('the deletion', async () => {
      const row = await h.store.db.selectFrom('b24_deal').select('id').where('portal_id', '=', portalId).where('id', '=', Number(victim.ID)).executeTakeFirst();
      return row === undefined;
    });
  });

  it('refuses forged and unknown events and changes nothing', async () => {
    const portalId = a.emulator.portal.memberId;
    const deal = [...a.emulator.portal.data.tables.deal.all()][2]!;
    const before = await h.store.db.selectFrom('b24_deal').selectAll().where('portal_id', '=', portalId).where('id', '=', Number(deal.ID)).executeTakeFirstOrThrow();
    const runsBefore = await countRows(h, portalId);
    const forged = {
      event: 'ONCRMDEALDELETE',
      'data[FIELDS][ID]': String(deal.ID),
      'auth[member_id]': portalId,
      'auth[application_token]': 'not-the-stored-token',
      'auth[domain]': a.emulator.portal.domain,
    };
    const r1 = await postForm(`${h.url}/b24/events`, forged);
    expect(r1.status).toBe(401);
    expect(await r1.json()).toMatchObject({ error: 'event_not_verified' });
    const r2 = await postForm(`${h.url}/b24/events`, { ...forged, 'auth[member_id]': 'f'.repeat(32) });
    expect(r2.status).toBe(401);
    const r3 = await postForm(`${h.url}/b24/events`, { event: 'ONCRMDEALDELETE', 'data[FIELDS][ID]': '1' });
    expect(r3.status).toBe(400);
    expect((await r3.json()).message).toContain('missing field "auth"');
    // Uninstall is an event too: a forged one must not remove anything.
    const r4 = await postForm(`${h.url}/b24/events`, { ...forged, event: 'ONAPPUNINSTALL', 'data[CLEAN]': '1' });
    expect(r4.status).toBe(401);
    await new Promise((r) => setTimeout(r, 300)); // longer than the queue's coalescing window
    await h.app.services.settle();
    expect(await h.store.db.selectFrom('b24_deal').selectAll().where('portal_id', '=', portalId).where('id', '=', Number(deal.ID)).executeTakeFirst()).toEqual(before);
    expect(await countRows(h, portalId)).toEqual(runsBefore);
    expect(h.logs.filter((l) => l.includes('event refused')).length).toBeGreaterThanOrEqual(3);
  });

  it('uninstall without CLEAN keeps the data, drops the tokens, stops sessions and syncs', async () => {
    const portalId = a.emulator.portal.memberId;
    const session = await openSession(h, a, 1);
    expect(session.status).toBe(200);
    const rowsBefore = await countRows(h, portalId);
    await a.emulator.uninstallApp(h.clientId, { clean: false });
    await h.app.services.settle();
    const portal = await h.app.services.portals.get(portalId);
    expect(portal?.status).toBe('uninstalled');
    const raw = await h.store.db.selectFrom('portal').selectAll().where('portal_id', '=', portalId).executeTakeFirstOrThrow();
    expect([raw.access_token, raw.refresh_token]).toEqual([null, null]);
    expect((await countRows(h, portalId)).b24_deal).toBe(rowsBefore.b24_deal);
    const api = await fetch(`${h.url}/api/v1/sync/status`, { headers: { authorization: `Bearer ${session.body.token}` } });
    expect(api.status).toBe(401);
    const again = await fetch(`${h.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ accessToken: 'x'.repeat(20), memberId: portalId, domain: a.emulator.portal.domain }),
    });
    expect(again.status).toBe(403);
    expect(await again.json()).toMatchObject({ error: 'portal_uninstalled' });
  });

  it('uninstall with CLEAN deletes every row of that portal, tokens included, and nothing of another', async () => {
    const gone = b.emulator.portal.memberId;
    const kept = a.emulator.portal.memberId;
    const keptBefore = await countRows(h, kept);
    expect((await countRows(h, gone)).b24_deal).toBeGreaterThan(0);
    await b.emulator.uninstallApp(h.clientId, { clean: true });
    await h.app.services.settle();
    const after = await countRows(h, gone);
    expect(Object.keys(after)).toEqual(expect.arrayContaining(['portal', 'portal_app', 'b24_deal', 'sync_run', 'sync_checkpoint', 'clinic_settings']));
    expect(Object.values(after).every((n) => n === 0)).toBe(true);
    expect(await countRows(h, kept)).toEqual(keptBefore);
  });
});
