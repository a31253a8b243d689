// Local calendar arithmetic for facts and periods. Dates are 'YYYY-MM-DD' strings of the portal's
// zone; arithmetic runs on integer day numbers (days since 1970-01-01), so no SQL dialect ever does
// date math. Instants become local dates through Intl with the portal's IANA zone (DST included).

const DAY_MS = 86_400_000;
const YMD = /^(\d{4})-(\d{2})-(\d{2})$/;

/** 'YYYY-MM-DD' → day number; null when it is not a real date. */
export function dayNo(ymd: string): number | null {
  const m = YMD.exec(ymd);
  if (!m) return null;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!);
  const d = new Date(ms);
  if (d.getUTCMonth() !== +m[2]! - 1 || d.getUTCDate() !== +m[3]!) return null;
  return ms / DAY_MS;
}

export function isDate(s: string): boolean {
  return dayNo(s) !== null;
}

export function ymdOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function addDays(ymd: string, n: number): string {
  return ymdOf(dayNo(ymd)! + n);
}

/** Monday of the ISO week. */
export function weekStart(ymd: string): string {
  const day = dayNo(ymd)!;
  const weekday = (new Date(day * DAY_MS).getUTCDay() + 6) % 7; // Monday 0
  return ymdOf(day - weekday);
}

export function monthStart(ymd: string): string {
  return `${ymd.slice(0, 7)}-01`;
}

/** Year × 12 + month − 1: months apart is a subtraction. */
export function monthNo(ymd: string): number {
  return +ymd.slice(0, 4) * 12 + +ymd.slice(5, 7) - 1;
}

/** Adds months, clamping the day to the target month's length (31 Mar − 1 month = 28/29 Feb). */
export function addMonths(ymd: string, n: number): string {
  const m = monthNo(ymd) + n;
  const y = Math.floor(m / 12);
  const mo = m - y * 12;
  const last = new Date(Date.UTC(y, mo + 1, 0)).getUTCDate();
  const d = Math.min(+ymd.slice(8, 10), last);
  return `${String(y).padStart(4, '0')}-${String(mo + 1).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** The local date of an instant in a zone. */
export function localDate(instant: string | number | Date, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (!f) {
    // en-CA formats as YYYY-MM-DD.
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f.format(new Date(instant));
}

/** Today in a zone. */
export function today(timeZone: string, now: Date = new Date()): string {
  return localDate(now, timeZone);
}
