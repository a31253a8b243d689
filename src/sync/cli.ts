// `npm run sync -- --portal <member_id> [--full | --reconcile]` runs one sync of a registered portal
// against DATABASE_URL and prints its run record. `--webhook <url>` first registers a self-hosted
// portal reached through an incoming webhook (its host becomes the portal id).
import { parseArgs } from 'node:util';
import { PortalClients } from '../bitrix/client.js';
import { loadConfig } from '../config.js';
import { migrate, openStore } from '../db/database.js';
import { PortalRepo } from '../db/portals.js';
import { SecretBox } from '../db/secrets.js';
import { SyncEngine, type SyncMode } from './engine.js';

function fail(message: string): never {
  console.error(`sync: ${message}`);
  process.exit(1);
}

const { values } = parseArgs({
  options: {
    portal: { type: 'string' },
    webhook: { type: 'string' },
    full: { type: 'boolean', default: false },
    reconcile: { type: 'boolean', default: false },
  },
});
const config = (() => {
  try {
    return loadConfig();
  } catch (e) {
    return fail((e as Error).message);
  }
})();
if (!config.APP_SECRET) fail('APP_SECRET is required to read the stored portal credentials');
if (values.full && values.reconcile) fail('choose one of --full and --reconcile');
const store = openStore(config.DATABASE_URL);
await migrate(store);
const portals = new PortalRepo(store.db, new SecretBox(config.APP_SECRET));
let portalId = values.portal;
if (values.webhook) {
  portalId = new URL(values.webhook).host;
  await portals.registerWebhook({ portalId, webhookUrl: values.webhook, scope: [] });
}
if (!portalId) fail('--portal <member_id> (or --webhook <url>) is required');
if (!(await portals.get(portalId))) fail(`portal ${portalId} is not registered in ${config.DATABASE_URL.replace(/\/\/[^@]*@/, '//***@')}`);
const clients = new PortalClients({
  db: store.db,
  portals,
  allowInsecure: config.ALLOW_INSECURE_PORTALS,
  ...(config.B24_CLIENT_ID && config.B24_CLIENT_SECRET ? { oauthApp: { clientId: config.B24_CLIENT_ID, clientSecret: config.B24_CLIENT_SECRET } } : {}),
});
const mode: SyncMode = values.full ? 'full' : values.reconcile ? 'reconcile' : 'incremental';
const engine = new SyncEngine({ db: store.db, clients, portals }, {
  onProgress: (e) => process.stderr.write(`\r${Object.entries(e).map(([k, v]) => `${k} ${v.fetched}`).join('  ')}   `),
});
const run = await engine.run(portalId, mode).catch((e: unknown) => fail((e as Error).message));
process.stderr.write('\n');
console.log(JSON.stringify(run, null, 2));
await store.close();
process.exit(run.status === 'finished' ? 0 : 1);
