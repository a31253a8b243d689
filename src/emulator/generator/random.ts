// Seeded randomness for the clinic generator. Hand-written (sfc32) so the same seed gives the
// same portal on every Node version and platform: Math.random can be neither seeded nor replayed.

/** Mixes a seed and a label into a 32-bit value, so independent parts of the generator draw from
 *  independent streams: adding a draw in one part must not reshuffle every other part. */
export function hashSeed(seed: number, label: string): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h = Math.imul(h ^ label.charCodeAt(i), 0x85ebca6b);
    h = (h ^ (h >>> 13)) >>> 0;
  }
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(
    private readonly seed: number,
    label = 'root',
  ) {
    this.a = hashSeed(seed, label + '#a');
    this.b = hashSeed(seed, label + '#b');
    this.c = hashSeed(seed, label + '#c');
    this.d = 1;
    // Warm-up: the first outputs of sfc32 still correlate with the state words.
    for (let i = 0; i < 15; i++) this.next();
  }

  /** An independent stream named `label` (same seed, same label ⇒ same stream). */
  fork(label: string): Rng {
    return new Rng(this.seed, label);
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Real in [lo, hi). */
  real(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Index drawn with probability proportional to `weights[i]`. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  /** Picks from `[value, weight]` pairs. */
  choose<T>(options: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const o of options) total += o[1];
    let x = this.next() * total;
    for (const o of options) {
      x -= o[1];
      if (x < 0) return o[0];
    }
    return options[options.length - 1]![0];
  }

  /** Exponential with the given mean (waiting times between independent events). */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** Hex string of `n` digits (call ids, external ids). */
  hex(n: number): string {
    let s = '';
    while (s.length < n)
      s += Math.floor(this.next() * 0x10000)
        .toString(16)
        .padStart(4, '0');
    return s.slice(0, n).toUpperCase();
  }
}
