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

  it('schedules each active portal on its own cron expressions, or the defaults, and follows changes', async () => {
    const own = new Map<string, { incremental?: string | null; reconcile?: string | null }>([
      ['a', { incremental: '*/5 * * * *', reconcile: null }],
      ['b', {}],
      ['c', { incremental: 'whenever', reconcile: '0 4 * * *' }],
    ]);
    const portals = [{ portalId: 'a', status: 'active' }, { portalId: 'b', status: 'active' }, { portalId: 'c', status: 'active' }, { portalId: 'gone', status: 'uninstalled' }];
    const warnings: string[] = [];
    const s = startScheduler(
      {
        engine: { run: async () => ({ runId: 1, mode: 'incremental', status: 'finished', requests: 0, entities: {}, error: null }) },
        portals: { list: async () => portals as never },
        log: { info: () => undefined, warn: (_o, m) => warnings.push(m) },
        scheduleOf: async (id) => own.get(id) ?? {},
      },
      { syncCron: '*/10 * * * *', reconcileCron: '30 3 * * *', planEveryMs: 3_600_000 },
    );
    await s.plan();
    expect(Object.fromEntries(s.schedules())).toEqual({
      a: { incremental: '*/5 * * * *', reconcile: '30 3 * * *' },
      b: { incremental: '*/10 * * * *', reconcile: '30 3 * * *' },
      c: { incremental: '*/10 * * * *', reconcile: '0 4 * * *' },
    });
    expect(warnings).toContain('invalid cron expression in the portal settings; using the default');
    // What the pages tell: the incremental cron in force and its next run (a */5 run is on a 5-minute mark, within 5 minutes).
    const next = s.nextIncremental('a')!;
    expect(next.cron).toBe('*/5 * * * *');
    expect(next.at!.getTime() - Date.now()).toBeGreaterThan(0);
    expect(next.at!.getTime() - Date.now()).toBeLessThanOrEqual(5 * 60_000);
    expect(next.at!.getMinutes() % 5).toBe(0);
    expect(next.at!.getSeconds()).toBe(0);
    expect(s.nextIncremental('c')?.cron).toBe('*/10 * * * *');
    expect(s.nextIncremental('gone')).toBeUndefined();
    // A changed schedule and an uninstall take effect at the next planning.
    own.set('b', { incremental: '0 * * * *' });
    portals[0]!.status = 'uninstalled';
    await s.plan();
    expect([...s.schedules().keys()].sort()).toEqual(['b', 'c']);
    expect(s.schedules().get('b')?.incremental).toBe('0 * * * *');
    s.stop();
    expect(s.schedules().size).toBe(0);
  });

  it("reads a portal's cron times in the clinic's time zone", async () => {
    const zones = new Map([
      ['vl', 'Asia/Vladivostok'],
      ['kgd', 'Europe/Kaliningrad'],
    ]);
    const s = startScheduler(
      {
        engine: { run: async () => ({ runId: 1, mode: 'incremental', status: 'finished', requests: 0, entities: {}, error: null }) },
        portals: { list: async () => [...zones.keys()].map((portalId) => ({ portalId, status: 'active' })) as never },
        log: { info: () => undefined, warn: () => undefined },
        scheduleOf: async (id) => ({ incremental: '30 3 * * *', timeZone: zones.get(id)! }),
      },
      { syncCron: '*/10 * * * *', reconcileCron: '30 3 * * *', planEveryMs: 3_600_000 },
    );
    await s.plan();
    // 03:30 in Vladivostok (UTC+10, no DST) is 17:30 UTC; in Kaliningrad (UTC+2) 01:30 UTC.
    const utc = (id: string) => s.nextIncremental(id)!.at!.toISOString().slice(11, 16);
    expect([utc('vl'), utc('kgd')]).toEqual(['17:30', '01:30']);
    // A zone change is a schedule change.
    zones.set('kgd', 'Asia/Vladivostok');
    await s.plan();
    expect(utc('kgd')).toBe('17:30');
    s.stop();
  });

  it('refuses a malformed cron expression, naming the setting', () => {
    expect(() => assertCron('SYNC_CRON', 'every ten minutes')).toThrow(/SYNC_CRON is not a valid cron expression/);
    expect(() => assertCron('SYNC_CRON', '*/10 * * * *')).not.toThrow();
  });
});
