// Row types of every table, as Kysely sees them. Conventions (both dialects):
//  - every table carries `portal_id` (the portal's member_id) as the first key column;
//  - money is integer minor units (kopecks) in `*_minor` columns — never binary floats;
//  - instants are ISO 8601 UTC strings (`2026-01-05T10:00:00.000Z`), calendar days `YYYY-MM-DD`;
//  - JSON (user-field values, problems) is stored as text.
import type { ColumnType, Generated } from 'kysely';

type Json = string;

export interface PortalTable {
  portal_id: string;
  domain: string;
  client_endpoint: string;
  server_endpoint: string | null;
  auth_kind: 'oauth' | 'webhook';
  scope: string;
  /** The installing / webhook user. */
  user_id: number | null;
  /** Encrypted at rest (src/db/secrets.ts). */
  access_token: string | null;
  refresh_token: string | null;
  /** Unix seconds. */
  expires_at: number | null;
  webhook_url: string | null;
  application_token: string | null;
  /** Bumped on every token change; a refresh only persists if nobody refreshed in between. */
  token_version: number;
  status: 'active' | 'needs_reauth' | 'uninstalled';
  status_reason: string | null;
  created_at: string;
  updated_at: string;
}

/** Fields every mirrored CRM row has. */
interface Mirrored {
  portal_id: string;
  id: number;
  /** JSON list of problems found in the portal's row (unparsable date, unknown stage, ...). */
  problems: Json | null;
  synced_at: string;
}

export interface DealTable extends Mirrored {
  title: string | null;
  type_id: string | null;
  category_id: number;
  stage_id: string | null;
  stage_semantic_id: string | null;
  currency_id: string | null;
  opportunity_minor: number | null;
  is_manual_opportunity: string | null;
  contact_id: number | null;
  company_id: number | null;
  lead_id: number | null;
  assigned_by_id: number | null;
  source_id: string | null;
  begindate: string | null;
  closedate: string | null;
  date_create: string | null;
  date_modify: string | null;
  moved_time: string | null;
  closed: string | null;
  /** All UF_CRM_* values of the deal as a JSON object. */
  uf: Json;
}

export interface ProductRowTable extends Mirrored {
  deal_id: number;
  product_id: number | null;
  product_name: string | null;
  price_minor: number;
  price_account_minor: number | null;
  quantity: number;
  discount_type_id: number | null;
  discount_rate: number | null;
  discount_sum_minor: number | null;
  tax_rate: number | null;
  tax_included: string | null;
  measure_name: string | null;
  sort: number | null;
  type: number | null;
}

/** Patients. No names, phones or e-mails unless the portal's settings turn patient names on. */
export interface ContactTable extends Mirrored {
  type_id: string | null;
  source_id: string | null;
  company_id: number | null;
  lead_id: number | null;
  assigned_by_id: number | null;
  birthdate: string | null;
  date_create: string | null;
  date_modify: string | null;
  /** Only when settings allow patient names. */
  name: string | null;
  last_name: string | null;
  second_name: string | null;
  uf: Json;
}

export interface UserTable extends Mirrored {
  active: number;
  name: string | null;
  last_name: string | null;
  second_name: string | null;
  work_position: string | null;
  user_type: string | null;
  /** JSON array of department ids. */
  departments: Json;
}

export interface DepartmentTable extends Mirrored {
  name: string | null;
  parent_id: number | null;
  sort: number | null;
  head_id: number | null;
}

export interface PipelineTable extends Mirrored {
  name: string;
  sort: number | null;
  is_default: number;
}

/** crm.status directories: deal stages (DEAL_STAGE, DEAL_STAGE_n), SOURCE, DEAL_TYPE, lead STATUS... */
export interface StatusTable {
  portal_id: string;
  entity_id: string;
  status_id: string;
  name: string;
  sort: number | null;
  category_id: number | null;
  /** 'P' in progress, 'S' success, 'F' failure. */
  semantics: string;
  color: string | null;
  synced_at: string;
}

export interface CurrencyTable {
  portal_id: string;
  currency: string;
  amount_cnt: number;
  /** Rate: `amount` account-currency units for `amount_cnt` units of this currency. */
  amount: number;
  base: number;
  sort: number | null;
  synced_at: string;
}

export interface ProductTable extends Mirrored {
  name: string | null;
  section_id: number | null;
  price_minor: number | null;
  currency_id: string | null;
  active: string | null;
}

