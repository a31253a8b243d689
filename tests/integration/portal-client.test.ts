// The portal client over the emulator: tokens persisted encrypted, refresh serialised through the
// store so two "processes" never spend one refresh token, invalid_grant → needs re-authorisation,
// http:// refused unless allowed, webhook portals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsReauth, PortalClients, InsecurePortalError } from '../../src/bitrix/client.js';
import { PortalRepo } from '../../src/db/portals.js';
import { SecretBox } from '../../src/db/secrets.js';
import type { InstallResult } from '../../src/emulator/emulator.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { fillMiniPortal } from '../fixtures/mini-portal.js';
import { createTestStore, DIALECTS, type TestStore } from '../fixtures/stores.js';
import { FAST, registerPortal as registerIn } from '../fixtures/sync-setup.js';

describe.each(DIALECTS)('portal client on %s', (dialect) => {
  let emu: RunningEmulator;
  let store: TestStore;
  let repo: PortalRepo;
  const box = new SecretBox('s'.repeat(32));

  beforeAll(async () => {
    emu = await startEmulator({ limits: 'off', populate: (e) => fillMiniPortal(e.portal) });
    store = await createTestStore(dialect);
    repo = new PortalRepo(store.db, box);
  });
  afterAll(async () => {
    await emu.close();
    await store.dispose();
  });

  const register = (inst: InstallResult) => registerIn(repo, inst);
  const clients = (inst: InstallResult, allowInsecure = true) =>
    new PortalClients({ db: store.db, portals: repo, oauthApp: { clientId: inst.clientId, clientSecret: inst.clientSecret }, allowInsecure, restrictions: FAST });

  it('stores tokens sealed and calls the portal', async () => {
    const inst = await emu.emulator.installApp({ clientId: 'local.pc' });
    await register(inst);
    const raw = await store.db.selectFrom('portal').selectAll().executeTakeFirstOrThrow();
    expect(raw.access_token).not.toContain(inst.accessToken);
    expect(raw.refresh_token).not.toContain(inst.refreshToken);
    const b24 = await clients(inst).get(inst.memberId);
    const res = await b24.actions.v2.call.make<{ ID: string }>({ method: 'crm.deal.get', params: { id: 5 } });
    expect(res.getData()!.result.ID).toBe('5');
  });

  it('refreshes once for two processes and persists the new pair', async () => {
    const inst = await emu.emulator.installApp({ clientId: 'local.pc' });
    await register(inst);
    const before = (await repo.secrets(inst.memberId)).tokenVersion;
    const [a, b] = [clients(inst), clients(inst)];
    const [ca, cb] = await Promise.all([a.get(inst.memberId), b.get(inst.memberId)]);
    emu.emulator.expireAccessTokens('local.pc');
    const refreshes = emu.emulator.stats.refreshes;
    const [ra, rb] = await Promise.all([
      ca.actions.v2.call.make<string>({ method: 'server.time' }),
      cb.actions.v2.call.make<string>({ method: 'server.time' }),
    ]);
    expect(ra.isSuccess && rb.isSuccess).toBe(true);
    expect(emu.emulator.stats.refreshes).toBe(refreshes + 1);
    const after = await repo.secrets(inst.memberId);
    expect(after.tokenVersion).toBe(before + 1);
    expect(after.tokens!.refreshToken).not.toBe(inst.refreshToken);
    expect(emu.emulator.portal.refreshTokens.get(after.tokens!.refreshToken)?.used).toBe(false);
  });

  it('marks the portal as needing re-authorisation on invalid_grant', async () => {
    const inst = await emu.emulator.installApp({ clientId: 'local.pc' });
    await register(inst);
    const b24 = await clients(inst).get(inst.memberId);
    emu.emulator.expireAccessTokens('local.pc');
    emu.emulator.revokeRefreshTokens('local.pc');
    const err = await b24.actions.v2.call.make({ method: 'server.time' }).then(() => null, (e: unknown) => e);
    expect(needsReauth(err)).toBe(true);
  });

  it('refuses http:// endpoints unless allowed, and serves webhook portals', async () => {
    const inst = await emu.emulator.installApp({ clientId: 'local.pc' });
    await register(inst);
    await expect(clients(inst, false).get(inst.memberId)).rejects.toBeInstanceOf(InsecurePortalError);
    const hook = emu.emulator.createWebhook({ userId: 1, scope: ['crm', 'user_brief'] });
    await repo.registerWebhook({ portalId: 'selfhosted', webhookUrl: hook.url, scope: ['crm'] });
    const b24 = await new PortalClients({ db: store.db, portals: repo, allowInsecure: true, restrictions: FAST }).get('selfhosted');
    const res = await b24.actions.v2.call.make<{ ID: string }[]>({ method: 'crm.deal.list', params: { filter: { ID: 9 }, select: ['ID'] } });
    expect(res.getData()!.result).toEqual([{ ID: '9' }]);
    await expect(new PortalClients({ db: store.db, portals: repo, allowInsecure: false }).get('selfhosted')).rejects.toBeInstanceOf(InsecurePortalError);
  });
});
