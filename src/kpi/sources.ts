// What a KPI's SQL reads, as macros the runner fills for each query. They keep KPI files short and
// make them fast on a large clinic without changing a single number:
//
//   {{visit_sums}}    daily and monthly visit sums (clinic_visit_day / clinic_visit_month): the
//                     period's whole months from the month table, its partial months at either edge
//                     from the day table. By day or week: the day table only.
//   {{line_sums}}     the same for service lines (clinic_service_line / clinic_service_month).
//   {{line_visits}}   visits behind the lines: the sum of the mark that picks one line per visit in
//                     the grouping asked for (per service, per direction, per visit).
//   {{patient_sums}}  rows whose `patients` and `repeat_patients` add up to distinct patients (and
//                     those seen on a day after their first-ever visit), with `revenue_minor`.
//
// Distinct patients as sums: a patient is counted once per group (doctor, direction, source, time
// bucket, or the clinic), on their first visit in the period within the group — the visit whose
// previous visit in that group (sql/facts/visit_order.sql keeps it per split) is before the group's
// start. Periods that start on a month's first day read their whole months from clinic_patient_month
// (sql/facts/patient_month.sql) and only the days after them from visits. Groupings the precomputed
// splits do not cover (a doctor filter broken down by direction; weeks; BI's month × doctor ×
// direction) number each patient's visits in the period per group instead (a window, one sort).
import { addMonths, monthStart } from '../clinic/calendar.js';
import type { SqlParams } from '../db/sql-file.js';
import type { Period } from './period.js';
import type { Dimension, FilterName } from './registry.js';

/** Every macro a KPI file may use (the registry refuses others). */
export const KPI_MACROS = ['dim', 'filters', 'visit_sums', 'line_sums', 'line_visits', 'patient_sums'] as const;

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
const DATES = 'visit_date, visit_week, visit_month';
/** A month row has no day or week: it is only read when the query is not by day or week. */
const MONTH_DATES = 'visit_month AS visit_date, visit_month AS visit_week, visit_month';

/** Day-grain edges and month-grain middle of one fact, as a subquery with the day table's columns. */
function sums(dayTable: string, monthTable: string, columns: string, monthly: boolean): string {
  const days = (from: string, to: string) =>
    `SELECT ${columns}, ${DATES} FROM ${dayTable} WHERE portal_id = :portal AND visit_date >= ${from} AND visit_date < ${to}`;
  if (!monthly) return `(${days(':from', ':to')})`;
  const months = `SELECT ${columns}, ${MONTH_DATES} FROM ${monthTable} WHERE portal_id = :portal AND visit_month >= :months_from AND visit_month < :months_to`;
  return `(${days(':from', ':months_from')} UNION ALL ${months} UNION ALL ${days(':months_to', ':to')})`;
}

type Split = 'doctor' | 'direction' | 'source';
const SPLITS: readonly string[] = ['doctor', 'direction', 'source'] satisfies Split[];
const BUCKET: Partial<Record<Dimension, string>> = { day: 'visit_date', week: 'visit_week', month: 'visit_month' };

/** The grouping a patient count is asked for: at most one time bucket and the other dimensions. */
function grouping(q: SourceQuery): { bucket: Dimension | undefined; groups: string[] } {
  const time = q.by.filter((d) => BUCKET[d]);
  const groups = [...new Set([...q.by.filter((d) => !BUCKET[d]), ...q.filters])];
  return { bucket: time[0], groups };
}

/** Per-visit patient flags from the precomputed previous-visit and next-day dates of one split. */
function flagsBySplit(split: Split | '', bucket: Dimension | undefined, bridge: boolean): { first: string; repeat: string } {
  const s = split ? `_${split}` : '';
  const b = bucket ? `f.${BUCKET[bucket]}` : undefined;
  // The group's start: the period's, or the bucket's when that starts later.
  const start = b ? `CASE WHEN ${b} > :from THEN ${b} ELSE :from END` : ':from';
  const first = `f.patient_id IS NOT NULL AND (f.prev_date${s} IS NULL OR f.prev_date${s} < ${start})`;
  // Seen on their first-ever day only, so far: repeat when their next day in the group is in it too.
  const later =
    bucket === 'day'
      ? '1 = 0'
      : bucket === 'month'
        ? `f.second_date${s} < :to AND SUBSTR(f.second_date${s}, 1, 7) = SUBSTR(f.visit_month, 1, 7)`
        : `f.second_date${s} < :to`;
  let repeat = `(${first} AND (f.visit_date > f.first_date OR (${later})))`;
  // After whole months: a patient counted there on their first-ever day whose next day in the group
  // is one of these days is a repeat patient, counted on that next day's first visit.
  if (bridge)
    repeat += ` OR (f.visit_date = f.second_date${s} AND f.prev_date${s} = f.first_date AND f.first_date >= :from AND f.first_date < :months_to)`;
  return { first, repeat };
}

