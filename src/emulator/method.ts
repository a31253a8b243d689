// How an emulated REST method is declared. Every method lives in a `methods/*.ts` module that
// exports `MethodDef[]`; `rest.ts` routes calls (plain or inside `batch`) to them.
import type { Portal } from './portal.js';

/** Who is calling: an OAuth app token or an incoming webhook. */
export interface AuthInfo {
  kind: 'oauth' | 'webhook';
  userId: number;
  isAdmin: boolean;
  /** Scopes granted to the token or webhook. */
  scope: string[];
  /** OAuth: the app's client_id; webhook: `hook:<id>`. Key of the operating-time budget. */
  clientKey: string;
  /** OAuth only: the installed app. */
  appId?: string;
}

export interface MethodContext {
  portal: Portal;
  auth: AuthInfo;
  /** Parsed parameters (query + body, PHP bracket syntax already expanded), without `auth` and `start`. */
  params: Record<string, unknown>;
  /** The `start` parameter as the REST core hands it over (intval), or undefined when absent. */
  start: number | undefined;
  /** Lower-cased method name. */
  method: string;
}

export interface MethodResult {
  result: unknown;
  total?: number;
  next?: number;
  /**
   * Virtual run time of this call in seconds (the operating-time cost model, limits.ts).
   * Defaults to a small constant when omitted.
   */
  cost?: number;
}

export interface MethodDef {
  /** Lower-case method name, e.g. `crm.deal.list`. */
  name: string;
  /** Required scope; null for methods of the global scope (batch, profile, app.info, event.*...). */
  scope: string | null;
  /** App context only: webhooks get 403 WRONG_AUTH_TYPE. */
  appOnly?: boolean;
  handler(ctx: MethodContext): MethodResult | Promise<MethodResult>;
}

/** A REST error as Bitrix24 renders it: `{error, error_description}` with an HTTP status. */
export class RestError extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
    readonly status = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(`${code}: ${description}`);
    this.name = 'RestError';
  }
}

/** Case-insensitive parameter lookup, as legacy CRM handlers do (`filter`/`FILTER`/`Filter`). */
export function param(params: Record<string, unknown>, ...names: string[]): unknown {
  for (const n of names) {
    if (n in params) return params[n];
  }
  const lower = names.map((n) => n.toLowerCase());
  for (const [k, v] of Object.entries(params)) {
    if (lower.includes(k.toLowerCase())) return v;
  }
  return undefined;
}
