// KPI results kept between two fact builds. A portal's facts change only when a build runs (after a
// sync or a settings change), so a result stays valid as long as the facts version it was computed
// from: the dashboard's panels, several users and BI previews asking the same question between two
// syncs get the answer from memory. Keys carry the portal and the version, so another portal's or an
// older version's entry is never returned; those simply age out, least recently used first.

export class ResultCache<T> {
  private readonly entries = new Map<string, T>();

  /** `capacity` 0 turns the cache off (KPI_CACHE_SIZE=0; benchmarks of the queries themselves). */
  constructor(public capacity: number) {}

  get(portalId: string, version: string, key: string): T | undefined {
    const k = `${portalId}\u0000${version}\u0000${key}`;
    const hit = this.entries.get(k);
    if (hit !== undefined) {
      // Most recently used last: a Map iterates in insertion order.
      this.entries.delete(k);
      this.entries.set(k, hit);
    }
    return hit;
  }

  set(portalId: string, version: string, key: string, value: T): void {
    if (this.capacity <= 0) return;
    this.entries.set(`${portalId}\u0000${version}\u0000${key}`, value);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(oldest);
    }
  }
}
