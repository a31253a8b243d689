// `npm run db:migrate`: applies pending migrations to DATABASE_URL; exit code 1 on any failure.
import { loadConfig } from '../config.js';
import { migrate, openStore } from './database.js';

try {
  const config = loadConfig();
  const store = openStore(config.DATABASE_URL);
  try {
    const result = await migrate(store);
    const applied = (result.results ?? []).map((r) => r.migrationName);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'the store is up to date');
  } finally {
    await store.close();
  }
} catch (e) {
  console.error(`db:migrate failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
