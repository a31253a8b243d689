// What every view needs once the app has started: the API client with its session, Bitrix24 around
// the page, the formatter of the portal's locale and the KPI registry.
import { inject, type InjectionKey } from 'vue';
import type { Api } from './api.js';
import type { Host } from './frame.js';
import type { Formatter } from './format.js';
import type { KpiMeta, SessionAnswer } from './types.js';

export interface AppContext {
  api: Api;
  host: Host;
  session: SessionAnswer;
  fmt: Formatter;
  lang: 'ru' | 'en';
  demo: boolean;
  /** GET /api/v1/kpi, by id. */
  kpis: Map<string, KpiMeta>;
  /** The KPI's label in the interface language (the registry's, never a hand-written list). */
  label(id: string): string;
  unit(id: string): string;
}

export const APP: InjectionKey<AppContext> = Symbol('app');

export function useApp(): AppContext {
  const ctx = inject(APP);
  if (!ctx) throw new Error('useApp() outside the app');
  return ctx;
}