export interface ProductSectionTable extends Mirrored {
  name: string | null;
  parent_id: number | null;
  catalog_id: number | null;
}

export interface UserFieldTable {
  portal_id: string;
  entity_id: string;
  field_name: string;
  user_type_id: string;
  multiple: number;
  label: string | null;
  /** Enumeration items `[{id, value, sort}]` as JSON. */
  enum_items: Json;
  synced_at: string;
}

export interface SyncRunTable {
  id: Generated<number>;
  portal_id: string;
  mode: 'full' | 'incremental' | 'events' | 'reconcile';
  status: 'running' | 'finished' | 'failed';
  started_at: string;
  finished_at: string | null;
  requests: number;
  /** Per entity {fetched, upserted, deleted} as JSON. */
  entities: Json;
  error: string | null;
}

/** Where a run stands per entity: committed in the same transaction as each page. */
export interface SyncCheckpointTable {
  portal_id: string;
  entity: string;
  /** Keyset cursor of a full load in progress (last committed ID), null when done. */
  cursor: number | null;
  /** Incremental watermark: the portal server's time at the start of the last successful pass. */
  watermark: string | null;
  run_id: number | null;
  updated_at: string;
}

/** One sync per portal at a time, across processes and instances. */
export interface SyncLeaseTable {
  portal_id: string;
  holder: string;
  expires_at: ColumnType<number, number, number>;
}

// ---- the clinic model (src/clinic/): settings, plans and facts derived from the mirror ----

export interface ClinicSettingsTable {
  portal_id: string;
  /** ClinicSettings as JSON (src/clinic/settings.ts validates it). */
  settings: Json;
  version: number;
  updated_at: string;
  updated_by: number | null;
}

/** Monthly plan for the clinic, one direction or one doctor (scope_id '' for the clinic). */
export interface ClinicPlanTable {
  portal_id: string;
  /** 'YYYY-MM' */
  month: string;
  scope: 'clinic' | 'direction' | 'doctor';
  scope_id: string;
  plan_revenue_minor: number | null;
  plan_visits: number | null;
  plan_new_patients: number | null;
  updated_at: string;
}

/** A visit: a deal the settings count as one (kpi.md §1). Dates are local to the portal. */
export interface ClinicVisitTable {
  portal_id: string;
  deal_id: number;
  patient_id: number | null;
  /** Portal user id (or enum item id) as text; null = "Не указан". */
  doctor_id: string | null;
  direction_id: string | null;
  source_id: string | null;
  category_id: number;
  stage_id: string | null;
  visit_date: string;
  /** Monday of the ISO week, 'YYYY-MM-DD'. */
  visit_week: string;
  /** First day of the month, 'YYYY-MM-01'. */
  visit_month: string;
  /** Days since 1970-01-01 and months since year 0 (year × 12 + month − 1): date math in plain integers. */
  day_no: number;
  month_no: number;
  revenue_minor: number;
  row_count: number;
  /** Rows with zero or negative price or quantity (kept, flagged). */
  bad_rows: number;
  /** 1 when an amount was converted from another currency. */
  converted: number;
  visit_number: number | null;
  is_first: number;
  first_date: string | null;
  months_since_first: number | null;
  /**
   * The same patient's previous visit date (order: date, deal id) — overall, and among their visits
   * with the same doctor, direction, source; and the first date after first_date, with the same
   * splits. They make distinct patient counts sums (src/kpi/sources.ts). Null without a patient.
   */
  prev_date: string | null;
  prev_date_doctor: string | null;
  prev_date_direction: string | null;
  prev_date_source: string | null;
  second_date: string | null;
  second_date_doctor: string | null;
  second_date_direction: string | null;
  second_date_source: string | null;
}

export interface ClinicServiceLineTable {
  portal_id: string;
  row_id: number;
  deal_id: number;
  patient_id: number | null;
  doctor_id: string | null;
  direction_id: string | null;
  visit_date: string;
  visit_week: string;
  visit_month: string;
  /** Catalog product id, or `name:<product name>` for a row without a catalog product. */
  service_id: string;
  service_name: string | null;
  section_id: number | null;
  quantity: number;
  /** Unit price in the account currency. */
  price_minor: number;
  revenue_minor: number;
  /**
   * 1 on exactly one line of each visit, of each (visit, direction), of each (visit, service): summing
   * a mark counts the visits behind lines without DISTINCT, and month sums stay exact.
   */
  visit_mark: number;
  visit_mark_direction: number;
  visit_mark_service: number;
}

