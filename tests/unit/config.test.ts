import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('config', () => {
  it('defaults to the demo on SQLite at 127.0.0.1:3000', () => {
    expect(loadConfig({})).toEqual({
      PORT: 3000,
      HOST: '127.0.0.1',
      PUBLIC_URL: 'http://localhost:3000',
      DATABASE_URL: 'file:./data/clinic.db',
      ALLOW_INSECURE_PORTALS: false,
      SYNC_CRON: '*/10 * * * *',
      RECONCILE_CRON: '30 3 * * *',
      LOG_LEVEL: 'info',
      KPI_CACHE_SIZE: 1000,
      demo: true,
    });
  });

  it('reads a real app configuration', () => {
    const c = loadConfig({
      PORT: '8080',
      PUBLIC_URL: 'https://clinic.example.com/',
      DATABASE_URL: 'postgres://u@db/clinic',
      B24_CLIENT_ID: 'local.abc',
      B24_CLIENT_SECRET: 'secret',
      APP_SECRET: 'x'.repeat(32),
      ALLOW_INSECURE_PORTALS: 'yes',
    });
    expect(c).toMatchObject({ PORT: 8080, PUBLIC_URL: 'https://clinic.example.com', demo: false, ALLOW_INSECURE_PORTALS: true });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ PUBLIC_URL: 'ftp://x' }, 'PUBLIC_URL'],
    [{ ALLOW_INSECURE_PORTALS: 'maybe' }, 'ALLOW_INSECURE_PORTALS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ KPI_CACHE_SIZE: '-1' }, 'KPI_CACHE_SIZE'],
    [{ KPI_CACHE_SIZE: '5000000' }, 'KPI_CACHE_SIZE'],
    [{ B24_CLIENT_ID: 'local.abc' }, 'B24_CLIENT_SECRET'],
    [{ B24_CLIENT_ID: 'local.abc', B24_CLIENT_SECRET: 's', APP_SECRET: 'short' }, 'APP_SECRET'],
    [{ B24_CLIENT_SECRET: 's' }, 'B24_CLIENT_ID'],
  ])('names the bad variable: %j → %s', (env, variable) => {
    let err: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(variable);
    expect((err as Error).message).toContain(variable);
  });
});
