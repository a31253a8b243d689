// The REST core: URL forms, authentication, the envelope with its `time` block, errors with their
// HTTP statuses, limits, and `batch` with `$result[...]` references (reference §1, §3, §4, §5.4).
import type { Emulator } from './emulator.js';
import { RestError, type AuthInfo, type MethodResult } from './method.js';
import { parsePhpQuery, requestParams } from './params.js';
import { formatDateTime } from './wire.js';

export interface HttpRequestInfo {
  /** Path after `/rest/`, e.g. `crm.deal.list.json` or `1/abc123/crm.deal.list`. */
  path: string;
  query: string;
  contentType?: string;
  body?: string;
  authorization?: string;
  secure: boolean;
}

export interface HttpAnswer {
  status: number;
  json?: unknown;
  html?: string;
}

type TimeBlock = Record<string, number | string>;

interface CallOutcome {
  ok: boolean;
  result?: unknown;
  total?: number;
  next?: number;
  time?: TimeBlock;
  error?: RestError;
}

// Methods of the global scope skip the token-scope check (rest_provider.php getDescription).
const GLOBAL_SCOPE = new Set(['batch', 'scope', 'methods', 'method.get', 'server.time', 'app.info', 'profile']);

export class RestCore {
  constructor(private readonly emu: Emulator) {}

  async handle(req: HttpRequestInfo): Promise<HttpAnswer> {
    const startMs = this.emu.clock.now();
    try {
      const { webhook, method } = this.parsePath(req.path);
      const params = requestParams(req.query, req.contentType, req.body);
      const auth = this.authenticate(req, webhook, params, method);
      // The REST core consumes `auth`, `start` and `state` before the method sees its params.
      const start = takeStart(params);
      delete params.auth;
      delete params.access_token;
      delete params.state;
      if (this.emu.bucket && !this.emu.bucket.take()) {
        throw new RestError('QUERY_LIMIT_EXCEEDED', 'Too many requests', 503);
      }
      this.emu.stats.requests++;
      if (method === 'batch') return { status: 200, json: await this.batch(auth, params, startMs) };
      const out = await this.call(auth, method, params, start);
      if (!out.ok) throw out.error!;
      const body: Record<string, unknown> = { result: out.result };
      if (out.total !== undefined) body.total = out.total;
      if (out.next !== undefined) body.next = out.next;
      body.time = out.time;
      const cost = Number(out.time?.processing ?? 0);
      if (cost > this.emu.limits.maxRequestSec) {
        // The cloud front-end cuts a request off after 60 s; what it answers is UNCONFIRMED —
        // we answer as a proxy would, 504 with an HTML page.
        return { status: 504, html: '<html><body><h1>504 Gateway Time-out</h1></body></html>' };
      }
      return { status: 200, json: body };
    } catch (e) {
      return errorAnswer(e);
    }
  }

  private parsePath(path: string): { webhook?: { userId: string; code: string }; method: string } {
    const parts = path.split('/').filter(Boolean);
    const last = (parts.pop() ?? '').toLowerCase();
    // An unknown transport suffix (e.g. `.yaml`) is UNCONFIRMED; it stays part of the name and so
    // answers ERROR_METHOD_NOT_FOUND, which is what the URL router most likely does.
    const method = last.replace(/\.json$/, '');
    if (method.endsWith('.xml')) {
      throw new RestError('ERROR_METHOD_NOT_FOUND', 'Method not found! (the XML transport is not emulated)', 404);
    }
    if (parts.length === 2) return { webhook: { userId: parts[0]!, code: parts[1]! }, method };
    if (parts.length === 0) return { method };
    throw new RestError('ERROR_METHOD_NOT_FOUND', 'Method not found!', 404);
  }

