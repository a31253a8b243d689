// The app server for bench/kpi.ts, in a process of its own so the load generator does not share its
// CPU: opens the store named by DATABASE_URL, serves the real app on a free port, prints its URL.
import { buildApp } from '../src/app.js';
import { openStore } from '../src/db/database.js';

const store = openStore(process.env.DATABASE_URL!);
const app = await buildApp({
  config: {
    PUBLIC_URL: 'http://127.0.0.1:1',
    B24_CLIENT_ID: 'local.bench',
    B24_CLIENT_SECRET: 'bench',
    APP_SECRET: process.env.APP_SECRET!,
    ALLOW_INSECURE_PORTALS: true,
    KPI_CACHE_SIZE: Number(process.env.KPI_CACHE_SIZE ?? 1000),
  },
  store,
});
await app.listen({ port: 0, host: '127.0.0.1' });
const addr = app.server.address() as { port: number };
process.stdout.write(`listening http://127.0.0.1:${addr.port}\n`);
process.once('SIGTERM', () => void app.close().then(() => store.close()).then(() => process.exit(0)));
