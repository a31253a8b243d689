// The thin layer the sync needs on top of the SDK's transport. The SDK's batch action hides the
// per-command `result_time`, `result_next` and errors that a keyset batch sync must read, so batches
// go out as plain `batch` calls through `actions.v2.call` (still the SDK's transport: its bucket,
// retries, token refresh) and this layer reads the five result maps itself. It also keeps the
// per-method operating-time budget of sub-commands (which the SDK cannot see inside a batch) and
// pauses a method until its `operating_reset_at` instead of running into 429.
import type { AbstractB24 } from '@bitrix24/b24jssdk';
import qs from 'qs';
import { needsReauth } from '../bitrix/client.js';

export interface Cmd {
  method: string;
  params: Record<string, unknown>;
}

export interface CmdResult {
  result: unknown;
  total?: number;
  next?: number;
}

export class RestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly method: string,
  ) {
    super(`${method}: ${code}: ${message}`);
    this.name = 'RestError';
  }
}

export interface RestOptions {
  /** The portal's operating budget per method, seconds per 10 minutes. */
  operatingLimitSec?: number;
  /** Pause a method when its recorded operating time comes this close to the limit. */
  operatingMarginSec?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Attempts for a request that failed transiently (after the SDK's own retries). */
  attempts?: number;
}

/** Errors worth another try: the SDK throws INTERNAL_SERVER_ERROR at once and gives up on
 *  network errors after its retries, but a sync's reads are idempotent and a run should survive a
 *  flaky minute. Authorisation problems and bad requests are not transient. */
export function isTransient(e: unknown): boolean {
  if (needsReauth(e)) return false;
  const err = e as { status?: number; code?: string };
  if (typeof err.status === 'number' && err.status >= 500) return true;
  const code = String(err.code ?? '');
  // The SDK refreshes once on expired_token; a token that expired again meanwhile needs another try.
  if (code === 'expired_token') return true;
  return /INTERNAL_SERVER_ERROR|NETWORK|TIMEOUT|ECONNRESET|QUERY_LIMIT_EXCEEDED|JSSDK_UNKNOWN_ERROR|ERR_NETWORK|ECONNREFUSED|socket/i.test(code + ' ' + String((e as Error)?.message ?? ''));
}

/** PHP-style query of one batch command (`crm.deal.list?filter%5B%3EID%5D=5&…`). */
export function commandString(c: Cmd): string {
  const q = qs.stringify(c.params, { arrayFormat: 'indices', skipNulls: true });
  return q ? `${c.method}?${q}` : c.method;
}

const asMap = (v: unknown): Record<string, unknown> =>
  Array.isArray(v) ? Object.fromEntries(v.map((x, i) => [String(i), x])) : v && typeof v === 'object' ? (v as Record<string, unknown>) : {};

export class PortalRest {
  /** HTTP requests made through this object (a batch is one). */
  requests = 0;
  /** The portal server's own time at the start of the first answer (`time.date_start`). */
  firstServerTime: string | null = null;
  private readonly budget = new Map<string, { operating: number; resetAt: number }>();
  private readonly limitSec: number;
  private readonly marginSec: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly attempts: number;

  constructor(
    private readonly b24: AbstractB24,
    opts: RestOptions = {},
  ) {
    this.limitSec = opts.operatingLimitSec ?? 480;
    this.marginSec = opts.operatingMarginSec ?? 60;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.attempts = opts.attempts ?? 6;
  }

  /** One HTTP request through the SDK, retried with exponential back-off and jitter when transient. */
  private async send<T>(method: string, params: Record<string, unknown>) {
    for (let attempt = 1; ; attempt++) {
      this.requests++;
      try {
        return await this.b24.actions.v2.call.make<T>({ method, params });
      } catch (e) {
        if (attempt >= this.attempts || !isTransient(e)) throw e;
        await this.sleep(Math.min(10_000, 250 * 2 ** attempt) * (0.75 + Math.random() / 2));
      }
    }
  }

  private noteTime(method: string, time: unknown): void {
    const t = time as { date_start?: string; operating?: number; operating_reset_at?: number } | undefined;
    if (!t) return;
    if (!this.firstServerTime && t.date_start) this.firstServerTime = t.date_start;
    if (typeof t.operating === 'number') {
      this.budget.set(method, { operating: t.operating, resetAt: t.operating_reset_at ?? Date.now() / 1000 + 60 });
    }
  }

  /** Waits while any of the methods is close to its operating-time limit. */
  private async respectBudget(methods: Iterable<string>): Promise<void> {
    for (const m of methods) {
      const b = this.budget.get(m);
      if (b && b.operating >= this.limitSec - this.marginSec) {
        const waitMs = b.resetAt * 1000 - Date.now() + 1000;
        if (waitMs > 0) await this.sleep(waitMs);
        this.budget.delete(m);
      }
    }
  }

  async call(method: string, params: Record<string, unknown> = {}): Promise<CmdResult> {
    await this.respectBudget([method]);
    const res = await this.send<unknown>(method, params);
    if (!res.isSuccess) throw new RestError('ERROR', res.getErrorMessages().join('; '), method);
    const data = res.getData()!;
    this.noteTime(method, data.time);
    const raw = data as unknown as { total?: number; next?: number };
    const total = res.getTotal();
    return { result: data.result, total: total || raw.total, next: raw.next };
  }

  /** Runs up to 50 commands in one request. Commands blocked by the operating-time limit are retried
   *  after their reset; any other command error is thrown. */
  async batch(cmds: Record<string, Cmd>): Promise<Record<string, CmdResult>> {
    const names = Object.keys(cmds);
    if (names.length > 50) throw new Error(`a batch holds at most 50 commands, got ${names.length}`);
    const out: Record<string, CmdResult> = {};
    let pending = names;
    for (let attempt = 0; pending.length > 0; attempt++) {
      await this.respectBudget(new Set(pending.map((n) => cmds[n]!.method)));
      const cmd = Object.fromEntries(pending.map((n) => [n, commandString(cmds[n]!)]));
      const res = await this.send<Record<string, unknown>>('batch', { halt: 0, cmd });
      if (!res.isSuccess) throw new RestError('ERROR', res.getErrorMessages().join('; '), 'batch');
      const maps = res.getData()!.result;
      const result = asMap(maps.result);
      const errors = asMap(maps.result_error) as Record<string, { error: string; error_description: string }>;
      const totals = asMap(maps.result_total);
      const nexts = asMap(maps.result_next);
      const times = asMap(maps.result_time);
      const retry: string[] = [];
      for (const n of pending) {
        const method = cmds[n]!.method;
        if (errors[n]) {
          if (errors[n].error === 'OPERATION_TIME_LIMIT' && attempt < 5) {
            this.budget.set(method, { operating: this.limitSec, resetAt: Date.now() / 1000 + 60 });
            retry.push(n);
            continue;
          }
          throw new RestError(errors[n].error || 'ERROR', errors[n].error_description, method);
        }
        this.noteTime(method, times[n]);
        out[n] = {
          result: result[n],
          ...(totals[n] !== undefined ? { total: Number(totals[n]) } : {}),
          ...(nexts[n] !== undefined ? { next: Number(nexts[n]) } : {}),
        };
      }
      pending = retry;
    }
    return out;
  }
}