export interface ClinicPatientTable {
  portal_id: string;
  patient_id: number;
  first_deal_id: number;
  first_date: string;
  first_week: string;
  first_month: string;
  first_doctor_id: string | null;
  first_direction_id: string | null;
  first_source_id: string | null;
  visit_count: number;
  lifetime_revenue_minor: number;
  last_date: string;
  return_days_clinic: number | null;
  return_days_doctor: number | null;
}

/** clinic_visit summed per local day and (doctor, direction, source). */
export interface ClinicVisitDayTable {
  portal_id: string;
  visit_date: string;
  doctor_id: string | null;
  direction_id: string | null;
  source_id: string | null;
  visit_week: string;
  visit_month: string;
  visits: number;
  revenue_minor: number;
  /** Visits that are a patient's first-ever visit. */
  new_patients: number;
}

/** clinic_visit_day summed per month: what whole months of a period read. */
export interface ClinicVisitMonthTable {
  portal_id: string;
  visit_month: string;
  doctor_id: string | null;
  direction_id: string | null;
  source_id: string | null;
  visits: number;
  revenue_minor: number;
  new_patients: number;
}

/** clinic_service_line summed per month and (service, doctor, direction), marks included. */
export interface ClinicServiceMonthTable {
  portal_id: string;
  visit_month: string;
  service_id: string;
  doctor_id: string | null;
  direction_id: string | null;
  quantity: number;
  revenue_minor: number;
  visit_mark: number;
  visit_mark_direction: number;
  visit_mark_service: number;
}

/** Distinct patients of whole months, additive (migration 0005 explains the columns). */
export interface ClinicPatientMonthTable {
  portal_id: string;
  /** '' (the clinic), 'doctor', 'direction' or 'source'. */
  split: string;
  group_id: string | null;
  visit_month: string;
  prev_month: string | null;
  second_month: string | null;
  patients: number;
  after_first_day: number;
}

export interface ClinicDirtyMonthTable {
  portal_id: string;
  visit_month: string;
}

/** A deal in a visit stage that could not become a visit, and why ('no_date'). */
export interface ClinicRejectedDealTable {
  portal_id: string;
  deal_id: number;
  reason: string;
}

export interface ClinicDirtyDayTable {
  portal_id: string;
  visit_date: string;
}

export interface ClinicDirtyPatientTable {
  portal_id: string;
  patient_id: number;
}

/** What the facts of a portal were last built from. */
export interface ClinicBuildTable {
  portal_id: string;
  /** Hash of the effective settings and the reference data they read (stages, currencies...). */
  model_hash: string;
  /** The latest sync run the build saw (id and status): a new one means a refresh is due. */
  sync_mark: string;
  /** Highest b24_deal.synced_at the build has seen. */
  deal_watermark: string | null;
  /** When the data the facts reflect was synced (finish of the latest finished run). */
  synced_at: string | null;
  built_at: string;
  kind: 'full' | 'incremental';
  deals: number;
  ms: number;
}

export interface Database {
  portal: PortalTable;
  b24_deal: DealTable;
  b24_product_row: ProductRowTable;
  b24_contact: ContactTable;
  b24_user: UserTable;
  b24_department: DepartmentTable;
  b24_pipeline: PipelineTable;
  b24_status: StatusTable;
  b24_currency: CurrencyTable;
  b24_product: ProductTable;
  b24_product_section: ProductSectionTable;
  b24_user_field: UserFieldTable;
  sync_run: SyncRunTable;
  sync_checkpoint: SyncCheckpointTable;
  sync_lease: SyncLeaseTable;
  clinic_settings: ClinicSettingsTable;
  clinic_plan: ClinicPlanTable;
  clinic_visit: ClinicVisitTable;
  clinic_service_line: ClinicServiceLineTable;
  clinic_patient: ClinicPatientTable;
  clinic_visit_day: ClinicVisitDayTable;
  clinic_visit_month: ClinicVisitMonthTable;
  clinic_service_month: ClinicServiceMonthTable;
  clinic_patient_month: ClinicPatientMonthTable;
  clinic_dirty_month: ClinicDirtyMonthTable;
  clinic_dirty_day: ClinicDirtyDayTable;
  clinic_rejected_deal: ClinicRejectedDealTable;
  clinic_dirty_patient: ClinicDirtyPatientTable;
  clinic_build: ClinicBuildTable;
}
