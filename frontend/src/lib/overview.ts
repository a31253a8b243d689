// What the Обзор view asks for, as pure functions: the view and main.ts's early requests (sent while
// the registry loads and the shell mounts, so the first chart does not wait for them) use the same.
import type { Filters, KpiRequest } from './filters.js';
import { grainFor, type Range } from './period.js';
import type { KpiMeta } from './types.js';

// The owner's order of the first screen's KPIs.
const ORDER = ['revenue', 'visits', 'avg_check', 'unique_patients', 'new_patients', 'repeat_patients', 'repeat_share', 'revenue_per_patient', 'ltv'];

/** The cards: the registry's core KPIs (no parameters, by source and by day), in the owner's order. */
export function overviewCardIds(kpis: Iterable<KpiMeta>): string[] {
  return [...kpis]
    .filter((k) => k.params.length === 0 && k.dimensions.includes('source') && k.dimensions.includes('day'))
    .map((k) => k.id)
    .sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99));
}

/** The revenue trend, by the grain the range calls for. */
export function trendRequest(f: Filters, range: Range): KpiRequest {
  return { id: 'revenue', by: grainFor(range), ...(f.compare ? { compare: 'previous' as const } : {}) };
}

/** One card: its value (with the previous period when comparing), and its value a year ago. */
export function cardRequests(id: string, f: Filters): KpiRequest[] {
  return f.compare ? [{ id, compare: 'previous' }, { id, compare: 'last_year' }] : [{ id }];
}

/** The route and query of a hash URL (`#/?period=year`), before the router reads it. */
export function hashRoute(hash: string): { path: string; query: Record<string, string> } {
  const h = hash.replace(/^#/, '');
  const i = h.indexOf('?');
  const path = (i < 0 ? h : h.slice(0, i)) || '/';
  return { path, query: Object.fromEntries(new URLSearchParams(i < 0 ? '' : h.slice(i + 1))) };
}
