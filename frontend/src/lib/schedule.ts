// The portal's sync schedule in words for the freshness line. Only the plain shapes are put in words
// (every N minutes, every N hours, daily); any other cron expression is told by its next run.
import type { Formatter } from './format.js';

export type ScheduleShape = { every: 'minutes' | 'hours'; n: number } | { every: 'day' } | null;

const INT = /^\d{1,2}$/;
const STEP = /^\*\/(\d{1,2})$/;

/** The shape of a cron expression (5 fields, or 6 with seconds at 0), or null when it has none of the plain ones. */
export function scheduleShape(cron: string): ScheduleShape {
  let f = cron.trim().split(/\s+/);
  if (f.length === 6 && f[0] === '0') f = f.slice(1);
  if (f.length !== 5) return null;
  const [min, hour, dom, mon, dow] = f as [string, string, string, string, string];
  if (dom !== '*' || mon !== '*' || dow !== '*') return null;
  const step = (s: string) => (s === '*' ? 1 : Number(STEP.exec(s)?.[1] ?? NaN));
  if (hour === '*' && (min === '*' || STEP.test(min))) return step(min) >= 1 ? { every: 'minutes', n: step(min) } : null;
  if (!INT.test(min) || Number(min) > 59) return null;
  if (hour === '*' || STEP.test(hour)) return step(hour) >= 1 ? { every: 'hours', n: step(hour) } : null;
  return INT.test(hour) && Number(hour) <= 23 ? { every: 'day' } : null;
}

/** The i18n key and values of the schedule's words (`fresh.*`) in the portal's locale. */
export function scheduleWords(
  schedule: { cron: string; nextAt: string | null },
  fmt: Pick<Formatter, 'locale' | 'time' | 'dateTime'>,
  now = new Date(),
): { key: string; values: Record<string, string | number> } {
  const shape = scheduleShape(schedule.cron);
  const plural = (n: number) => new Intl.PluralRules(fmt.locale).select(n);
  if (shape?.every === 'minutes') return shape.n === 1 ? { key: 'fresh.everyMinute', values: {} } : { key: `fresh.minutes.${plural(shape.n)}`, values: { n: shape.n } };
  if (shape?.every === 'hours') return shape.n === 1 ? { key: 'fresh.everyHour', values: {} } : { key: `fresh.hours.${plural(shape.n)}`, values: { n: shape.n } };
  const next = schedule.nextAt;
  if (!next) return { key: 'fresh.cron', values: { cron: schedule.cron } };
  if (shape?.every === 'day') return { key: 'fresh.daily', values: { time: fmt.time(next) } };
  const today = new Date(next).toDateString() === now.toDateString();
  return today ? { key: 'fresh.nextAt', values: { time: fmt.time(next) } } : { key: 'fresh.nextOn', values: { time: fmt.dateTime(next) } };
}
