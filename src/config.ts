// The one place where the process reads its environment. Every setting is named in
// architecture.md's configuration table; a bad value stops the start with a message naming it.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const Env = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535 }),
  HOST: Type.String({ minLength: 1 }),
  PUBLIC_URL: Type.String({ pattern: '^https?://[^\\s/]+(/.*)?$' }),
  DATABASE_URL: Type.String({ pattern: '^(file:.+|postgres(ql)?://.+)$' }),
  B24_CLIENT_ID: Type.Optional(Type.String({ minLength: 1 })),
  B24_CLIENT_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  APP_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  ALLOW_INSECURE_PORTALS: Type.Boolean(),
  SYNC_CRON: Type.String({ minLength: 9 }),
  RECONCILE_CRON: Type.String({ minLength: 9 }),
  KPI_CACHE_SIZE: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
  ),
});

export type Config = Static<typeof Env> & {
  /** true when no OAuth app is configured: `npm start` runs the demo clinic on the emulator. */
  demo: boolean;
};

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`Configuration error in ${variable}: ${reason}`);
    this.name = 'ConfigError';
  }
}

/** KPI results kept in memory between two fact builds (src/kpi/result-cache.ts). */
export const DEFAULT_KPI_CACHE_SIZE = 1000;

/** Incremental syncs of a portal without its own schedule: every 10 minutes. */
export const DEFAULT_SYNC_CRON = '*/10 * * * *';

const BOOL_TRUE = new Set(['1', 'true', 'yes', 'on']);
const BOOL_FALSE = new Set(['0', 'false', 'no', 'off', '']);

function parseBool(name: string, raw: string | undefined): boolean {
  const v = (raw ?? '').trim().toLowerCase();
  if (BOOL_TRUE.has(v)) return true;
  if (BOOL_FALSE.has(v)) return false;
  throw new ConfigError(name, `expected one of 1/0, true/false, yes/no, on/off, got "${raw}"`);
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 3000;
  if (!/^\d+$/.test(raw)) throw new ConfigError('PORT', `expected an integer 0-65535, got "${raw}"`);
  return Number(raw);
}

function parseCount(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  return Number(raw);
}

/** Reads and validates the environment. Pure: pass `process.env` or a test object. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const blankToUndef = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());
  const port = parsePort(blankToUndef(env.PORT));
  const candidate = {
    PORT: port,
    HOST: blankToUndef(env.HOST) ?? '127.0.0.1',
    PUBLIC_URL: (blankToUndef(env.PUBLIC_URL) ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    DATABASE_URL: blankToUndef(env.DATABASE_URL) ?? 'file:./data/clinic.db',
    B24_CLIENT_ID: blankToUndef(env.B24_CLIENT_ID),
    B24_CLIENT_SECRET: blankToUndef(env.B24_CLIENT_SECRET),
    APP_SECRET: blankToUndef(env.APP_SECRET),
    ALLOW_INSECURE_PORTALS: parseBool('ALLOW_INSECURE_PORTALS', env.ALLOW_INSECURE_PORTALS),
    SYNC_CRON: blankToUndef(env.SYNC_CRON) ?? DEFAULT_SYNC_CRON,
    RECONCILE_CRON: blankToUndef(env.RECONCILE_CRON) ?? '30 3 * * *',
    LOG_LEVEL: blankToUndef(env.LOG_LEVEL) ?? 'info',
    KPI_CACHE_SIZE: parseCount('KPI_CACHE_SIZE', blankToUndef(env.KPI_CACHE_SIZE), DEFAULT_KPI_CACHE_SIZE),
  };
  for (const key of Object.keys(candidate) as (keyof typeof candidate)[]) {
    if (candidate[key] === undefined) delete candidate[key];
  }
  const firstError = Value.Errors(Env, candidate).First();
  if (firstError) {
    const variable = firstError.path.replace(/^\//, '') || 'environment';
    const shown = (candidate as Record<string, unknown>)[variable];
    throw new ConfigError(variable, `${firstError.message} (got ${JSON.stringify(shown)})`);
  }
  const demo = candidate.B24_CLIENT_ID === undefined;
  if (!demo) {
    if (!candidate.B24_CLIENT_SECRET) throw new ConfigError('B24_CLIENT_SECRET', 'required when B24_CLIENT_ID is set');
    if (!candidate.APP_SECRET)
      throw new ConfigError('APP_SECRET', 'required (at least 32 characters) when B24_CLIENT_ID is set');
  } else if (candidate.B24_CLIENT_SECRET) {
    throw new ConfigError('B24_CLIENT_ID', 'B24_CLIENT_SECRET is set but B24_CLIENT_ID is missing');
  }
  return { ...(candidate as Static<typeof Env>), demo };
}
