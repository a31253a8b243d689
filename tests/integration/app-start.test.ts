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