  private authenticate(
    req: HttpRequestInfo,
    webhook: { userId: string; code: string } | undefined,
    params: Record<string, unknown>,
    method: string,
  ): AuthInfo {
    const portal = this.emu.portal;
    if (webhook) {
      if (this.emu.options.webhookHttpsOnly && !req.secure) {
        throw new RestError('INVALID_REQUEST', 'Https required.', 400);
      }
      const hook = portal.webhooks.get(webhook.code);
      if (!hook || String(hook.userId) !== webhook.userId) {
        // Docs say 403, the source's OAuthException default is 401 (UNCONFIRMED): we answer 401.
        throw new RestError('INVALID_CREDENTIALS', 'Invalid request credentials', 401);
      }
      const user = portal.data.table('user').get(hook.userId);
      return {
        kind: 'webhook',
        userId: hook.userId,
        isAdmin: user?.IS_ADMIN === true,
        scope: hook.scope,
        clientKey: `hook:${hook.id}`,
      };
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(req.authorization ?? '')?.[1];
    const token = bearer ?? str(params.auth) ?? str(params.access_token);
    if (!token) throw new RestError('NO_AUTH_FOUND', 'Wrong authorization data', 401);
    const at = portal.accessTokens.get(token);
    // The OAuth server's wording for an unknown token is UNCONFIRMED.
    if (!at) throw new RestError('invalid_token', 'The access token provided is invalid', 401);
    const app = portal.appByClientId(at.clientId);
    if (!app) throw new RestError('APPLICATION_NOT_FOUND', 'Application not found', 401);
    if (at.expiresAt <= this.emu.clock.now()) {
      throw new RestError('expired_token', 'The access token provided has expired', 401);
    }
    const user = portal.data.table('user').get(at.userId);
    if (user && user.ACTIVE === false) throw new RestError('authorization_error', 'Unable to authorize user', 401);
    void method;
    return {
      kind: 'oauth',
      userId: at.userId,
      isAdmin: user?.IS_ADMIN === true,
      scope: at.scope,
      clientKey: at.clientId,
      appId: at.clientId,
    };
  }

  /** One method call, plain or inside a batch: scope, app context, operating budget, time block. */
  async call(auth: AuthInfo, method: string, params: Record<string, unknown>, start: number | undefined): Promise<CallOutcome> {
    const t0 = this.emu.clock.now();
    try {
      const def = this.emu.methods.get(method);
      if (!def) throw new RestError('ERROR_METHOD_NOT_FOUND', 'Method not found!', 404);
      if (def.appOnly && auth.kind === 'webhook') {
        throw new RestError('WRONG_AUTH_TYPE', 'Current authorization type is denied for this method', 403);
      }
      if (def.scope && !GLOBAL_SCOPE.has(method) && !hasScope(auth.scope, def.scope)) {
        // Docs say 403; the source raises it through OAuthException (default 401) — UNCONFIRMED, we use 401.
        throw new RestError(
          'insufficient_scope',
          `The request requires higher privileges than provided by the ${auth.kind === 'webhook' ? 'webhook' : 'access'} token`,
          401,
        );
      }
      const budgetKey = `${auth.clientKey}|${method}`;
      if (this.emu.operating?.blocked(budgetKey)) {
        throw new RestError('OPERATION_TIME_LIMIT', 'Method is blocked due to operation time limit.', 429);
      }
      this.emu.stats.calls.set(method, (this.emu.stats.calls.get(method) ?? 0) + 1);
      const res: MethodResult = await def.handler({ portal: this.emu.portal, auth, params, start, method });
      const cost = res.cost ?? 0.01;
      this.emu.operating?.record(budgetKey, cost);
      if (this.emu.options.latency === 'cost') await sleep(cost * 1000);
      return { ok: true, result: res.result, total: res.total, next: res.next, time: this.timeBlock(t0, cost, budgetKey) };
    } catch (e) {
      return { ok: false, error: toRestError(e), time: this.timeBlock(t0, 0, undefined) };
    }
  }

  private timeBlock(t0: number, processing: number, budgetKey: string | undefined): TimeBlock {
    const off = this.emu.portal.utcOffsetMinutes;
    const finishMs = t0 + processing * 1000 + 0.2;
    const block: TimeBlock = {
      start: t0 / 1000,
      finish: finishMs / 1000,
      duration: (finishMs - t0) / 1000,
      processing,
      date_start: formatDateTime(t0, off),
      date_finish: formatDateTime(finishMs, off),
    };
    if (budgetKey && this.emu.operating) {
      const resetAt = this.emu.operating.resetAt(budgetKey);
      if (resetAt !== undefined) block.operating_reset_at = resetAt;
      block.operating = Math.round(this.emu.operating.used(budgetKey) * 1e6) / 1e6;
    }
    return block;
  }

  private async batch(auth: AuthInfo, params: Record<string, unknown>, t0: number): Promise<unknown> {
    const upper = Object.fromEntries(Object.entries(params).map(([k, v]) => [k.toUpperCase(), v]));
    const halt = ['1', 'true', 'Y'].includes(String(upper.HALT ?? '0'));
    const cmdRaw = upper.CMD;
    const listStyle = Array.isArray(cmdRaw);
    const cmds: [string, string][] = Array.isArray(cmdRaw)
      ? cmdRaw.map((c, i) => [String(i), String(c)])
      : cmdRaw && typeof cmdRaw === 'object'
        ? Object.entries(cmdRaw as Record<string, unknown>).map(([k, v]) => [k, String(v)])
        : [];
    const acc = {
      result: new Map<string, unknown>(),
      error: new Map<string, unknown>(),
      total: new Map<string, unknown>(),
      next: new Map<string, unknown>(),
      time: new Map<string, unknown>(),
    };
    for (let i = 0; i < cmds.length; i++) {
      const [name, cmd] = cmds[i]!;
      if (i >= 50) {
        acc.error.set(name, { error: 'ERROR_BATCH_LENGTH_EXCEEDED', error_description: 'Max batch length exceeded' });
        continue;
      }
      const q = cmd.indexOf('?');
      const method = (q < 0 ? cmd : cmd.slice(0, q)).trim().toLowerCase().replace(/\.json$/, '');
      const subParams = substitute(parsePhpQuery(q < 0 ? '' : cmd.slice(q + 1)), acc) as Record<string, unknown>;
      const start = takeStart(subParams);
      delete subParams.auth;
      let out: CallOutcome;
      if (method === 'batch') {
        out = {
          ok: false,
          error: new RestError('ERROR_BATCH_METHOD_NOT_ALLOWED', 'Method is not allowed for batch usage', 405),
        };
      } else {
        out = await this.call(auth, method, subParams, start);
      }
      if (out.ok) {
        acc.result.set(name, out.result);
        if (out.total !== undefined) acc.total.set(name, out.total);
        if (out.next !== undefined) acc.next.set(name, out.next);
        acc.time.set(name, out.time);
      } else {
        acc.error.set(name, { error: out.error!.code, error_description: out.error!.description, ...out.error!.extra });
        if (halt) break;
      }
    }
    const finishMs = this.emu.clock.now() + 0.2;
    const off = this.emu.portal.utcOffsetMinutes;
    return {
      result: {
        result: phpMap(acc.result, listStyle),
        result_error: phpMap(acc.error, listStyle),
        result_total: phpMap(acc.total, listStyle),
        result_next: phpMap(acc.next, listStyle),
        result_time: phpMap(acc.time, listStyle),
      },
      time: {
        start: t0 / 1000,
        finish: finishMs / 1000,
        duration: (finishMs - t0) / 1000,
        processing: (finishMs - t0) / 1000,
        date_start: formatDateTime(t0, off),
        date_finish: formatDateTime(finishMs, off),
      },
    };
  }
}

function hasScope(granted: string[], needed: string): boolean {
  if (granted.includes(needed)) return true;
  // user_brief / user_basic are narrower user scopes; any of them opens the user methods.
  if (needed === 'user') return granted.some((s) => s === 'user_brief' || s === 'user_basic');
  return false;
}

/** PHP json_encode of an array: `[]` when empty; a list when keys are exactly 0..n-1. */
function phpMap(m: Map<string, unknown>, listStyle: boolean): unknown {
  if (m.size === 0) return [];
  const keys = [...m.keys()];
  if (listStyle && keys.every((k, i) => k === String(i))) return [...m.values()];
  return Object.fromEntries(m);
}

// `$next[...]`, `$total[...]`, `$time[...]` and `$error[...]` resolve like `$result[...]`: derived from
// the source (the substitution regex is built from every accumulator key), UNCONFIRMED in the docs.
const REF = /\$(result|error|total|next|time)((?:\[[^\]]*\])+)/g;
const WHOLE_REF = /^\$(result|error|total|next|time)((?:\[[^\]]*\])+)$/;

