// The demo: an emulated Bitrix24 portal holding a generated dental clinic, and the real app server
// installed into it through the real install path (the portal posts ONAPPINSTALL; the app proves the
// tokens, binds events and placements, starts the first full sync). Prints the portal page that
// opens the app the way Bitrix24 does. The only product file that may use the emulator.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ParamsFactory, type RestrictionParams } from '@bitrix24/b24jssdk';
import type { Logger } from 'pino';
import { serveApp } from './app.js';
import type { Config } from './config.js';
import { populateClinic } from './emulator/generator/index.js';
import { startEmulator } from './emulator/server.js';

export const DEMO_SEED = 1;
export const DEMO_CLIENT_ID = 'local.clinic-analytics.demo';
/** Fixed, so restarting the demo re-installs into the same portal row instead of adding one. */
export const DEMO_MEMBER_ID = 'demo0clinic0analytics00000000001';

/** The demo portal has no rate limits, so the app's client need not pace itself to the cloud's 2 req/s. */
const DEMO_RESTRICTIONS: RestrictionParams = {
  ...ParamsFactory.getDefault(),
  rateLimit: { burstLimit: 10_000, drainRate: 1_000, adaptiveEnabled: false },
};

/** APP_SECRET for the demo: the configured one, else one generated on first start and kept. */
function demoSecret(config: Config): string {
  if (config.APP_SECRET) return config.APP_SECRET;
  const dir = config.DATABASE_URL.startsWith('file:') && config.DATABASE_URL !== 'file::memory:' ? dirname(config.DATABASE_URL.slice(5)) : 'data';
  const file = join(dir, 'demo-app-secret');
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 32) return kept;
  } catch {
    // First start.
  }
  mkdirSync(dir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

export async function runDemo(config: Config, log: Logger): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const appSecret = demoSecret(config);
  const portal = await startEmulator({
    port: config.PORT === 0 ? 0 : config.PORT + 1,
    host: config.HOST,
    portal: { memberId: DEMO_MEMBER_ID },
    // No cloud rate limits: the demo shows the dashboard within a minute (bench:sync measures the sync under them).
    limits: 'off',
    populate: (emu) => {
      populateClinic(emu.portal.data, { seed: DEMO_SEED, scale: 'clinic' });
    },
  });
  // The app's OAuth credentials exist only between these two processes' halves.
  const clientSecret = randomBytes(24).toString('base64url');
  let served;
  // The dashboard opened at the app's own URL (no portal around it) acts as the portal's administrator.
  const demo = {
    frameAuth: () => ({ accessToken: portal.emulator.userTokens(DEMO_CLIENT_ID, 1).accessToken, memberId: DEMO_MEMBER_ID, domain: portal.emulator.portal.domain }),
  };
  try {
    served = await serveApp(
      { ...config, B24_CLIENT_ID: DEMO_CLIENT_ID, B24_CLIENT_SECRET: clientSecret, APP_SECRET: appSecret, ALLOW_INSECURE_PORTALS: true },
      log,
      { demo, restrictions: DEMO_RESTRICTIONS },
    );
  } catch (e) {
    await portal.close();
    throw e;
  }
  const appUrl = config.PUBLIC_URL;
  const inst = await portal.emulator.installApp({
    clientId: DEMO_CLIENT_ID,
    clientSecret,
    handlerUrl: `${appUrl}/`,
    installUrl: `${appUrl}/b24/install`,
  });
  if (inst.installEventStatus !== 200) {
    await served.stop();
    await portal.close();
    throw new Error(`the demo portal could not install the app at ${appUrl}/b24/install (answer ${String(inst.installEventStatus)}): is PUBLIC_URL reachable from this machine?`);
  }
  const tables = portal.emulator.portal.data.tables;
  const frame = `${portal.url}/_emulator/frame?clientId=${encodeURIComponent(DEMO_CLIENT_ID)}&userId=1&lang=ru`;
  log.info(
    { portal: portal.url, app: appUrl, deals: tables.deal.size, contacts: tables.contact.size, productRows: tables.productrow.size, users: tables.user.size, ms: Date.now() - t0 },
    'demo clinic portal is running with the app installed; first full sync started',
  );
  console.log(
    [
      '',
      'Demo: an emulated Bitrix24 portal with a generated dental clinic, and the app installed into it.',
      `  The dashboard (demo data):  ${appUrl}/`,
      `  Inside the emulated portal, as Bitrix24 frames it:  ${frame}`,
      `  (another user: change userId)`,
      `  Portal stats: ${portal.url}/_emulator/stats`,
      '',
    ].join('\n'),
  );
  return async () => {
    await served.stop();
    await portal.close();
  };
}
