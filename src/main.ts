// Process entry. Reads the configuration; with no Bitrix24 app configured (no B24_CLIENT_ID) it runs
// the demo clinic on the built-in emulated portal.
import { pino } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(1);
    }
    throw e;
  }
  const log = pino({ level: config.LOG_LEVEL, redact: ['*.accessToken', '*.refreshToken', '*.token', '*.secret'] });
  if (!config.demo) {
    // The Bitrix24 application server (install, events, sync, dashboard) is not built yet.
    log.error('B24_CLIENT_ID is set, but this build only contains the demo portal; unset B24_CLIENT_ID to run the demo.');
    process.exit(1);
  }
  // The demo is the one product entry allowed to use the emulator; load it only when needed.
  const { runDemo } = await import('./demo.js');
  const stop = await runDemo(config, log);
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    void stop().then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
