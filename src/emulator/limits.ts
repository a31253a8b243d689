// Bitrix24 cloud limits, as the emulator enforces them (reference §4):
//  - a leaky bucket per portal: each HTTP request (a whole batch is one) adds 1, the level drains at
//    `drainPerSec`; a request that would lift it above `burst` gets 503 QUERY_LIMIT_EXCEEDED.
//    UNCONFIRMED whether a rejected request raises the level — we do not raise it.
//  - an operating-time budget per (client, method): ten 1-minute buckets of virtual run time;
//    calls under 0.1 s are not recorded (minimalFixTime); once the sum exceeds the limit the method
//    answers 429 OPERATION_TIME_LIMIT until buckets age out. The call that crosses the limit completes.
//  - a 60 s cap per request.
//  No Retry-After header is sent (none is documented; UNCONFIRMED).
//
// Run time is *virtual*: the cost model below says how long the real server would take, so budgets
// deplete realistically without the emulator sleeping (unless `latency: 'cost'` is chosen).

export interface Clock {
  now(): number;
}

export const wallClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand, so ten-minute windows pass in microseconds. */
export class VirtualClock implements Clock {
  constructor(private t = Date.UTC(2026, 10, 1, 9, 0, 0)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface LimitOptions {
  /** Leaky bucket; false = off. Cloud default: burst 50, 2 req/s (Enterprise: 250, 5). */
  rate: { burst: number; drainPerSec: number } | false;
  /** Operating-time budget; false = off. Cloud: 480 s per 10 min (source default 420). */
  operating: { limitSec: number; bucketSec: number; buckets: number; minimalFixSec: number } | false;
  /** A request whose virtual run time exceeds this is cut off (504). */
  maxRequestSec: number;
}

export const CLOUD_LIMITS: LimitOptions = {
  rate: { burst: 50, drainPerSec: 2 },
  operating: { limitSec: 480, bucketSec: 60, buckets: 10, minimalFixSec: 0.1 },
  maxRequestSec: 60,
};

export const NO_LIMITS: LimitOptions = { rate: false, operating: false, maxRequestSec: Infinity };

/**
 * The cost model (virtual seconds of server time for one list page). Calibrated to the documented
 * benchmark shape — a counted page over millions of rows takes seconds, a `start=-1` page ~0.1 s:
 *   base 5 ms + 0.4 ms per returned row (fetch and serialise)
 *   + 4 µs per row of the table when the page computes `total` (COUNT(*) over the filtered set)
 *   + 2 µs per skipped row of OFFSET paging (the database walks past them)
 * So a counted page costs more as the table grows, while a keyset page stays cheap at any size.
 */
export function pageCost(p: { rows: number; counted: boolean; tableSize: number; offset: number; scanned: number }): number {
  return 0.005 + 0.0004 * p.rows + (p.counted ? 0.000004 * p.tableSize : 0) + 0.000002 * p.offset;
}

/** Cost of a non-list call (get, add, update, reference lookups). */
export const SIMPLE_COST = 0.01;

export class LeakyBucket {
  private level = 0;
  private last: number;
  constructor(
    private readonly clock: Clock,
    private readonly opts: { burst: number; drainPerSec: number },
  ) {
    this.last = clock.now();
  }
  private drain(): void {
    const now = this.clock.now();
    this.level = Math.max(0, this.level - ((now - this.last) / 1000) * this.opts.drainPerSec);
    this.last = now;
  }
  /** Admits one request or answers false (503). */
  take(): boolean {
    this.drain();
    if (this.level + 1 > this.opts.burst) return false;
    this.level += 1;
    return true;
  }
  current(): number {
    this.drain();
    return this.level;
  }
  reset(): void {
    this.level = 0;
    this.last = this.clock.now();
  }
}

interface Bucket {
  /** Start of this one-minute bucket, ms. */
  start: number;
  /** First call time recorded in it, ms (operating_reset_at = this + window). */
  first: number;
  seconds: number;
}

export class OperatingBudget {
  private readonly byKey = new Map<string, Bucket[]>();
  constructor(
    private readonly clock: Clock,
    private readonly opts: { limitSec: number; bucketSec: number; buckets: number; minimalFixSec: number },
  ) {}

  private window(key: string): Bucket[] {
    const now = this.clock.now();
    const horizon = now - this.opts.bucketSec * this.opts.buckets * 1000;
    const list = (this.byKey.get(key) ?? []).filter((b) => b.start > horizon);
    this.byKey.set(key, list);
    return list;
  }

  used(key: string): number {
    return this.window(key).reduce((s, b) => s + b.seconds, 0);
  }

  blocked(key: string): boolean {
    return this.used(key) > this.opts.limitSec;
  }

  record(key: string, seconds: number): void {
    if (seconds < this.opts.minimalFixSec) return;
    const now = this.clock.now();
    const list = this.window(key);
    const bucketStart = now - (now % (this.opts.bucketSec * 1000));
    let b = list.find((x) => x.start === bucketStart);
    if (!b) {
      b = { start: bucketStart, first: now, seconds: 0 };
      list.push(b);
    }
    b.seconds += seconds;
  }

  /** Unix seconds when the oldest bucket stops counting, or undefined when nothing is recorded. */
  resetAt(key: string): number | undefined {
    const list = this.window(key);
    const oldest = list[0];
    if (!oldest) return undefined;
    return Math.floor((oldest.first + this.opts.bucketSec * this.opts.buckets * 1000) / 1000);
  }

  /** Fault injection: fill the budget of one key so its next call answers 429. */
  exhaust(key: string): void {
    const now = this.clock.now();
    const list = this.window(key);
    list.push({ start: now - (now % (this.opts.bucketSec * 1000)), first: now, seconds: this.opts.limitSec + 1 });
  }

  reset(): void {
    this.byKey.clear();
  }
}