/** The period's visits flagged for any grouping by numbering each patient's visits per group. */
function visitsByWindow(groups: string[], bucket: Dimension | undefined): string {
  const partition = ['f.patient_id', ...groups.map((g) => `f.${g}_id`), ...(bucket ? [`f.${BUCKET[bucket]}`] : [])].join(', ');
  return `SELECT w.portal_id, w.doctor_id, w.direction_id, w.source_id, w.visit_date, w.visit_week, w.visit_month, w.revenue_minor,
       CASE WHEN w.patient_id IS NOT NULL AND w.n = 1 THEN 1 ELSE 0 END AS patients,
       CASE WHEN w.patient_id IS NOT NULL AND w.n = 1 AND w.later = 1 THEN 1 ELSE 0 END AS repeat_patients
     FROM (SELECT f.portal_id, f.patient_id, f.doctor_id, f.direction_id, f.source_id, f.${DATES.replaceAll(', ', ', f.')}, f.revenue_minor,
             ROW_NUMBER() OVER (PARTITION BY ${partition} ORDER BY f.visit_date, f.deal_id) AS n,
             MAX(CASE WHEN f.visit_date > f.first_date THEN 1 ELSE 0 END) OVER (PARTITION BY ${partition}) AS later
           FROM clinic_visit f WHERE f.portal_id = :portal AND f.visit_date >= :from AND f.visit_date < :to) w`;
}

function patientSums(q: SourceQuery): string {
  const { bucket, groups } = grouping(q);
  const split = groups.length === 0 ? '' : groups.length === 1 && SPLITS.includes(groups[0]!) ? (groups[0] as Split) : null;
  const { monthsFrom } = wholeMonths(q.period);
  // Whole months from clinic_patient_month: a period from a month's first day, not by day or week.
  const monthly = split !== null && monthsFrom === q.period.from && monthsFrom !== q.period.to && (!bucket || bucket === 'month');
  const visits = (from: string, flags: { first: string; repeat: string }) =>
    `SELECT f.portal_id, f.doctor_id, f.direction_id, f.source_id, f.${DATES.replaceAll(', ', ', f.')}, f.revenue_minor,
       CASE WHEN ${flags.first} THEN 1 ELSE 0 END AS patients, CASE WHEN ${flags.repeat} THEN 1 ELSE 0 END AS repeat_patients
     FROM clinic_visit f WHERE f.portal_id = :portal AND f.visit_date >= ${from} AND f.visit_date < :to`;
  if (!monthly)
    return `(${split === null || bucket === 'week' ? visitsByWindow(groups, bucket) : visits(':from', flagsBySplit(split, bucket, false))})`;
  const group = (g: Split) => (split === g ? 'group_id' : 'NULL');
  // By month each whole month is its own group; otherwise the period's first month starts them all.
  const prevBefore = bucket === 'month' ? 'visit_month' : ':from';
  const secondIn = bucket === 'month' ? 'second_month = visit_month' : 'second_month < :months_to';
  const patients = `SELECT portal_id, ${group('doctor')} AS doctor_id, ${group('direction')} AS direction_id, ${group('source')} AS source_id,
       ${MONTH_DATES}, 0 AS revenue_minor, patients, after_first_day + CASE WHEN ${secondIn} THEN patients ELSE 0 END AS repeat_patients
     FROM clinic_patient_month WHERE portal_id = :portal AND split = '${split}' AND visit_month >= :months_from AND visit_month < :months_to
       AND (prev_month IS NULL OR prev_month < ${prevBefore})`;
  const revenue = `SELECT portal_id, doctor_id, direction_id, source_id, ${MONTH_DATES}, revenue_minor, 0 AS patients, 0 AS repeat_patients
     FROM clinic_visit_month WHERE portal_id = :portal AND visit_month >= :months_from AND visit_month < :months_to`;
  const tail = visits(':months_to', flagsBySplit(split, bucket, bucket !== 'month'));
  return `(${patients} UNION ALL ${revenue} UNION ALL ${tail})`;
}

/** The source macros and their parameters for one query. */
export function sourceMacros(q: SourceQuery): { macros: Record<string, string>; binds: SqlParams } {
  const { monthsFrom, monthsTo } = wholeMonths(q.period);
  const monthly = !q.by.includes('day') && !q.by.includes('week') && monthsFrom !== q.period.to;
  const mark = q.by.includes('service')
    ? 'visit_mark_service'
    : q.by.includes('direction') || q.filters.includes('direction')
      ? 'visit_mark_direction'
      : 'visit_mark';
  return {
    macros: {
      visit_sums: sums('clinic_visit_day', 'clinic_visit_month', VISIT_COLUMNS, monthly),
      line_sums: sums('clinic_service_line', 'clinic_service_month', LINE_COLUMNS, monthly),
      line_visits: `SUM(f.${mark})`,
      patient_sums: patientSums(q),
    },
    binds: { months_from: monthsFrom, months_to: monthsTo },
  };
}
