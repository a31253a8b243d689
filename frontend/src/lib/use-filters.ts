// The shared filters as a composable over the router's query: views read `filters`/`range`, the filter
// bar writes through `update`, and every change is a new URL (so it survives reloads and can be sent).
import { computed } from 'vue';
import { useRoute, useRouter } from 'vue-router';
import { filtersQuery, parseFilters, rangeOf, type Filters, type Query } from './filters.js';
import { localToday } from './period.js';

export function useFilters() {
  const route = useRoute();
  const router = useRouter();
  const filters = computed(() => parseFilters(route.query as Query));
  const range = computed(() => rangeOf(filters.value, localToday()));
  /** The view's own query (days, scope, …) is kept; the shared filters are replaced. */
  const update = (patch: Partial<Filters>) => {
    const own = Object.fromEntries(Object.entries(route.query).filter(([k]) => !['period', 'from', 'to', 'cmp', 'doctor', 'direction'].includes(k)));
    const next = { ...filters.value, ...patch };
    for (const k of ['doctor', 'direction', 'from', 'to'] as const) if (next[k] === undefined || next[k] === '') delete next[k];
    return router.replace({ query: { ...own, ...filtersQuery(next) } });
  };
  const setParam = (name: string, value: string | undefined) => router.replace({ query: { ...route.query, [name]: value } });
  return { filters, range, update, setParam, route };
}
