// What a KPI's SQL reads, as macros the runner fills for each query. They keep KPI files short and
// make them fast on a large clinic without changing a single number:
//
//   {{visit_sums}}     daily and monthly visit sums (clinic_visit_day / clinic_visit_month): the
//                      period's whole months from the month table, its partial months at either
//                      edge from the day table. By day or week: the day table only.
//   {{line_sums}}      the same for service lines (clinic_service_line / clinic_service_month).
//   {{line_visits}}    visits behind the lines: the sum of the mark that picks one line per visit
//                      in the grouping asked for (per service, per direction, per visit).
//   {{patients}}       distinct patients of clinic_visit rows, and
//   {{repeat_patients}} distinct patients seen on a day after their first-ever visit. A patient is
//                      counted on their first visit in the period within the group: the visit
//                      whose previous visit in that group (overall, same doctor, same direction,
//                      same source — sql/facts/visit_order.sql) is before the group's start. A sum
//                      instead of COUNT(DISTINCT). Groups the precomputed splits do not cover (a
//                      doctor filter broken down by direction, weeks) fall back to COUNT(DISTINCT).
import { addMonths, monthStart } from '../clinic/calendar.js';
import type { SqlParams } from '../db/sql-file.js';
import type { Period } from './period.js';
import type { Dimension, FilterName } from './registry.js';

/** Every macro a KPI file may use (the registry refuses others). */
export const KPI_MACROS = [
  'dim',
  'filters',
  'visit_sums',
  'line_sums',
  'line_visits',
  'patients',
  'repeat_patients',
] as const;

export interface SourceQuery {
  period: Period;
  /** The dimensions rows are grouped by: none for a total, one for the API, several for BI. */
  by: readonly Dimension[];
  /** The filters applied (their values are bound elsewhere). */
  filters: readonly FilterName[];
}

/** [monthsFrom, monthsTo): the whole months inside [from, to), empty (both = to) when there are none. */
export function wholeMonths(p: Period): { monthsFrom: string; monthsTo: string } {
  const first = p.from.endsWith('-01') ? p.from : addMonths(monthStart(p.from), 1);
  const last = monthStart(p.to);
  return first < last ? { monthsFrom: first, monthsTo: last } : { monthsFrom: p.to, monthsTo: p.to };
}

const VISIT_COLUMNS = 'portal_id, doctor_id, direction_id, source_id, visits, revenue_minor, new_patients';
const LINE_COLUMNS =
  'portal_id, service_id, doctor_id, direction_id, quantity, revenue_minor, visit_mark, visit_mark_direction, visit_mark_service';

/** Day-grain edges and month-grain middle of one fact, as a subquery with the day table's columns. */
function sums(
  dayTable: string,
  monthTable: string,
  columns: string,
  byDayOrWeek: boolean,
  p: Period,
): string {
  const days = (from: string, to: string) =>
    `SELECT ${columns}, visit_date, visit_week, visit_month FROM ${dayTable} WHERE portal_id = :portal AND visit_date >= ${from} AND visit_date < ${to}`;
  if (byDayOrWeek || wholeMonths(p).monthsFrom === p.to) return `(${days(':from', ':to')})`;
  // A month row has no day or week: it is only read when the query is not by day or week.
  const months = `SELECT ${columns}, visit_month AS visit_date, visit_month AS visit_week, visit_month FROM ${monthTable} WHERE portal_id = :portal AND visit_month >= :months_from AND visit_month < :months_to`;
  return `(${days(':from', ':months_from')} UNION ALL ${months} UNION ALL ${days(':months_to', ':to')})`;
}

const SPLIT: Partial<Record<Dimension | FilterName, string>> = {
  doctor: '_doctor',
  direction: '_direction',
  source: '_source',
};
const BUCKET: Partial<Record<Dimension, string>> = {
  day: 'f.visit_date',
  week: 'f.visit_week',
  month: 'f.visit_month',
};

function patientCounts(q: SourceQuery): { patients: string; repeat_patients: string } {
  const distinct = {
    patients: 'COUNT(DISTINCT f.patient_id)',
    repeat_patients: 'COUNT(DISTINCT CASE WHEN f.visit_date > f.first_date THEN f.patient_id END)',
  };
  const time = q.by.filter((d) => BUCKET[d]);
  const groups = new Set([...q.by.filter((d) => !BUCKET[d]), ...q.filters]);
  if (groups.size > 1 || time.length > 1 || time[0] === 'week') return distinct;
  const [group] = [...groups];
  const split = group ? SPLIT[group] : '';
  if (split === undefined) return distinct;
  const bucket = time[0] ? BUCKET[time[0]] : undefined;
  // The group's start: the period's, or the bucket's when it starts later (by day or month).
  const start = bucket ? `CASE WHEN ${bucket} > :from THEN ${bucket} ELSE :from END` : ':from';
  const first = `f.patient_id IS NOT NULL AND (f.prev_date${split} IS NULL OR f.prev_date${split} < ${start})`;
  // Seen only on their first-ever day so far in the group: repeat when a later day falls in it too.
  const laterInGroup =
    time[0] === 'day'
      ? '1 = 0'
      : time[0] === 'month'
        ? `f.second_date${split} < :to AND SUBSTR(f.second_date${split}, 1, 7) = SUBSTR(f.visit_month, 1, 7)`
        : `f.second_date${split} < :to`;
  return {
    patients: `SUM(CASE WHEN ${first} THEN 1 ELSE 0 END)`,
    repeat_patients: `SUM(CASE WHEN ${first} AND (f.visit_date > f.first_date OR (${laterInGroup})) THEN 1 ELSE 0 END)`,
  };
}

/** The source macros and their parameters for one query. */
export function sourceMacros(q: SourceQuery): { macros: Record<string, string>; binds: SqlParams } {
  const byDayOrWeek = q.by.includes('day') || q.by.includes('week');
  const { monthsFrom, monthsTo } = wholeMonths(q.period);
  const mark = q.by.includes('service')
    ? 'visit_mark_service'
    : q.by.includes('direction') || q.filters.includes('direction')
      ? 'visit_mark_direction'
      : 'visit_mark';
  return {
    macros: {
      visit_sums: sums('clinic_visit_day', 'clinic_visit_month', VISIT_COLUMNS, byDayOrWeek, q.period),
      line_sums: sums('clinic_service_line', 'clinic_service_month', LINE_COLUMNS, byDayOrWeek, q.period),
      line_visits: `SUM(f.${mark})`,
      ...patientCounts(q),
    },
    binds: { months_from: monthsFrom, months_to: monthsTo },
  };
}
