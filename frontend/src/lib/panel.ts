// Each dashboard panel declares its query (a key that changes with the filters, and a loader); one
// loader tracks loading and error per panel, so a failing KPI shows one error card, never a blank
// page. The registry of panels also tells tests and the UI benchmark when every panel has settled.
import { onScopeDispose, reactive, ref, shallowRef, watch, type Ref, type ShallowRef } from 'vue';
import { ApiError } from './api.js';

export type PanelStatus = 'loading' | 'ready' | 'error' | 'not_synced';

export interface Panel<T> {
  id: string;
  status: Ref<PanelStatus>;
  data: ShallowRef<T | undefined>;
  error: Ref<string | null>;
  reload(): void;
}

/** Panels on screen: id → status (read by the shell, the browser tests and bench:ui). */
export const panels = reactive(new Map<string, PanelStatus>());

declare global {
  interface Window {
    __panels?: () => Record<string, PanelStatus>;
  }
}
if (typeof window !== 'undefined') window.__panels = () => Object.fromEntries(panels);

/** Panels waiting for the first sync retry on their own, so the page fills in when it finishes. */
const waiting = new Set<() => void>();
const NOT_SYNCED_RETRY_MS = 5000;
let retryTimer: ReturnType<typeof setInterval> | undefined;
function retryLater(reload: () => void, on: boolean) {
  if (on) waiting.add(reload);
  else waiting.delete(reload);
  if (waiting.size && !retryTimer) retryTimer = setInterval(() => [...waiting].forEach((r) => r()), NOT_SYNCED_RETRY_MS);
  if (!waiting.size && retryTimer) {
    clearInterval(retryTimer);
    retryTimer = undefined;
  }
}

export function usePanel<T>(id: string, key: () => string | null, load: (signal: AbortSignal) => Promise<T>, onSettled?: () => void): Panel<T> {
  const status = ref<PanelStatus>('loading');
  const data = shallowRef<T>();
  const error = ref<string | null>(null);
  let ctl: AbortController | undefined;
  let seq = 0;

  const run = async () => {
    ctl?.abort();
    const mine = (ctl = new AbortController());
    const n = ++seq;
    // A panel waiting for the first sync keeps saying so while it re-asks (no flicker).
    if (status.value !== 'not_synced') {
      status.value = 'loading';
      panels.set(id, 'loading');
    }
    error.value = null;
    try {
      const v = await load(mine.signal);
      if (n !== seq) return;
      data.value = v;
      status.value = 'ready';
    } catch (e) {
      if (n !== seq || mine.signal.aborted) return;
      if (e instanceof ApiError && e.code === 'not_synced') status.value = 'not_synced';
      else {
        status.value = 'error';
        error.value = e instanceof Error ? e.message : String(e);
      }
    }
    panels.set(id, status.value);
    // The first moment every panel on screen has settled (bench:ui reads it).
    if (performance.getEntriesByName('panels-settled').length === 0 && [...panels.values()].every((s) => s !== 'loading')) performance.mark('panels-settled');
    retryLater(reload, status.value === 'not_synced');
    onSettled?.();
  };
  const reload = () => void run();
  watch(key, (k) => k !== null && void run(), { immediate: true });
  onScopeDispose(() => {
    retryLater(reload, false);
    ctl?.abort();
    seq++;
    panels.delete(id);
  });
  return { id, status, data, error, reload };
}
