// The demo: an emulated Bitrix24 portal holding a generated dental clinic, served on PORT, so the
// product can be tried with no portal at all. Later issues put the app and dashboard on top of it.
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { populateClinic } from './emulator/generator/index.js';
import { startEmulator } from './emulator/server.js';

export const DEMO_SEED = 1;
export const DEMO_CLIENT_ID = 'local.clinic-analytics.demo';

export async function runDemo(config: Config, log: Logger): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const run = await startEmulator({
    port: config.PORT,
    host: config.HOST,
    populate: (emu) => {
      populateClinic(emu.portal.data, { seed: DEMO_SEED, scale: 'clinic' });
    },
  });
  await run.emulator.installApp({ clientId: DEMO_CLIENT_ID });
  const tables = run.emulator.portal.data.tables;
  log.info(
    {
      url: run.url,
      deals: tables.deal.size,
      contacts: tables.contact.size,
      productRows: tables.productrow.size,
      users: tables.user.size,
      ms: Date.now() - t0,
    },
    'demo clinic portal is running',
  );
  console.log(
    [
      '',
      `Demo Bitrix24 portal with a generated dental clinic: ${run.url}`,
      `  Stats:  ${run.url}/_emulator/stats`,
      `  Tokens: curl -X POST ${run.url}/_emulator/install   (then ${run.url}/rest/crm.deal.list?auth=<access_token>)`,
      '',
    ].join('\n'),
  );
  return () => run.close();
}
