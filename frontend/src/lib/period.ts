// Period presets of the filter bar as half-open local-date ranges [from, to), the way the API takes
// them. Pure functions of "today" so tests can pin it.

export const PRESETS = ['today', 'week', 'month', 'last_month', 'quarter', 'year', 'last_12m', 'custom'] as const;
export type Preset = (typeof PRESETS)[number];
export type Grain = 'day' | 'week' | 'month';

export interface Range {
  from: string;
  to: string;
}

const pad = (n: number) => String(n).padStart(2, '0');
export const iso = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
/** A local date as a UTC midnight Date (calendar arithmetic without time zones). */
export const day = (s: string) => new Date(`${s}T00:00:00Z`);
export const addDays = (s: string, n: number) => iso(new Date(day(s).getTime() + n * 86_400_000));
export function addMonths(s: string, n: number): string {
  const d = day(s);
  return iso(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, d.getUTCDate())));
}
export const isDate = (s: unknown): s is string => typeof s === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(day(s).getTime());

/** The browser's local date (the portal's zone is what the API buckets by; a day's difference at midnight is accepted). */
export function localToday(now = new Date()): string {
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

export function presetRange(preset: Exclude<Preset, 'custom'>, today: string): Range {
  const d = day(today);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const tomorrow = addDays(today, 1);
  const monthStart = iso(new Date(Date.UTC(y, m, 1)));
  switch (preset) {
    case 'today':
      return { from: today, to: tomorrow };
    case 'week': {
      const dow = (d.getUTCDay() + 6) % 7; // ISO week: Monday first
      return { from: addDays(today, -dow), to: tomorrow };
    }
    case 'month':
      return { from: monthStart, to: tomorrow };
    case 'last_month':
      return { from: addMonths(monthStart, -1), to: monthStart };
    case 'quarter':
      return { from: iso(new Date(Date.UTC(y, m - (m % 3), 1))), to: tomorrow };
    case 'year':
      return { from: `${y}-01-01`, to: tomorrow };
    case 'last_12m':
      return { from: addMonths(monthStart, -12), to: monthStart };
  }
}

export function daysIn(r: Range): number {
  return Math.round((day(r.to).getTime() - day(r.from).getTime()) / 86_400_000);
}

/** The trend's bucket for a range: days up to a month, weeks up to ~4 months, months beyond. */
export function grainFor(r: Range): Grain {
  const n = daysIn(r);
  return n <= 31 ? 'day' : n <= 120 ? 'week' : 'month';
}

/** The period the file name and the freshness line show: "2026-10-01_2026-10-31" (inclusive end). */
export function rangeLabel(r: Range): string {
  return `${r.from}_${addDays(r.to, -1)}`;
}
