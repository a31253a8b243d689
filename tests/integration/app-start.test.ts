// `npm start`'s entry as a real process: with B24_CLIENT_ID it serves the app and waits for installs;
// a missing or malformed variable stops it with a message naming the variable.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function start(env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'clinic-start-'));
  dirs.push(dir);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH!, DATABASE_URL: `file:${join(dir, 'app.db')}`, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** A free port whose next one is free too (the demo's portal listens on PORT + 1). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    const next = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port + 1, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (next) return port;
  }
}

const APP = { B24_CLIENT_ID: 'local.start.test', B24_CLIENT_SECRET: 'secret-of-the-start-test', APP_SECRET: 'z'.repeat(40) };

describe('npm start with a Bitrix24 app configured', () => {
  it('serves the app and waits for installs', async () => {
    const port = await freePort();
    const p = start({ ...APP, PORT: String(port), PUBLIC_URL: 'https://clinic.example.ru' });
    try {
      let health: Response | undefined;
      for (let i = 0; i < 200 && !health; i++) {
        health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (!health) await new Promise((r) => setTimeout(r, 100));
      }
      expect(health?.status, p.output()).toBe(200);
      expect(await health!.json()).toEqual({ ok: true, store: 'ok', lastSyncAgeSec: null });
      expect(p.output()).toContain('waiting for portals to install it');
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      // No portal installed: nobody may frame it.
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    } finally {
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    }
    expect(p.output()).not.toContain(APP.B24_CLIENT_SECRET);
    expect(p.output()).not.toContain(APP.APP_SECRET);
  }, 60_000);

  it.each([
    [{ ...APP, APP_SECRET: '' }, 'APP_SECRET'],
    [{ ...APP, APP_SECRET: 'short' }, 'APP_SECRET'],
    [{ ...APP, B24_CLIENT_SECRET: '' }, 'B24_CLIENT_SECRET'],
    [{ ...APP, PUBLIC_URL: 'http://clinic.example.ru' }, 'PUBLIC_URL'],
    [{ ...APP, PUBLIC_URL: 'https://clinic.example.ru', SYNC_CRON: 'every minute!' }, 'SYNC_CRON'],
  ])('stops with a message naming the variable (%#)', async (env, variable) => {
    const p = start({ PORT: String(await freePort()), ...env });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain(variable);
  }, 60_000);
});

describe('npm start with no Bitrix24 app configured (the demo)', () => {
  it('runs the demo portal beside the app, installs the app into it, prints the URLs and stops clean', async () => {
    const port = await freePortPair();
    const app = `http://127.0.0.1:${port}`;
    const p = start({ PORT: String(port), PUBLIC_URL: app, SYNC_CRON: '*/7 * * * *' });
    try {
      for (let i = 0; i < 600 && !p.output().includes('Portal stats:'); i++) await new Promise((r) => setTimeout(r, 100));
      const out = p.output();
      expect(out).toContain(`The dashboard (demo data):  ${app}/`);
      expect(out).toContain(`http://127.0.0.1:${port + 1}/_emulator/frame?clientId=local.clinic-analytics.demo&userId=1&lang=ru`);
      // Installed through ONAPPINSTALL: the portal (in its own thread) knows the app and frames it.
      const stats = (await (await fetch(`http://127.0.0.1:${port + 1}/_emulator/stats`)).json()) as { tables: Record<string, number>; memberId: string };
      expect(stats.memberId).toBe('demo0clinic0analytics00000000001');
      expect(stats.tables.deal).toBeGreaterThan(100_000);
      const frame = await fetch(`http://127.0.0.1:${port + 1}/_emulator/frame?clientId=local.clinic-analytics.demo&userId=1&lang=ru`);
      expect(frame.status).toBe(200);
      // The page opened outside the portal gets the demo administrator's token from the portal's thread.
      const auth = (await (await fetch(`${app}/demo/frame-auth`, { method: 'POST' })).json()) as { accessToken: string; memberId: string; domain: string };
      expect(auth).toMatchObject({ memberId: 'demo0clinic0analytics00000000001', domain: `127.0.0.1:${port + 1}` });
      expect(auth.accessToken).toMatch(/^\w{20,}$/);
      const session = await fetch(`${app}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ accessToken: auth.accessToken, memberId: auth.memberId, domain: auth.domain }),
      });
      expect(session.status, await session.clone().text()).toBe(200);
      // The schedule the page tells: SYNC_CRON (the portal was installed after the scheduler's first plan).
      expect(((await session.json()) as { portal: { sync: { schedule: unknown } } }).portal.sync.schedule).toEqual({ cron: '*/7 * * * *', nextAt: null });
    } finally {
      const asked = Date.now();
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      // Promptly: the portal's thread is closed, not waited out.
      expect(Date.now() - asked).toBeLessThan(3000);
    }
    // Nothing keeps listening: the portal's thread ended with the process.
    await expect(fetch(`http://127.0.0.1:${port + 1}/_emulator/stats`)).rejects.toThrow();
    await expect(fetch(`${app}/healthz`)).rejects.toThrow();
  }, 120_000);
});
