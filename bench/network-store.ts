// A SQLite store holding the emulator's `network` scale (seed 1) synced with limits off and its facts
// built, cached under ./data/bench/ so benchmarks rerun in seconds instead of minutes. The file is
// written under a temporary name and renamed only when the sync and the build finished, so a crashed
// run never leaves a half-filled cache behind. Delete the file to rebuild it.
// Usage as a script: npx tsx bench/network-store.ts [--scale network] [--seed 1]
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ParamsFactory, type RestrictionParams } from '@bitrix24/b24jssdk';
import { PortalClients } from '../src/bitrix/client.js';
import { FactBuilder } from '../src/clinic/facts.js';
import { migrate, openStore } from '../src/db/database.js';
import { PortalRepo } from '../src/db/portals.js';
import { SecretBox } from '../src/db/secrets.js';
import { SyncEngine } from '../src/sync/engine.js';
import { spawnEmulator } from './emulator-process.js';

export const NETWORK_STORE_SECRET = 'bench-network-store-secret-'.padEnd(40, 'x');
const FAST: RestrictionParams = { ...ParamsFactory.getDefault(), rateLimit: { burstLimit: 10_000, drainRate: 1_000, adaptiveEnabled: false }, retryDelay: 10 };

export interface CachedStore {
  path: string;
  portalId: string;
  /** True when this call synced it (minutes), false when the cache was reused. */
  built: boolean;
}

/** The cached store for a scale and seed, building it first when missing. */
export async function networkStore(scale = 'network', seed = '1', log: (s: string) => void = () => {}): Promise<CachedStore> {
  mkdirSync('data/bench', { recursive: true });
  const path = `data/bench/${scale}-seed${seed}.db`;
  if (existsSync(path)) {
    const store = openStore(`file:${path}`);
    try {
      await migrate(store);
      const p = await store.db.selectFrom('clinic_build').select('portal_id').executeTakeFirst();
      if (p) return { path, portalId: p.portal_id, built: false };
    } finally {
      await store.close();
    }
  }
  const tmp = `${path}.partial`;
  for (const s of ['', '-wal', '-shm']) rmSync(tmp + s, { force: true });
  log(`building ${path}: the ${scale} portal synced with limits off (a few minutes)…`);
  const emu = await spawnEmulator(['--scale', scale, '--seed', seed, '--limits', 'off']);
  try {
    const res = await fetch(`${emu.url}/_emulator/install`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientId: 'local.bench.store' }) });
    if (!res.ok) throw new Error(`install: HTTP ${res.status} ${await res.text()}`);
    const inst = (await res.json()) as {
      clientId: string;
      clientSecret: string;
      applicationToken: string;
      accessToken: string;
      refreshToken: string;
      expires: number;
      memberId: string;
      domain: string;
      clientEndpoint: string;
      serverEndpoint: string;
      scope: string[];
      userId: number;
    };
    const store = openStore(`file:${tmp}`);
    await migrate(store);
    const portals = new PortalRepo(store.db, new SecretBox(NETWORK_STORE_SECRET));
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
    const clients = new PortalClients({ db: store.db, portals, oauthApp: { clientId: inst.clientId, clientSecret: inst.clientSecret }, allowInsecure: true, restrictions: FAST });
    const t0 = performance.now();
    const run = await new SyncEngine({ db: store.db, clients, portals }, {}).run(inst.memberId, 'full');
    if (run.status !== 'finished') throw new Error(`sync failed: ${run.error}`);
    log(`synced in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const b = await new FactBuilder(store.db).refresh(inst.memberId, { full: true });
    log(`facts built in ${(b.ms / 1000).toFixed(1)} s: ${b.visits} visits, ${b.patients} patients`);
    await store.close();
    renameSync(tmp, path);
    for (const s of ['-wal', '-shm']) rmSync(tmp + s, { force: true });
    return { path, portalId: inst.memberId, built: true };
  } finally {
    emu.child.kill('SIGTERM');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { scale: { type: 'string', default: 'network' }, seed: { type: 'string', default: '1' } } });
  const r = await networkStore(values.scale, values.seed, (s) => process.stdout.write(`${s}\n`));
  process.stdout.write(`${r.built ? 'built' : 'cached'}: ${r.path} (portal ${r.portalId})\n`);
}
