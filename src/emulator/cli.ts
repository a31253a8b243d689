// `npm run emulator -- --port 9100 --seed 1 --scale clinic [--limits cloud|off] [--latency none|cost]`
// Runs an emulated Bitrix24 portal holding a generated clinic until interrupted.
import { parseArgs } from 'node:util';
import { populateClinic, type Scale } from './generator/index.js';
import { startEmulator } from './server.js';

const SCALES: Scale[] = ['tiny', 'clinic', 'network'];

function fail(message: string): never {
  console.error(`emulator: ${message}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9100' },
    host: { type: 'string', default: '127.0.0.1' },
    seed: { type: 'string', default: '1' },
    scale: { type: 'string', default: 'clinic' },
    limits: { type: 'string', default: 'cloud' },
    latency: { type: 'string', default: 'none' },
  },
});
const port = Number(values.port);
const seed = Number(values.seed);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0-65535, got "${values.port}"`);
if (!Number.isInteger(seed)) fail(`--seed must be an integer, got "${values.seed}"`);
if (!SCALES.includes(values.scale as Scale)) fail(`--scale must be one of ${SCALES.join(', ')}, got "${values.scale}"`);
if (values.limits !== 'cloud' && values.limits !== 'off') fail(`--limits must be cloud or off, got "${values.limits}"`);
if (values.latency !== 'none' && values.latency !== 'cost') fail(`--latency must be none or cost, got "${values.latency}"`);

const t0 = Date.now();
const run = await startEmulator({
  port,
  host: values.host,
  limits: values.limits,
  latency: values.latency,
  populate: (emu) => {
    populateClinic(emu.portal.data, { seed, scale: values.scale as Scale });
  },
});
const app = await run.emulator.installApp({ clientId: 'local.emulator.cli' });
const t = run.emulator.portal.data.tables;
console.log(
  `Emulated portal ${run.emulator.portal.domain} (member_id ${run.emulator.portal.memberId}) at ${run.url}\n` +
    `  ${t.deal.size} deals, ${t.contact.size} contacts, ${t.productrow.size} product rows, ${t.user.size} users ` +
    `(seed ${seed}, scale ${values.scale}, ${Date.now() - t0} ms)\n` +
    `  client_id local.emulator.cli, client_secret ${app.clientSecret}\n` +
    `  access token ${app.accessToken} (1 h), refresh token ${app.refreshToken}\n` +
    `  control: POST ${run.url}/_emulator/install | /_emulator/webhook | /_emulator/expire-tokens, GET /_emulator/stats`,
);
const stop = () => void run.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
