// Starts the emulator CLI in a process of its own, as it runs beside a benchmarked client: the
// client's JSON parsing must not share the emulator's CPU. Resolves once it listens.
import { spawn, type ChildProcess } from 'node:child_process';
import type { PortalRepo } from '../src/db/portals.js';
import type { InstallResult } from '../src/emulator/emulator.js';

export interface EmulatorProcess {
  child: ChildProcess;
  url: string;
  /** The CLI's own app's access token (one hour). */
  accessToken: string;
  /** The CLI's first two banner lines (portal, sizes). */
  banner: string;
}

export async function spawnEmulator(args: string[]): Promise<EmulatorProcess> {
  // A larger young generation keeps the many short-lived page objects out of the old generation,
  // where collecting them means marking the whole in-memory portal (measured: ~1.5× throughput).
  const child = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', 'src/emulator/cli.ts', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const out = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      if (/access token \w+/.test(text)) resolve(text);
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}: ${text}`)));
  });
  return {
    child,
    url: /at (http:\/\/\S+)/.exec(out)![1]!,
    accessToken: /access token (\w+)/.exec(out)![1]!,
    banner: out.split('\n').slice(0, 2).join('\n'),
  };
}

/** What `POST /_emulator/install` answers (the emulator's own install result, over HTTP). */
export type InstalledApp = InstallResult;

/** Installs an app (a new client id) into a running emulator. */
export async function installApp(url: string, clientId: string): Promise<InstalledApp> {
  const res = await fetch(`${url}/_emulator/install`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId }) });
  if (!res.ok) throw new Error(`install: HTTP ${res.status} ${await res.text()}`);
  return res.json() as Promise<InstalledApp>;
}

/** Starts a bench server script (it prints `listening <url>` when ready) in a process of its own. */
export async function spawnServer(script: string, env: Record<string, string>): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const base = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /listening (\S+)/.exec(text);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${text}`)));
  });
  return { child, base };
}

/** Registers an app installed by `installApp` as a portal of a store, the way the app's install does. */
export async function registerInstalled(portals: PortalRepo, inst: InstalledApp): Promise<void> {
  await portals.registerOAuth({
    portalId: inst.memberId,
    domain: inst.domain,
    clientEndpoint: inst.clientEndpoint,
    serverEndpoint: inst.serverEndpoint,
    scope: inst.scope,
    userId: inst.userId,
    tokens: { accessToken: inst.accessToken, refreshToken: inst.refreshToken, expiresAt: inst.expires },
    applicationToken: inst.applicationToken,
  });
}
