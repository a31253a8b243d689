/* global URL, console, process */
// Builds the dashboard into frontend/dist when it is missing or older than its sources. Run by
// `npm ci`/`npm install` (postinstall) and before `npm start` (prestart), so a fresh clone needs no
// other command; `--force` rebuilds anyway. Exits non-zero when the build fails.
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
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

export async function buildDashboard({ force = false, quiet = false } = {}) {
  if (!force && !isStale()) return false;
  const t0 = Date.now();
  const { build } = await import('vite');
  await build({ configFile: join(root, 'vite.config.ts'), logLevel: quiet ? 'error' : 'warn' });
  writeFileSync(stamp, new Date().toISOString() + '\n');
  if (!quiet) console.log(`dashboard built into frontend/dist in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildDashboard({ force: process.argv.includes('--force') }).catch((e) => {
    console.error(`the dashboard build failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
