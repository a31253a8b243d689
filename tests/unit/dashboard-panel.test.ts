// The panel loader (frontend/src/lib/panel.ts): each panel tracks its own loading and error, reloads
// when its query key changes, ignores answers that arrive after a newer request, says "not synced"
// for the API's 409 and re-asks on its own, and leaves the registry when its view goes.
import { effectScope, nextTick, ref } from 'vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../frontend/src/lib/api.js';
import { panels, usePanel } from '../../frontend/src/lib/panel.js';

const tick = async () => {
  for (let i = 0; i < 5; i++) await nextTick();
};

describe('usePanel', () => {
  afterEach(() => vi.useRealTimers());

  it('loads on its key, reloads when the key changes, and a stale answer never wins', async () => {
    const key = ref('a');
    const resolvers: ((v: string) => void)[] = [];
    const scope = effectScope();
    const p = scope.run(() => usePanel('t.one', () => key.value, () => new Promise<string>((r) => resolvers.push(r))))!;
    expect(p.status.value).toBe('loading');
    expect(panels.get('t.one')).toBe('loading');
    key.value = 'b';
    await tick();
    expect(resolvers).toHaveLength(2);
    resolvers[1]!('answer b');
    await tick();
    resolvers[0]!('answer a'); // late answer of the superseded request
    await tick();
    expect(p.data.value).toBe('answer b');
    expect(p.status.value).toBe('ready');
    expect(panels.get('t.one')).toBe('ready');
    scope.stop();
    expect(panels.has('t.one')).toBe(false);
  });

  it('one failing panel shows its error and can retry; the others are not affected', async () => {
    let fail = true;
    const scope = effectScope();
    const [bad, good] = scope.run(() => [
      usePanel('t.bad', () => 'k', async () => {
        if (fail) throw new ApiError(500, 'internal', 'the KPI query failed');
        return 1;
      }),
      usePanel('t.good', () => 'k', async () => 2),
    ])!;
    await tick();
    expect([bad!.status.value, bad!.error.value]).toEqual(['error', 'the KPI query failed']);
    expect([good!.status.value, good!.data.value]).toEqual(['ready', 2]);
    fail = false;
    bad!.reload();
    await tick();
    expect([bad!.status.value, bad!.data.value]).toEqual(['ready', 1]);
    scope.stop();
  });

  it('before the first sync it says so (not an error, not 0) and asks again until the data is there', async () => {
    vi.useFakeTimers();
    let synced = false;
    const scope = effectScope();
    const p = scope.run(() =>
      usePanel('t.sync', () => 'k', async () => {
        if (!synced) throw new ApiError(409, 'not_synced', 'not yet');
        return 42;
      }),
    )!;
    await tick();
    expect(p.status.value).toBe('not_synced');
    expect(p.data.value).toBeUndefined();
    synced = true;
    await vi.advanceTimersByTimeAsync(5000);
    await tick();
    expect([p.status.value, p.data.value]).toEqual(['ready', 42]);
    scope.stop();
  });
});
