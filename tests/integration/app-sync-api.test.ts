// The admin sync controls over real HTTP: start a run (202 with its id, 409 while one runs), the
// progress stream (server-sent events) following it to its end, the status and history matching the
// run log, and clear errors for bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { DIALECTS } from '../fixtures/stores.js';
import { installByEvent, openSession, startApp, startPortal, type AppHarness } from '../fixtures/app-harness.js';

describe.each(DIALECTS)('sync API on %s', (dialect) => {
  let h: AppHarness;
  let emu: RunningEmulator;
  let token: string;
  let portalId: string;
  const auth = () => ({ authorization: `Bearer ${token}` });
  const startSync = (body: unknown) =>
    fetch(`${h.url}/api/v1/sync`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    [h, emu] = await Promise.all([startApp(dialect), startPortal(61)]);
    await installByEvent(h, emu);
    await h.app.services.settle();
    token = (await openSession(h, emu, 1)).body.token;
    portalId = emu.emulator.portal.memberId;
  });
  afterAll(async () => {
    await h?.close();
    await emu?.close();
  });

  it('starts a run, refuses a second one while it runs, and streams its progress to the end', async () => {
    // Slow portal answers keep the run going long enough to watch it.
    emu.emulator.faults.configure({ slowMs: 300 });
    emu.emulator.faults.force('slow', 6);
    const stream = await fetch(`${h.url}/api/v1/sync/stream`, { headers: auth() });
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const res = await startSync({ mode: 'full' });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: number };
    const row = await h.store.db.selectFrom('sync_run').selectAll().where('id', '=', runId).executeTakeFirstOrThrow();
    expect([row.portal_id, row.mode]).toEqual([portalId, 'full']);

    const busy = await startSync({ mode: 'incremental' });
    expect(busy.status).toBe(409);
    expect(await busy.json()).toMatchObject({ error: 'sync_running', runId });

    const events: any[] = [];
    const reader = stream.body!.getReader();
    let buf = '';
    const decoder = new TextDecoder();
    while (!events.some((e) => e.running === null && e.runs[0]?.id === runId)) {
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended early');
      buf += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const m = /^event: status\ndata: (.*)$/m.exec(chunk);
        if (m) events.push(JSON.parse(m[1]!));
      }
    }
    await reader.cancel();
    // It saw the run running, with per-entity progress, then finished.
    const running = events.filter((e) => e.running?.id === runId);
    expect(running.length).toBeGreaterThan(0);
    expect(running.some((e) => Object.keys(e.running.entities).length > 0)).toBe(true);
    const last = events.at(-1);
    const done = await h.store.db.selectFrom('sync_run').selectAll().where('id', '=', runId).executeTakeFirstOrThrow();
    expect(last.runs[0]).toEqual({
      id: runId,
      mode: 'full',
      status: done.status,
      startedAt: done.started_at,
      finishedAt: done.finished_at,
      requests: Number(done.requests),
      entities: JSON.parse(done.entities),
      error: done.error,
    });
    expect(done.status).toBe('finished');
    expect(JSON.parse(done.entities).deal.fetched).toBe(emu.emulator.portal.data.tables.deal.size);
    await h.app.services.settle();
  });

  it('reports a portal whose authorisation is gone in plain language', async () => {
    emu.emulator.expireAccessTokens(h.clientId);
    emu.emulator.revokeRefreshTokens(h.clientId);
    const res = await startSync({ mode: 'incremental' });
    expect(res.status).toBe(202);
    await h.app.services.settle();
    const status = (await (await fetch(`${h.url}/api/v1/sync/status`, { headers: auth() })).json()) as any;
    expect(status.auth).toBe('needs_reauth');
    expect(status.runs[0]).toMatchObject({ mode: 'incremental', status: 'failed' });
    expect(status.lastError).toMatch(/^Bitrix24 no longer accepts the app's authorisation, so syncing has stopped\. A portal administrator should open the app \(or reinstall it\)/);
    // Re-installing (here: the portal's ONAPPINSTALL again) restores it.
    await installByEvent(h, emu);
    await h.app.services.settle();
    const after = (await (await fetch(`${h.url}/api/v1/sync/status`, { headers: auth() })).json()) as any;
    expect(after).toMatchObject({ auth: 'ok', lastError: null });
    expect(after.runs[0]).toMatchObject({ mode: 'full', status: 'finished' });
  });

  it('names what is wrong with a bad request', async () => {
    const bad = await startSync({ mode: 'everything' });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as any;
    expect(body.error).toBe('invalid_request');
    expect(body.message).toContain('body.mode');
    const extra = await startSync({ mode: 'full', force: true });
    expect(await extra.json()).toMatchObject({ message: 'body: unknown field "force"' });
    const query = await fetch(`${h.url}/api/v1/sync/status?portal=other`, { headers: auth() });
    expect(await query.json()).toMatchObject({ error: 'invalid_request', message: 'querystring: unknown field "portal"' });
  });
});
