// Periods are half-open [from, to) in local dates of the portal (kpi.md §1). Comparisons re-run the
// same KPI over a shifted period: "previous" is the period just before of the same length — whole
// calendar months shift by months (March compares with February, not with the 31 days before) —
// and "last_year" is the same dates a year earlier.
import { addDays, addMonths, dayNo } from '../clinic/calendar.js';

export interface Period {
  from: string;
  to: string;
}

export type Comparison = 'previous' | 'last_year';

export class PeriodError extends Error {}

/** Earliest and latest dates accepted: a typo like 0202 or 20250 is an error, not a scan. */
const MIN = '1990-01-01';
const MAX = '2100-01-01';

export function parsePeriod(from: unknown, to: unknown): Period {
  for (const [name, v] of [['from', from], ['to', to]] as const)
    if (typeof v !== 'string' || dayNo(v) === null)
      throw new PeriodError(`${name} must be a date YYYY-MM-DD, got ${JSON.stringify(v)}`);
  const p = { from: from as string, to: to as string };
  if (p.from >= p.to) throw new PeriodError(`from (${p.from}) must be before to (${p.to}); to is exclusive`);
  if (p.from < MIN || p.to > MAX) throw new PeriodError(`the period must lie within ${MIN}..${MAX}`);
  return p;
}

function isMonthStart(d: string): boolean {
  return d.endsWith('-01');
}

function monthsBetween(from: string, to: string): number {
  return (+to.slice(0, 4) - +from.slice(0, 4)) * 12 + (+to.slice(5, 7) - +from.slice(5, 7));
}

/** Shifts a period for a comparison; `shiftDate` maps any date (or bucket key) inside it the same way. */
export function comparePeriod(p: Period, c: Comparison): { period: Period; shiftDate: (d: string) => string } {
  let shift: (d: string) => string;
  if (c === 'last_year') shift = (d) => addMonths(d, -12);
  else if (isMonthStart(p.from) && isMonthStart(p.to)) {
    const n = monthsBetween(p.from, p.to);
    shift = (d) => addMonths(d, -n);
  } else {
    const n = dayNo(p.to)! - dayNo(p.from)!;
    shift = (d) => addDays(d, -n);
  }
  return { period: { from: shift(p.from), to: shift(p.to) }, shiftDate: shift };
}
