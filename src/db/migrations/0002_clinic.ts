// The clinic model: per-portal settings and plans, and the derived facts (visit, service line,
// patient) the KPIs read. Frozen in time — later changes get new migration files.
//
// Facts carry precomputed calendar keys (local day, ISO week start, month start, and integer day and
// month numbers) so KPI SQL stays the same on both dialects: no time-zone or date arithmetic in SQL.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Fact rebuilds pick up the deals a sync wrote since the last build.
  await db.schema.createIndex('b24_deal_synced').on('b24_deal').columns(['portal_id', 'synced_at']).execute();

  await db.schema
    .createTable('clinic_settings')
    .addColumn('portal_id', 'text', (c) => c.primaryKey())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'bigint')
    .execute();

  await db.schema
    .createTable('clinic_plan')
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('month', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('scope_id', 'text', (c) => c.notNull())
    .addColumn('plan_revenue_minor', 'bigint')
    .addColumn('plan_visits', 'integer')
    .addColumn('plan_new_patients', 'integer')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('clinic_plan_pk', ['portal_id', 'month', 'scope', 'scope_id'])
    .execute();

  await db.schema
    .createTable('clinic_visit')
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('deal_id', 'bigint', (c) => c.notNull())
    .addColumn('patient_id', 'bigint')
    .addColumn('doctor_id', 'text')
    .addColumn('direction_id', 'text')
    .addColumn('source_id', 'text')
    .addColumn('category_id', 'bigint', (c) => c.notNull())
    .addColumn('stage_id', 'text')
    .addColumn('visit_date', 'text', (c) => c.notNull())
    .addColumn('visit_week', 'text', (c) => c.notNull())
    .addColumn('visit_month', 'text', (c) => c.notNull())
    .addColumn('day_no', 'integer', (c) => c.notNull())
    .addColumn('month_no', 'integer', (c) => c.notNull())
    .addColumn('revenue_minor', 'bigint', (c) => c.notNull())
    .addColumn('row_count', 'integer', (c) => c.notNull())
    .addColumn('bad_rows', 'integer', (c) => c.notNull())
    .addColumn('converted', 'integer', (c) => c.notNull())
    // Set by sql/facts/patient_order.sql from the patient's whole history.
    .addColumn('visit_number', 'integer')
    .addColumn('is_first', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('first_date', 'text')
    .addColumn('months_since_first', 'integer')
    .addPrimaryKeyConstraint('clinic_visit_pk', ['portal_id', 'deal_id'])
    .execute();
  // Covering: KPI queries over a period read only this index (no row lookups), ~2.5× faster on SQLite.
  await db.schema
    .createIndex('clinic_visit_date')
    .on('clinic_visit')
    .columns(['portal_id', 'visit_date', 'doctor_id', 'direction_id', 'source_id', 'visit_week', 'visit_month', 'patient_id', 'revenue_minor', 'is_first', 'first_date'])
    .execute();
  // Covering for the cohort table's join from patients to their visits.
  await db.schema
    .createIndex('clinic_visit_patient')
    .on('clinic_visit')
    .columns(['portal_id', 'patient_id', 'months_since_first', 'day_no', 'doctor_id'])
    .execute();

  await db.schema
    .createTable('clinic_service_line')
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('row_id', 'bigint', (c) => c.notNull())
    .addColumn('deal_id', 'bigint', (c) => c.notNull())
    .addColumn('patient_id', 'bigint')
    .addColumn('doctor_id', 'text')
    .addColumn('direction_id', 'text')
    .addColumn('visit_date', 'text', (c) => c.notNull())
    .addColumn('visit_week', 'text', (c) => c.notNull())
    .addColumn('visit_month', 'text', (c) => c.notNull())
    .addColumn('service_id', 'text', (c) => c.notNull())
    .addColumn('service_name', 'text')
    .addColumn('section_id', 'bigint')
    .addColumn('quantity', 'double precision', (c) => c.notNull())
    .addColumn('price_minor', 'bigint', (c) => c.notNull())
    .addColumn('revenue_minor', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('clinic_service_line_pk', ['portal_id', 'row_id'])
    .execute();
  await db.schema
    .createIndex('clinic_service_line_date')
    .on('clinic_service_line')
    .columns(['portal_id', 'visit_date', 'service_id', 'doctor_id', 'direction_id', 'visit_week', 'visit_month', 'deal_id', 'quantity', 'revenue_minor'])
    .execute();
  await db.schema
    .createIndex('clinic_service_line_deal')
    .on('clinic_service_line')
    .columns(['portal_id', 'deal_id'])
    .execute();

  await db.schema
    .createTable('clinic_patient')
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('patient_id', 'bigint', (c) => c.notNull())
    .addColumn('first_deal_id', 'bigint', (c) => c.notNull())
    .addColumn('first_date', 'text', (c) => c.notNull())
    .addColumn('first_week', 'text', (c) => c.notNull())
    .addColumn('first_month', 'text', (c) => c.notNull())
    .addColumn('first_doctor_id', 'text')
    .addColumn('first_direction_id', 'text')
    .addColumn('first_source_id', 'text')
    .addColumn('visit_count', 'integer', (c) => c.notNull())
    .addColumn('lifetime_revenue_minor', 'bigint', (c) => c.notNull())
    .addColumn('last_date', 'text', (c) => c.notNull())
    // Days from the first visit to the next visit on a later day: any doctor, and the first doctor.
    .addColumn('return_days_clinic', 'integer')
    .addColumn('return_days_doctor', 'integer')
    .addPrimaryKeyConstraint('clinic_patient_pk', ['portal_id', 'patient_id'])
    .execute();
  await db.schema
    .createIndex('clinic_patient_first')
    .on('clinic_patient')
    .columns(['portal_id', 'first_date', 'first_doctor_id', 'first_direction_id', 'first_source_id', 'first_month', 'lifetime_revenue_minor', 'return_days_clinic', 'return_days_doctor'])
    .execute();

  // Visits summed per local day and (doctor, direction, source): the additive KPIs (revenue, visits,
  // new patients, and the average check from their sums) read a few thousand rows a year instead of
  // every visit. Kept in step with clinic_visit by sql/facts/visit_day.sql.
  await db.schema
    .createTable('clinic_visit_day')
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('visit_date', 'text', (c) => c.notNull())
    .addColumn('doctor_id', 'text')
    .addColumn('direction_id', 'text')
    .addColumn('source_id', 'text')
    .addColumn('visit_week', 'text', (c) => c.notNull())
    .addColumn('visit_month', 'text', (c) => c.notNull())
    .addColumn('visits', 'integer', (c) => c.notNull())
    .addColumn('revenue_minor', 'bigint', (c) => c.notNull())
    .addColumn('new_patients', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('clinic_visit_day_date')
    .on('clinic_visit_day')
    .columns(['portal_id', 'visit_date', 'doctor_id', 'direction_id', 'source_id', 'visit_week', 'visit_month', 'visits', 'revenue_minor', 'new_patients'])
    .execute();
  // Deals the settings count as visits that could not become one (no visit date): shown to the admin.
  await db.schema
    .createTable('clinic_rejected_deal')
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('deal_id', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('clinic_rejected_deal_pk', ['portal_id', 'deal_id'])
    .execute();

  // Days whose clinic_visit_day rows a build recomputes; emptied after each build.
  await db.schema
    .createTable('clinic_dirty_day')
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('visit_date', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('clinic_dirty_day_pk', ['portal_id', 'visit_date'])
    .execute();

  // Patients whose aggregates a build recomputes (sql/facts/ reads it); emptied after each build.
  await db.schema
    .createTable('clinic_dirty_patient')
    .addColumn('portal_id', 'text', (c) => c.notNull())
    .addColumn('patient_id', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('clinic_dirty_patient_pk', ['portal_id', 'patient_id'])
    .execute();

  await db.schema
    .createTable('clinic_build')
    .addColumn('portal_id', 'text', (c) => c.primaryKey())
    .addColumn('model_hash', 'text', (c) => c.notNull())
    .addColumn('sync_mark', 'text', (c) => c.notNull())
    .addColumn('deal_watermark', 'text')
    .addColumn('synced_at', 'text')
    .addColumn('built_at', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('deals', 'integer', (c) => c.notNull())
    .addColumn('ms', 'integer', (c) => c.notNull())
    .execute();
}
