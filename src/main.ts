// Process entry. Reads the configuration; with B24_CLIENT_ID it serves the Bitrix24 application
// (install, events, syncs, pages, API) and waits for portals to install it; without, it runs the
// demo: the emulated portal with the demo clinic and the real app installed into it.
import { buildAppConfig } from './app-config.js';
import { createLogger, serveApp } from './app.js';
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
  const log = createLogger(config.LOG_LEVEL);
  let stop: () => Promise<void>;
  try {
    if (config.demo) {
      // The demo is the one product entry allowed to use the emulator; load it only when needed.
      const { runDemo } = await import('./demo.js');
      stop = await runDemo(config, log);
    } else {
      const served = await serveApp(buildAppConfig(config), log);
      stop = served.stop;
      log.info(
        { url: config.PUBLIC_URL, install: `${config.PUBLIC_URL}/b24/install`, handler: `${config.PUBLIC_URL}/` },
        'clinic analytics is serving; waiting for portals to install it',
      );
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(1);
    }
    log.fatal({ err: e instanceof Error ? e.message : String(e) }, 'start failed');
    process.exit(1);
  }
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    void stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
