// Calendar arithmetic in the portal's zone. The generator thinks in local day numbers (days since
// 1970-01-01 in Europe/Moscow) and minutes of the local day, and only converts to epoch ms when a
// row is written: Moscow has had a fixed +03:00 offset since 2014, so no DST table is needed, and
// integer days make "same day / N days later" comparisons exact.

export const UTC_OFFSET_MIN = 180;
export const TIME_ZONE = 'Europe/Moscow';
const DAY_MS = 86_400_000;
const OFFSET_MS = UTC_OFFSET_MIN * 60_000;

/** 'YYYY-MM-DD' → local day number. */
export function dayOf(ymd: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd);
  if (!m) throw new Error(`bad date ${ymd}, expected YYYY-MM-DD`);
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!);
  const back = new Date(ms);
  if (back.getUTCMonth() !== +m[2]! - 1 || back.getUTCDate() !== +m[3]!)
    throw new Error(`no such date ${ymd}`);
  return ms / DAY_MS;
}

// Formatting dates is the hottest string work of a large run; days repeat, so cache them.
const ymdCache = new Map<number, string>();
/** Local day number → 'YYYY-MM-DD'. */
export function ymd(day: number): string {
  let s = ymdCache.get(day);
  if (s === undefined) {
    s = new Date(day * DAY_MS).toISOString().slice(0, 10);
    ymdCache.set(day, s);
  }
  return s;
}

/** Epoch ms of local `day` at `minute` past local midnight (plus optional seconds). */
export function at(day: number, minute: number, second = 0): number {
  return day * DAY_MS + minute * 60_000 + second * 1000 - OFFSET_MS;
}

/** Local day number of an instant. */
export function localDayOf(ms: number): number {
  return Math.floor((ms + OFFSET_MS) / DAY_MS);
}

/** Local hour (0–23) of an instant. */
export function localHour(ms: number): number {
  return Math.floor(((((ms + OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000);
}

/** Minute (0–59) within the local hour. */
export function localMinute(ms: number): number {
  return Math.floor(((((ms + OFFSET_MS) % 3_600_000) + 3_600_000) % 3_600_000) / 60_000);
}

/** 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

export function monthOf(day: number): number {
  return new Date(day * DAY_MS).getUTCMonth() + 1;
}

export function dayOfMonth(day: number): number {
  return new Date(day * DAY_MS).getUTCDate();
}

/** First day of the month containing `day`. */
export function monthStart(day: number): number {
  const d = new Date(day * DAY_MS);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / DAY_MS;
}

/** The clinic is closed on the New-Year holidays (1–7 January), as most Russian private clinics are. */
export function isHoliday(day: number): boolean {
  return monthOf(day) === 1 && dayOfMonth(day) <= 7;
}

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export { DAY_MS };
