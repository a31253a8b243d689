// A SQLite store holding the emulator's `network` scale (seed 1) synced with limits off and its facts
// built, cached under ./data/bench/ so benchmarks rerun in seconds instead of minutes. The file is
// written under a temporary name and renamed only when the sync and the build finished, so a crashed
// run never leaves a half-filled cache behind. Delete the file to rebuild it.
// Usage as a script: npx tsx bench/network-store.ts [--scale network] [--seed 1]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ParamsFactory, type RestrictionParams } from '@bitrix24/b24jssdk';
import { PortalClients } from '../src/bitrix/client.js';
import { FactBuilder } from '../src/clinic/facts.js';
import { migrate, openStore } from '../src/db/database.js';
import { PortalRepo } from '../src/db/portals.js';
import { SecretBox } from '../src/db/secrets.js';
import { SyncEngine } from '../src/sync/engine.js';
import { installApp, registerInstalled, spawnEmulator } from './emulator-process.js';

export const NETWORK_STORE_SECRET = 'bench-network-store-secret-'.padEnd(40, 'x');
const FAST: RestrictionParams = { ...ParamsFactory.getDefault(), rateLimit: { burstLimit: 10_000, drainRate: 1_000, adaptiveEnabled: false }, retryDelay: 10 };

export interface CachedStore {
  path: string;
  portalId: string;
  /** True when this call synced it (minutes), false when the cache was reused. */
  built: boolean;
}

function schemaFingerprint(): string {
  const dir = 'src/db/migrations';
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest('hex').slice(0, 8);
}

/** The cached store for a scale and seed, building it first when missing. */
export async function networkStore(scale = 'network', seed = '1', log: (s: string) => void = () => {}): Promise<CachedStore> {
  mkdirSync('data/bench', { recursive: true });
  // The schema is part of the name: a cache built by older migrations is never reused.
  const path = `data/bench/${scale}-seed${seed}-${schemaFingerprint()}.db`;
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
    const inst = await installApp(emu.url, 'local.bench.store');
    const store = openStore(`file:${tmp}`);
    await migrate(store);
    const portals = new PortalRepo(store.db, new SecretBox(NETWORK_STORE_SECRET));
    await registerInstalled(portals, inst);
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
