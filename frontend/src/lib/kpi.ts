// Fetching KPIs for panels: the URL from the shared filters, and the freshness of what was shown
// (every answer carries the time of the sync that produced it).
import { ref } from 'vue';
import type { Api } from './api.js';
import type { AppContext } from './context.js';
import { kpiUrl, type Filters, type KpiRequest } from './filters.js';
import type { Range } from './period.js';
import type { KpiResult } from './types.js';

/** Doctors and directions with visits (the filter bar loads them): names for captions and exports. */
export const dimensionLists = { doctor: ref<{ id: string; name: string }[]>([]), direction: ref<{ id: string; name: string }[]>([]) };

/** The newest `syncedAt` among the answers on screen (the freshness line). */
export const syncedAt = ref<string | null>(null);

/** Requests sent before the first view mounted (main.ts, while the registry loads and the shell
 *  mounts), by URL; the panel asking for the same URL takes the answer once. */
const early = new Map<string, Promise<KpiResult>>();

export function prefetchKpi(api: Api, url: string): void {
  const p = api.get<KpiResult>(url);
  p.catch(() => undefined); // the panel that takes it sees the error; unclaimed, it is dropped
  early.set(url, p);
}

export async function fetchKpi(app: AppContext, req: KpiRequest, range: Range, f: Filters, signal?: AbortSignal): Promise<KpiResult> {
  const url = kpiUrl(req, range, f, app.lang);
  const sent = early.get(url);
  early.delete(url);
  const r = await (sent ?? app.api.get<KpiResult>(url, signal));
  if (r.syncedAt && (!syncedAt.value || r.syncedAt > syncedAt.value)) syncedAt.value = r.syncedAt;
  return r;
}

/** Name of a dimension value, "Не указан" for the rows without one. */
export function dimName(v: { id: string | null; name: string | null } | undefined, none: string): string {
  return v?.name ?? v?.id ?? none;
}
