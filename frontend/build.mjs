/* global URL, console, process, setTimeout */
// Builds the dashboard into frontend/dist when it is missing or older than its sources. Run by
// `npm ci`/`npm install` (postinstall) and before `npm start` (prestart), so a fresh clone needs no
// other command; `--force` rebuilds anyway. Exits non-zero when the build fails.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const stamp = join(root, 'dist', '.built');

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = 0;
  for (const e of readdirSync(path)) m = Math.max(m, newest(join(path, e)));
  return m;
}

export function isStale() {
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  const sources = [join(root, 'src'), join(root, 'index.html'), join(root, 'vite.config.ts'), join(root, '..', 'package-lock.json')];
  return sources.some((p) => existsSync(p) && newest(p) > built);
}

/** One build at a time (test files running in parallel may each ask for it). */
async function withLock(fn) {
  const lock = join(root, '.build-lock');
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than 5 minutes was left by a build that died.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export async function buildDashboard({ force = false, quiet = false } = {}) {
  if (!force && !isStale()) return false;
  return withLock(async () => {
    if (!force && !isStale()) return false; // built by whoever held the lock
    const t0 = Date.now();
    const { build } = await import('vite');
    await build({ configFile: join(root, 'vite.config.ts'), logLevel: quiet ? 'error' : 'warn' });
    writeFileSync(stamp, new Date().toISOString() + '\n');
    if (!quiet) console.log(`dashboard built into frontend/dist in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return true;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildDashboard({ force: process.argv.includes('--force') }).catch((e) => {
    console.error(`the dashboard build failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
