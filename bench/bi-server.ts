// The app server for bench/bi.ts, in a process of its own so its RSS is its own: opens the store named
// by DATABASE_URL, gives PORTAL's BI Builder source the secret BI_TOKEN, serves the real app on a free
// port and prints its URL.
import { buildApp } from '../src/app.js';
import { migrate, openStore } from '../src/db/database.js';

const store = openStore(process.env.DATABASE_URL!);
await migrate(store);
const app = await buildApp({
  config: { PUBLIC_URL: 'http://127.0.0.1:1', B24_CLIENT_ID: 'local.bench', B24_CLIENT_SECRET: 'bench', APP_SECRET: process.env.APP_SECRET!, ALLOW_INSECURE_PORTALS: true },
  store,
});
const bi = app.bi.connector.store;
await bi.save(process.env.PORTAL!, { status: 'registered', secret: bi.seal(process.env.BI_TOKEN!) });
await app.listen({ port: 0, host: '127.0.0.1' });
const addr = app.server.address() as { port: number };
process.stdout.write(`listening http://127.0.0.1:${addr.port}\n`);
process.once('SIGTERM', () => void app.close().then(() => store.close()).then(() => process.exit(0)));
