import { describe, expect, it } from 'vitest';
import { SyncBusyError, type RunSummary, type SyncMode } from '../../src/sync/engine.js';
import { assertCron, startScheduler } from '../../src/sync/scheduler.js';

describe('scheduler', () => {
  it('runs active portals, skips a busy one, logs failures', async () => {
    const calls: [string, SyncMode][] = [];
    const logs: string[] = [];
    const engine = {
      run: async (portalId: string, mode: SyncMode): Promise<RunSummary> => {
        calls.push([portalId, mode]);
        if (portalId === 'busy') throw new SyncBusyError(portalId);
        return { runId: 1, mode, status: portalId === 'broken' ? 'failed' : 'finished', requests: 3, entities: {}, error: portalId === 'broken' ? 'boom' : null };
      },
    };
    const portal = (portalId: string, status: 'active' | 'needs_reauth') => ({ portalId, status }) as never;
    const s = startScheduler(
      {
        engine,
        portals: { list: async () => [portal('a', 'active'), portal('busy', 'active'), portal('old', 'needs_reauth'), portal('broken', 'active')] },
        log: { info: (_o, m) => logs.push(`info ${m}`), warn: (_o, m) => logs.push(`warn ${m}`) },
      },
      { syncCron: '*/10 * * * *', reconcileCron: '30 3 * * *' },
    );
    const runs = await s.tick('reconcile');
    s.stop();
    expect(calls).toEqual([['a', 'reconcile'], ['busy', 'reconcile'], ['broken', 'reconcile']]);
    expect(runs.map((r) => r.status)).toEqual(['finished', 'failed']);
    expect(logs).toEqual(['info scheduled reconcile sync finished', 'info portal is already syncing; skipped', 'warn scheduled reconcile sync failed']);
  });

  it('refuses a malformed cron expression, naming the setting', () => {
    expect(() => assertCron('SYNC_CRON', 'every ten minutes')).toThrow(/SYNC_CRON is not a valid cron expression/);
    expect(() => assertCron('SYNC_CRON', '*/10 * * * *')).not.toThrow();
  });
});
