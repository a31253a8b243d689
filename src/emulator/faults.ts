// Fault injection for REST calls: a share of calls (seeded, so runs repeat) answer 503, 500, 502 with
// an HTML body, drop the connection, or answer slowly; `queue` forces the next N faults exactly.
export type FaultKind = 'http503' | 'http500' | 'http502' | 'drop' | 'slow';

export interface FaultOptions {
  /** Share of requests in [0, 1] per kind. */
  rates?: Partial<Record<FaultKind, number>>;
  /** Delay of a `slow` answer. */
  slowMs?: number;
  /** Only requests to these methods (lower-case) are affected; all when absent. */
  methods?: string[];
  seed?: number;
}

export class Faults {
  private opts: FaultOptions = {};
  private rng: () => number = mulberry32(1);
  private readonly queue: FaultKind[] = [];
  injected = 0;

  configure(opts: FaultOptions): void {
    this.opts = opts;
    this.rng = mulberry32(opts.seed ?? 1);
  }

  /** The next `count` REST requests fail with `kind`, whatever the rates say. */
  force(kind: FaultKind, count = 1): void {
    for (let i = 0; i < count; i++) this.queue.push(kind);
  }

  clear(): void {
    this.opts = {};
    this.queue.length = 0;
  }

  get slowMs(): number {
    return this.opts.slowMs ?? 2000;
  }

  /** Picks the fault for one request, or null. */
  pick(method: string): FaultKind | null {
    const forced = this.queue.shift();
    if (forced) {
      this.injected++;
      return forced;
    }
    const rates = this.opts.rates;
    if (!rates) return null;
    if (this.opts.methods && !this.opts.methods.includes(method)) return null;
    const r = this.rng();
    let acc = 0;
    for (const [kind, rate] of Object.entries(rates) as [FaultKind, number][]) {
      acc += rate;
      if (r < acc) {
        this.injected++;
        return kind;
      }
    }
    return null;
  }
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
