// The official SDK (@bitrix24/b24jssdk B24OAuth) pointed at the emulator: if the SDK works here the
// way it works against a cloud portal, code built on it will too.
import { B24OAuth, ParamsFactory, RefreshTokenError, type B24OAuthParams, type RestrictionParams } from '@bitrix24/b24jssdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstallResult } from '../../src/emulator/emulator.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { DEALS, fillMiniPortal } from '../fixtures/mini-portal.js';

// Complete sub-objects: the SDK merges restriction params shallowly (b24jssdk-notes §4).
const FAST: RestrictionParams = {
  ...ParamsFactory.getDefault(),
  rateLimit: { burstLimit: 10_000, drainRate: 1_000, adaptiveEnabled: false },
  retryDelay: 10,
};

function client(inst: InstallResult, restrictionParams: RestrictionParams = FAST): B24OAuth {
  const params: B24OAuthParams = {
    applicationToken: inst.applicationToken,
    userId: inst.userId,
    memberId: inst.memberId,
    accessToken: inst.accessToken,
    refreshToken: inst.refreshToken,
    expires: inst.expires,
    expiresIn: inst.expiresIn,
    scope: inst.scope.join(','),
    domain: inst.domain,
    clientEndpoint: inst.clientEndpoint,
    serverEndpoint: inst.serverEndpoint,
    status: 'L',
  };
  const b24 = new B24OAuth(params, { clientId: inst.clientId, clientSecret: inst.clientSecret }, { restrictionParams });
  b24.offClientSideWarning();
  return b24;
}

let emu: RunningEmulator;

beforeAll(async () => {
  emu = await startEmulator({ populate: (e) => fillMiniPortal(e.portal) });
});
afterAll(() => emu.close());

describe('official SDK against the emulator', () => {
  it('lists every deal with fetchList (keyset paging, start=-1)', async () => {
    const b24 = client(await emu.emulator.installApp({}));
    const ids: number[] = [];
    for await (const page of b24.actions.v2.fetchList.make<{ ID: string; OPPORTUNITY: string }>({
      method: 'crm.deal.list',
      params: { select: ['ID', 'OPPORTUNITY'] },
      idKey: 'ID',
    })) {
      ids.push(...page.map((d) => Number(d.ID)));
    }
    expect(ids).toEqual(Array.from({ length: DEALS }, (_, i) => i + 1));
  });

  it('runs a batch with $result references', async () => {
    const b24 = client(await emu.emulator.installApp({}));
    const res = await b24.actions.v2.batch.make({
      calls: {
        won: { method: 'crm.deal.list', params: { filter: { STAGE_SEMANTIC_ID: 'S' }, order: { ID: 'ASC' }, select: ['ID', 'CONTACT_ID'] } },
        contact: { method: 'crm.contact.get', params: { id: '$result[won][0][CONTACT_ID]' } },
      },
      options: { isHaltOnError: true },
    });
    expect(res.isSuccess).toBe(true);
    const data = res.getData() as { won: { ID: string }[]; contact: { ID: string; NAME: string } };
    expect(data.won[0]!.ID).toBe('3');
    expect(data.contact).toMatchObject({ ID: '3', NAME: 'Пациент3' });
  });

  it('refreshes an expired token once, persists the new pair, and retries the call', async () => {
    const inst = await emu.emulator.installApp({});
    const b24 = client(inst);
    const saved: { accessToken: string; refreshToken: string }[] = [];
    b24.setCallbackRefreshAuth(async ({ b24OAuthParams }) => {
      saved.push({ accessToken: b24OAuthParams.accessToken, refreshToken: b24OAuthParams.refreshToken });
    });
    emu.emulator.expireAccessTokens(inst.clientId);
    const before = emu.emulator.stats.refreshes;
    const res = await b24.actions.v2.call.make<{ ID: string }>({ method: 'crm.deal.get', params: { id: 7 } });
    expect(res.getData()!.result.ID).toBe('7');
    expect(emu.emulator.stats.refreshes).toBe(before + 1);
    expect(saved).toHaveLength(1);
    expect(saved[0]!.refreshToken).not.toBe(inst.refreshToken);
    expect(emu.emulator.portal.accessTokens.get(saved[0]!.accessToken)?.clientId).toBe(inst.clientId);
    // The old refresh token is spent: a second client holding it cannot refresh any more.
    const stale = client(inst);
    emu.emulator.expireAccessTokens(inst.clientId);
    const err = await stale.actions.v2.call.make({ method: 'server.time' }).then(
      () => null,
      (e: unknown) => e,
    );
    // SDK 2.2.0 wraps the refresh failure; the RefreshTokenError with invalid_grant sits in originalError.
    const original = (err as { originalError?: unknown }).originalError;
    expect(original).toBeInstanceOf(RefreshTokenError);
    expect(original).toMatchObject({ code: 'invalid_grant' });
  });

  it('backs off on 503 QUERY_LIMIT_EXCEEDED and succeeds on retry', async () => {
    const b24 = client(await emu.emulator.installApp({}));
    emu.emulator.faults.force('http503', 2);
    const t = Date.now();
    const res = await b24.actions.v2.call.make<string>({ method: 'server.time' });
    expect(res.isSuccess).toBe(true);
    expect(emu.emulator.faults.injected).toBeGreaterThanOrEqual(2);
    // The SDK waits (1000/drainRate + 1000) × 1.5^attempt before each retry: at least ~1 s here.
    expect(Date.now() - t).toBeGreaterThan(900);
  });

  it('surfaces OPERATION_TIME_LIMIT (429) as an error when retries are off', async () => {
    const inst = await emu.emulator.installApp({});
    const b24 = client(inst, { ...FAST, maxRetries: 1 });
    emu.emulator.exhaustOperating(inst.clientId, 'crm.deal.list');
    await expect(b24.actions.v2.call.make({ method: 'crm.deal.list' })).rejects.toMatchObject({ code: 'OPERATION_TIME_LIMIT', status: 429 });
    // Other methods keep working.
    expect((await b24.actions.v2.call.make({ method: 'crm.contact.list', params: { select: ['ID'] } })).isSuccess).toBe(true);
  });

  it('waits out a 429 and retries when the budget frees up', async () => {
    const inst = await emu.emulator.installApp({});
    const b24 = client(inst, { ...FAST, maxRetries: 2 });
    emu.emulator.exhaustOperating(inst.clientId, 'crm.contact.list');
    // Free the budget shortly after the first 429; the SDK's hard-coded wait is 10 s.
    setTimeout(() => emu.emulator.resetLimits(), 500);
    const t = Date.now();
    const res = await b24.actions.v2.call.make({ method: 'crm.contact.list', params: { select: ['ID'] } });
    expect(res.isSuccess).toBe(true);
    expect(Date.now() - t).toBeGreaterThanOrEqual(9_000);
  }, 30_000);
});
