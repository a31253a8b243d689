// Fast KPI reads at scale (src/kpi/sources.ts explains how queries use these). Frozen in time.
//
// - Monthly sums beside the daily ones: a period is read as day-grain edges plus whole months, so a
//   year reads a few thousand rows instead of tens of thousands.
// - Distinct counts made additive: every visit carries the date of the same patient's previous visit
//   (overall, with the same doctor, direction, source) and the first day after the patient's first
//   visit (same splits); every service line carries marks that pick one line per visit (per visit,
//   per visit and direction, per visit and service). "Distinct patients in [from, to) by doctor" is
//   then the number of visits in the period whose previous visit with that doctor is before `from`:
//   a sum, no DISTINCT, and a sum of month rows for service lines.
// The facts are rebuilt in full on the next refresh (the new columns start empty).
import type { Kysely } from 'kysely';

const SPLITS = ['', '_doctor', '_direction', '_source'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const s of SPLITS) {
    await db.schema.alterTable('clinic_visit').addColumn(`prev_date${s}`, 'text').execute();
    await db.schema.alterTable('clinic_visit').addColumn(`second_date${s}`, 'text').execute();
  }
  await db.schema.dropIndex('clinic_visit_date').execute();
  await db.schema
    .createIndex('clinic_visit_date')
    .on('clinic_visit')
    .columns([
      'portal_id',
      'visit_date',
      'doctor_id',
      'direction_id',
      'source_id',
      'visit_week',
      'visit_month',
      'patient_id',
      'revenue_minor',
      'is_first',
      'first_date',
      ...SPLITS.flatMap((s) => [`prev_date${s}`, `second_date${s}`]),
    ])
    .execute();

  // The cohort table counts a patient's first visit of each month (prev_date before visit_month).
  await db.schema.dropIndex('clinic_visit_patient').execute();
  await db.schema
    .createIndex('clinic_visit_patient')
    .on('clinic_visit')
    .columns(['portal_id', 'patient_id', 'months_since_first', 'day_no', 'doctor_id', 'visit_month', 'prev_date'])
    .execute();

  for (const c of ['visit_mark', 'visit_mark_direction', 'visit_mark_service'])
    await db.schema
      .alterTable('clinic_service_line')
      .addColumn(c, 'integer', (col) => col.notNull().defaultTo(0))
      .execute();
  await db.schema.dropIndex('clinic_service_line_date').execute();
  await db.schema
    .createIndex('clinic_service_line_date')
    .on('clinic_service_line')
    .columns([
      'portal_id',
      'visit_date',
      'service_id',
      'doctor_id',
      'direction_id',
      'visit_week',
      'visit_month',
      'deal_id',
      'quantity',
      'revenue_minor',
      'visit_mark',
      'visit_mark_direction',
      'visit_mark_service',
    ])
    .execute();

  await db.schema
    .createTable('clinic_visit_month')
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('visit_month', 'text', (c) => c.notNull())
    .addColumn('doctor_id', 'text')
    .addColumn('direction_id', 'text')
    .addColumn('source_id', 'text')
    .addColumn('visits', 'integer', (c) => c.notNull())
    .addColumn('revenue_minor', 'bigint', (c) => c.notNull())
    .addColumn('new_patients', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('clinic_visit_month_month')
    .on('clinic_visit_month')
    .columns([
      'portal_id',
      'visit_month',
      'doctor_id',
      'direction_id',
      'source_id',
      'visits',
      'revenue_minor',
      'new_patients',
    ])
    .execute();

  await db.schema
    .createTable('clinic_service_month')
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('visit_month', 'text', (c) => c.notNull())
    .addColumn('service_id', 'text', (c) => c.notNull())
    .addColumn('doctor_id', 'text')
    .addColumn('direction_id', 'text')
    .addColumn('quantity', 'double precision', (c) => c.notNull())
    .addColumn('revenue_minor', 'bigint', (c) => c.notNull())
    .addColumn('visit_mark', 'integer', (c) => c.notNull())
    .addColumn('visit_mark_direction', 'integer', (c) => c.notNull())
    .addColumn('visit_mark_service', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('clinic_service_month_month')
    .on('clinic_service_month')
    .columns([
      'portal_id',
      'visit_month',
      'service_id',
      'doctor_id',
      'direction_id',
      'quantity',
      'revenue_minor',
      'visit_mark',
      'visit_mark_direction',
      'visit_mark_service',
    ])
    .execute();

  // Distinct patients of whole months, made additive (src/kpi/sources.ts): per split ('' = the
  // clinic, 'doctor', 'direction', 'source'), the group's id, and month, the patients whose first visit
  // of that month in the group had its previous group visit in prev_month (null: none). A period of
  // whole months [M1, M2) counts the rows with prev_month before M1. Of them, `after_first_day` were seen on
  // a day after their first-ever day; for those seen on their first-ever day, second_month is the
  // month of their next day in the group (a repeat patient when it falls inside the period).
  await db.schema
    .createTable('clinic_patient_month')
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('split', 'text', (c) => c.notNull())
    .addColumn('group_id', 'text')
    .addColumn('visit_month', 'text', (c) => c.notNull())
    .addColumn('prev_month', 'text')
    .addColumn('second_month', 'text')
    .addColumn('patients', 'integer', (c) => c.notNull())
    .addColumn('after_first_day', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('clinic_patient_month_month')
    .on('clinic_patient_month')
    .columns(['portal_id', 'split', 'visit_month', 'group_id', 'prev_month', 'second_month', 'patients', 'after_first_day'])
    .execute();
  // Months whose clinic_patient_month rows a build recomputes; emptied after each build.
  await db.schema
    .createTable('clinic_dirty_month')
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('visit_month', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('clinic_dirty_month_pk', ['portal_id', 'visit_month'])
    .execute();

  // No build record: the next refresh of every portal is full and fills the new columns and tables.
  await db.deleteFrom('clinic_build' as never).execute();
}
