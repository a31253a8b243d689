// What the app needs from the environment beyond config.ts's per-variable checks: the variables
// that are required together once a Bitrix24 app is configured.
import type { AppConfig } from './app.js';
import { ConfigError, type Config } from './config.js';

export function buildAppConfig(config: Config): AppConfig & Config {
  if (!config.B24_CLIENT_ID) throw new ConfigError('B24_CLIENT_ID', 'required to serve the Bitrix24 app');
  if (!config.B24_CLIENT_SECRET) throw new ConfigError('B24_CLIENT_SECRET', 'required when B24_CLIENT_ID is set');
  if (!config.APP_SECRET) throw new ConfigError('APP_SECRET', 'required (at least 32 characters) when B24_CLIENT_ID is set');
  // Bitrix24 calls the handler, install and event URLs from the internet, and refuses http:// handlers.
  if (!config.PUBLIC_URL.startsWith('https://') && !config.ALLOW_INSECURE_PORTALS) {
    throw new ConfigError('PUBLIC_URL', `must be an https:// URL Bitrix24 can reach (got "${config.PUBLIC_URL}"); ALLOW_INSECURE_PORTALS=1 allows http:// for development`);
  }
  return { ...config, B24_CLIENT_ID: config.B24_CLIENT_ID, B24_CLIENT_SECRET: config.B24_CLIENT_SECRET, APP_SECRET: config.APP_SECRET };
}