type Acc = Record<'result' | 'error' | 'total' | 'next' | 'time', Map<string, unknown>>;

function resolveRef(acc: Acc, kind: string, path: string): unknown {
  const keys = [...path.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]!);
  const map = acc[kind as keyof Acc];
  let cur: unknown = map.get(keys[0]!);
  if (cur === undefined) return undefined;
  // A missing path element stops the walk at the last existing level (processBatchElement).
  for (const k of keys.slice(1)) {
    if (cur && typeof cur === 'object' && k in (cur as Record<string, unknown>)) {
      cur = (cur as Record<string, unknown>)[k];
    } else break;
  }
  return cur;
}

function substitute(value: unknown, acc: Acc): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_REF.exec(value);
    if (whole) {
      const v = resolveRef(acc, whole[1]!, whole[2]!);
      return v === undefined ? value : v;
    }
    return value.replace(REF, (m, kind: string, path: string) => {
      const v = resolveRef(acc, kind, path);
      return v === undefined || (v !== null && typeof v === 'object') ? m : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, acc));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [substitute(k, acc) as string, substitute(v, acc)]),
    );
  }
  return value;
}

function takeStart(params: Record<string, unknown>): number | undefined {
  if (!('start' in params)) return undefined;
  const raw = params.start;
  delete params.start;
  const n = parseInt(String(raw), 10);
  return Number.isFinite(n) ? n : 0;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function toRestError(e: unknown): RestError {
  if (e instanceof RestError) return e;
  return new RestError('INTERNAL_SERVER_ERROR', e instanceof Error ? e.message : String(e), 500);
}

export function errorAnswer(e: unknown): HttpAnswer {
  const err = toRestError(e);
  return { status: err.status, json: { error: err.code, error_description: err.description, ...err.extra } };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
