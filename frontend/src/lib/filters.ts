// The filters every view shares, kept in the URL query (?period=last_month&cmp=1&doctor=12), and the
// API queries built from them. Pure: the router composable (useFilters) only reads and writes these.
import { PRESETS, isDate, presetRange, type Preset, type Range } from './period.js';

export interface Filters {
  preset: Preset;
  /** Only for the custom preset. */
  from?: string;
  to?: string;
  compare: boolean;
  doctor?: string;
  direction?: string;
}

export type Query = Record<string, string | string[] | null | undefined | (string | null)[]>;

export const DEFAULT_PRESET = 'last_month' satisfies Preset;

const first = (v: Query[string]): string | undefined => {
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s !== '' ? s : undefined;
};
const ID = /^[A-Za-z0-9_:.-]{1,64}$/;

export function parseFilters(q: Query): Filters {
  const p = first(q.period);
  const preset: Preset = p && (PRESETS as readonly string[]).includes(p) ? (p as Preset) : DEFAULT_PRESET;
  const from = first(q.from);
  const to = first(q.to);
  const f: Filters = { preset, compare: first(q.cmp) !== '0' };
  if (preset === 'custom') {
    if (isDate(from) && isDate(to) && from < to) Object.assign(f, { from, to });
    else f.preset = DEFAULT_PRESET;
  }
  const doctor = first(q.doctor);
  const direction = first(q.direction);
  if (doctor && ID.test(doctor)) f.doctor = doctor;
  if (direction && ID.test(direction)) f.direction = direction;
  return f;
}

/** The query that represents the filters (defaults left out, so URLs stay short). */
export function filtersQuery(f: Filters): Record<string, string> {
  const q: Record<string, string> = {};
  if (f.preset !== DEFAULT_PRESET) q.period = f.preset;
  if (f.preset === 'custom' && f.from && f.to) Object.assign(q, { from: f.from, to: f.to });
  if (!f.compare) q.cmp = '0';
  if (f.doctor) q.doctor = f.doctor;
  if (f.direction) q.direction = f.direction;
  return q;
}

export function rangeOf(f: Filters, today: string): Range {
  if (f.preset === 'custom' && f.from && f.to) return { from: f.from, to: f.to };
  const p = f.preset;
  return presetRange(p === 'custom' ? 'last_month' : p, today);
}

export interface KpiRequest {
  id: string;
  by?: 'doctor' | 'direction' | 'service' | 'source' | 'day' | 'week' | 'month';
  compare?: 'previous' | 'last_year';
  days?: number;
  scope?: 'clinic' | 'doctor';
  /** Ignore the doctor/direction filters (e.g. the clinic's own totals). */
  unfiltered?: boolean;
  /** Overrides of the filters' doctor/direction. */
  doctor?: string;
  direction?: string;
}

/** GET /api/v1/kpi/:id?… for a panel: the range and the filters, then the panel's own choices. */
export function kpiUrl(req: KpiRequest, range: Range, f: Filters, lang: string): string {
  const q = new URLSearchParams({ from: range.from, to: range.to });
  if (req.by) q.set('by', req.by);
  if (req.compare) q.set('compare', req.compare);
  const doctor = req.doctor ?? (req.unfiltered ? undefined : f.doctor);
  const direction = req.direction ?? (req.unfiltered ? undefined : f.direction);
  if (doctor) q.set('doctor', doctor);
  if (direction) q.set('direction', direction);
  if (req.days) q.set('days', String(req.days));
  if (req.scope) q.set('scope', req.scope);
  q.set('lang', lang === 'en' ? 'en' : 'ru');
  return `/api/v1/kpi/${encodeURIComponent(req.id)}?${q}`;
}
