// The datasets the connector serves to BI Builder: the clinic's fact tables, two small dimension
// tables, and two KPI tables built from the KPI registry's own SQL (so no KPI is written here twice).
//
// Naming (reference §1.7 "header semantics", §2.4, §3): dataset names are lowercase with the `clinic_`
// prefix and double as the table `code` (externalCode); field NAMEs equal their externalCodes,
// uppercase ≤ 32 characters; join keys are named as BI Builder's built-in datasets name them
// (DEAL_ID ↔ crm_deal.ID, CONTACT_ID ↔ crm_contact.ID, ASSIGNED_BY_ID ↔ user.ID, PRODUCT_ID ↔
// crm_product.ID, CATEGORY_ID/STAGE_ID ↔ crm_stages). Money is in account-currency units (roubles),
// as the KPI API gives it; the store keeps kopecks.
//
// Every field has a trusted SQL expression over the alias `f` of the dataset's source; filters and
// `select` only ever pick from these by name, and values are always bound (src/bi/filter.ts).
import { sql, type RawBuilder } from 'kysely';
import type { Dialect } from '../db/database.js';
import { addMonths, monthStart } from '../clinic/calendar.js';
import { kpiSql } from '../kpi/query.js';
import type { KpiDefinition, KpiRegistry } from '../kpi/registry.js';

export type BiType = 'int' | 'string' | 'double' | 'date' | 'datetime';

export interface BiField {
  code: string;
  /** Display name in the table description. */
  title: string;
  type: BiType;
  /** Trusted SQL over alias `f`. */
  expr: string;
}

export interface SourceContext {
  portalId: string;
  dialect: Dialect;
  /** Display names of doctors and directions (src/kpi/names.ts, per the portal's settings). */
  doctorNames: Map<string, string>;
  directionNames: Map<string, string>;
  /** Local today in the portal's zone (return windows). */
  today: string;
  /** The days the request's filter keeps `rangeField` within (src/bi/filter.ts dateRangeOf). */
  range?: { from: string | null; to: string | null };
}

export interface BiDataset {
  name: string;
  title: string;
  description: string;
  fields: BiField[];
  /** The rows as a derived table aliased `f` (already restricted to the portal). */
  source(ctx: SourceContext): RawBuilder<unknown>;
  /**
   * A unique, indexed, integer column of `f` to page by (keyset): the store is read in short
   * queries so no connection is held while a slow client reads. Absent for the small derived tables,
   * which are read in one query.
   */
  key?: string;
  /** Row order of a dataset read in one query (no key). */
  order?: string;
  /** A date field whose filtered range the source may restrict itself to (costly sources). */
  rangeField?: string;
}

const CODE = /^[A-Z][A-Z0-9_]{0,31}$/;

/** Text ids of the store as integers (ids are the portal's own numeric ids). */
const int = (col: string) => `CAST(${col} AS BIGINT)`;
const money = (col: string) => `(${col} / 100.0)`;

/** A name lookup as an inline table of bound values: id → name, joined in SQL so filters on names
 *  run in SQL like every other filter. */
function nameTable(names: Map<string, string>): RawBuilder<unknown> {
  if (names.size === 0) return sql`(SELECT CAST(NULL AS TEXT) AS id, CAST(NULL AS TEXT) AS name WHERE 1 = 0)`;
  const rows = [...names].map(([id, name]) => sql`(CAST(${id} AS TEXT), CAST(${name} AS TEXT))`);
  return sql`(SELECT v.column1 AS id, v.column2 AS name FROM (VALUES ${sql.join(rows)}) AS v)`;
}

/** The name of an id column, `#id` when the portal no longer has it (as the KPI API shows it). */
const nameOf = (idCol: string, nameCol: string) => `CASE WHEN ${idCol} IS NULL THEN NULL ELSE COALESCE(${nameCol}, '#' || ${idCol}) END`;

function fields(list: [code: string, type: BiType, expr: string, title: string][]): BiField[] {
  return list.map(([code, type, expr, title]) => ({ code, type, expr, title }));
}

const visits: BiDataset = {
  name: 'clinic_visits',
  title: 'Визиты клиники',
  description: 'One row per visit (a deal the clinic settings count as a visit), with its doctor, direction and revenue.',
  key: 'f.deal_id',
  fields: fields([
    ['VISIT_ID', 'int', 'f.deal_id', 'Визит (ID сделки)'],
    ['DEAL_ID', 'int', 'f.deal_id', 'Сделка'],
    ['VISIT_DATE', 'date', 'f.visit_date', 'Дата визита'],
    ['CONTACT_ID', 'int', 'f.patient_id', 'Пациент (контакт)'],
    ['ASSIGNED_BY_ID', 'int', int('f.doctor_id'), 'Врач (ID)'],
    ['DOCTOR_NAME', 'string', nameOf('f.doctor_id', 'f.doctor_name'), 'Врач'],
    ['DIRECTION_ID', 'int', int('f.direction_id'), 'Направление (ID)'],
    ['DIRECTION_NAME', 'string', nameOf('f.direction_id', 'f.direction_name'), 'Направление'],
    ['REVENUE', 'double', money('f.revenue_minor'), 'Выручка'],
    ['IS_FIRST_VISIT', 'int', 'f.is_first', 'Первичный визит (1/0)'],
    ['VISIT_NUMBER', 'int', 'f.visit_number', 'Номер визита пациента'],
    ['CATEGORY_ID', 'int', 'f.category_id', 'Воронка'],
    ['STAGE_ID', 'string', 'f.stage_id', 'Стадия'],
    ['SOURCE_ID', 'string', 'f.source_id', 'Источник'],
  ]),
  source: (c) => sql`(SELECT v.*, dn.name AS doctor_name, rn.name AS direction_name FROM clinic_visit v
    LEFT JOIN ${nameTable(c.doctorNames)} dn ON dn.id = v.doctor_id
    LEFT JOIN ${nameTable(c.directionNames)} rn ON rn.id = v.direction_id
    WHERE v.portal_id = ${c.portalId})`,
};

const serviceLines: BiDataset = {
  name: 'clinic_service_lines',
  title: 'Услуги в визитах',
  description: 'One row per product row of a visit: the service, its quantity, price and revenue.',
  key: 'f.row_id',
  fields: fields([
    ['ROW_ID', 'int', 'f.row_id', 'Строка товара'],
    ['DEAL_ID', 'int', 'f.deal_id', 'Сделка (визит)'],
    ['VISIT_DATE', 'date', 'f.visit_date', 'Дата визита'],
    ['PRODUCT_ID', 'int', `CASE WHEN f.service_id LIKE 'name:%' THEN NULL ELSE ${int('f.service_id')} END`, 'Товар каталога'],
    ['SERVICE_NAME', 'string', 'f.service_name', 'Услуга'],
    ['SECTION', 'string', 'f.section_name', 'Раздел каталога'],
    ['DIRECTION_ID', 'int', int('f.direction_id'), 'Направление (ID)'],
    ['QUANTITY', 'double', 'f.quantity', 'Количество'],
    ['PRICE', 'double', money('f.price_minor'), 'Цена'],
    ['REVENUE', 'double', money('f.revenue_minor'), 'Выручка'],
    ['ASSIGNED_BY_ID', 'int', int('f.doctor_id'), 'Врач (ID)'],
    ['CONTACT_ID', 'int', 'f.patient_id', 'Пациент (контакт)'],
  ]),
  // The section's name by a join (PostgreSQL memoizes the few sections; a subquery per row took
  // three times as long as the rest of the row), read in the same statement as the line.
  source: (c) => sql`(SELECT l.*, s.name AS section_name FROM clinic_service_line l
    LEFT JOIN b24_product_section s ON s.portal_id = l.portal_id AND s.id = l.section_id
    WHERE l.portal_id = ${c.portalId})`,
};

const patients: BiDataset = {
  name: 'clinic_patients',
  title: 'Пациенты клиники',
  description: 'One row per patient with at least one visit: first visit, its doctor and direction, visits and lifetime revenue.',
  key: 'f.patient_id',
  fields: fields([
    ['CONTACT_ID', 'int', 'f.patient_id', 'Пациент (контакт)'],
    ['FIRST_VISIT_DATE', 'date', 'f.first_date', 'Первый визит'],
    ['FIRST_DEAL_ID', 'int', 'f.first_deal_id', 'Сделка первого визита'],
    ['FIRST_DOCTOR_ID', 'int', int('f.first_doctor_id'), 'Врач первичного приёма'],
    ['FIRST_DIRECTION_ID', 'int', int('f.first_direction_id'), 'Направление первого визита'],
    ['VISITS', 'int', 'f.visit_count', 'Визитов'],
    ['LIFETIME_REVENUE', 'double', money('f.lifetime_revenue_minor'), 'Выручка за всё время'],
    ['LAST_VISIT_DATE', 'date', 'f.last_date', 'Последний визит'],
    ['RETURN_DAYS', 'int', 'f.return_days_clinic', 'Дней до возврата в клинику'],
    ['RETURN_DAYS_DOCTOR', 'int', 'f.return_days_doctor', 'Дней до возврата к тому же врачу'],
  ]),
  source: (c) => sql`(SELECT * FROM clinic_patient WHERE portal_id = ${c.portalId})`,
};

/** A dimension table: the ids the visits use, their names and activity span. */
function dimension(name: string, title: string, idCol: 'doctor_id' | 'direction_id', idCode: string, nameCode: string, names: (c: SourceContext) => Map<string, string>): BiDataset {
  return {
    name,
    title,
    description: `${title}: every id the visits use, its name, first and last visit and number of visits.`,
    order: 'f.id',
    fields: fields([
      [idCode, 'int', int('f.id'), `${title} (ID)`],
      [nameCode, 'string', nameOf('f.id', 'f.name'), title],
      ['FIRST_VISIT_DATE', 'date', 'f.first_date', 'Первый визит'],
      ['LAST_VISIT_DATE', 'date', 'f.last_date', 'Последний визит'],
      ['VISITS', 'int', 'f.visits', 'Визитов'],
    ]),
    source: (c) => sql`(SELECT v.id, n.name, v.first_date, v.last_date, v.visits FROM
      (SELECT ${sql.raw(idCol)} AS id, MIN(visit_date) AS first_date, MAX(visit_date) AS last_date, COUNT(*) AS visits
         FROM clinic_visit WHERE portal_id = ${c.portalId} AND ${sql.raw(idCol)} IS NOT NULL GROUP BY ${sql.raw(idCol)}) v
      LEFT JOIN ${nameTable(names(c))} n ON n.id = v.id)`,
  };
}

// ───────────── KPI tables from the registry ─────────────

/** Everything of history: the KPI queries take a half-open period. */
const ALL_TIME = { from: '0001-01-01', to: '9999-12-31' };
const GRAIN = ['month', 'doctor', 'direction'] as const;

/** `month|doctor|direction` in one text key, as the KPI files' single `{{dim}}` takes it. The month
 *  is always 10 characters, so SQL can cut the key apart again. */
function cellKey(def: KpiDefinition): string {
  const [m, d, r] = GRAIN.map((g) => `f.${def.columns[g]}`);
  return `(${m} || '|' || COALESCE(${d}, '') || '|' || COALESCE(${r}, ''))`;
}

function keyParts(dialect: Dialect, key: string): { month: string; doctor: string; direction: string } {
  const pos = (s: string) => (dialect === 'postgres' ? `strpos(${s}, '|')` : `instr(${s}, '|')`);
  const rest = `SUBSTR(${key}, 12)`;
  return {
    month: `SUBSTR(${key}, 1, 10)`,
    doctor: `NULLIF(SUBSTR(${rest}, 1, ${pos(rest)} - 1), '')`,
    direction: `NULLIF(SUBSTR(${rest}, ${pos(rest)} + 1), '')`,
  };
}

/** One column of clinic_kpi_month: which KPI query (with which parameters) and which of its output columns. */
export interface KpiColumn {
  code: string;
  title: string;
  kpi: string;
  params: Record<string, string>;
  /** Output column of the KPI query (`value` or a part); `total` = value × the count part (a mean's sum). */
  column: string;
  /** Multiply by this count column (a mean's numerator, e.g. LTV × cohort). */
  times?: string;
  money: boolean;
  /** Exact only at the row's grain (a distinct count): not to be summed across rows. */
  perRow: boolean;
}

/** Every combination of a KPI's own parameters (return_rate: days × scope). */
function paramCombos(def: KpiDefinition): Record<string, string>[] {
  let out: Record<string, string>[] = [{}];
  for (const p of def.params) out = out.flatMap((c) => p.values.map((v) => ({ ...c, [p.name]: v })));
  return out;
}

/** The output columns of a KPI query besides `dim` and `value`, read from its SELECT list. */
export function kpiParts(def: KpiDefinition): string[] {
  const select = /SELECT([\s\S]*?)\bFROM\b/i.exec(def.sql)?.[1] ?? '';
  // Output aliases end a select item (`… AS visits,`); `CAST(x AS TEXT)` inside an item does not.
  return [...select.trim().matchAll(/\b[Aa][Ss]\s+([a-z_][a-z0-9_]*)\s*(?=,|$)/g)].map((m) => m[1]!).filter((c) => c !== 'dim' && c !== 'value');
}

/**
 * The columns of clinic_kpi_month, derived from the registry: every KPI broken down by month, doctor
 * and direction (plain or ABC shape) contributes — an additive one its value; a ratio or mean the
 * parts its own query computes (`revenue_minor`, `visits`, `unique_patients`, `returned`, `cohort`…),
 * so a sum over any set of rows followed by the division gives the exact KPI; a mean with only a
 * count part (ltv) also its numerator as value × count; a non-additive count without parts
 * (unique_patients, repeat_patients) its value, marked per-row. Parts named like a KPI are that KPI's
 * column (revenue_minor → REVENUE), so a quantity appears once. KPIs with parameters get one set of
 * columns per parameter combination (RETURN_RATE_180_CLINIC_RETURNED).
 */
export function kpiMonthColumns(registry: KpiRegistry): KpiColumn[] {
  const out = new Map<string, KpiColumn>();
  const ids = new Set(registry.list().map((d) => d.id));
  const add = (c: KpiColumn) => {
    if (!CODE.test(c.code)) throw new Error(`clinic_kpi_month: column ${c.code} is not a valid BI field name`);
    if (!out.has(c.code)) out.set(c.code, c.perRow ? { ...c, title: `${c.title} (точно в пределах строки, не суммировать)` } : c);
  };
  const defs = registry
    .list()
    .filter((d) => d.shape !== 'cohort' && GRAIN.every((g) => d.dimensions.includes(g)))
    .sort((a, b) => a.id.localeCompare(b.id));
  for (const def of defs) {
    for (const params of paramCombos(def)) {
      const suffix = Object.values(params).map((v) => `_${v.toUpperCase()}`).join('');
      const prefix = `${def.id.toUpperCase()}${suffix}`;
      const label = `${def.label.ru}${Object.keys(params).length ? ` (${Object.entries(params).map(([k, v]) => `${k}=${v}`).join(', ')})` : ''}`;
      const parts = kpiParts(def);
      const money = def.unit === 'money';
      if (def.additive) {
        add({ code: prefix, title: label, kpi: def.id, params, column: 'value', money, perRow: false });
        continue;
      }
      if (parts.length === 0) {
        if (def.unit === 'count') add({ code: prefix, title: label, kpi: def.id, params, column: 'value', money: false, perRow: true });
        continue;
      }
      for (const part of parts) {
        const base = part.replace(/_minor$/, '');
        const shared = ids.has(base) && Object.keys(params).length === 0;
        const code = shared ? base.toUpperCase() : `${prefix}_${base.toUpperCase()}`;
        const perRow = shared ? !registry.get(base)!.additive : false;
        add({ code, title: shared ? registry.get(base)!.label.ru : `${label}: ${base}`, kpi: def.id, params, column: part, money: part.endsWith('_minor'), perRow });
      }
      if (parts.length === 1 && def.unit === 'money' && !parts[0]!.endsWith('_minor')) {
        add({ code: `${prefix}_TOTAL`, title: `${label}: сумма (= ${prefix} × ${parts[0]})`, kpi: def.id, params, column: 'value', times: parts[0]!, money: true, perRow: false });
      }
    }
  }
  return [...out.values()];
}

function kpiMonth(registry: KpiRegistry): BiDataset {
  const cols = kpiMonthColumns(registry);
  return {
    name: 'clinic_kpi_month',
    order: 'f.month, f.doctor_id, f.direction_id',
    // Every KPI over all history costs seconds at scale: a MONTH range in the filter narrows it to
    // the whole months it touches (a month's row is computed from that month alone).
    rangeField: 'MONTH',
    title: 'KPI клиники по месяцам',
    description:
      'KPIs by month × doctor × direction (the KPI registry at that grain): additive KPIs and the parts of every ratio, so sums over rows then division give exact ratios. Patient cohorts (LTV, return rate) are placed by the first visit.',
    fields: [
      ...fields([
        ['MONTH', 'date', 'f.month', 'Месяц'],
        ['DOCTOR_ID', 'int', int('f.doctor_id'), 'Врач (ID)'],
        ['DIRECTION_ID', 'int', int('f.direction_id'), 'Направление (ID)'],
      ]),
      ...cols.map((c, i) => ({ code: c.code, title: c.title, type: 'double' as const, expr: `f.c${i}` })),
    ],
    source: (c) => {
      const queries = new Map<string, { alias: string; def: KpiDefinition; params: Record<string, string> }>();
      for (const col of cols) {
        const id = `${col.kpi}${JSON.stringify(col.params)}`;
        if (!queries.has(id)) queries.set(id, { alias: `k${queries.size}`, def: registry.get(col.kpi)!, params: col.params });
      }
      const period = {
        from: c.range?.from ? monthStart(c.range.from) : ALL_TIME.from,
        to: c.range?.to ? addMonths(monthStart(c.range.to), 1) : ALL_TIME.to,
      };
      const ctes = [...queries.values()].map(({ alias, def, params }) => {
        const body = kpiSql(def, { portalId: c.portalId, period, by: GRAIN, dimExpr: cellKey(def), params, today: c.today });
        return sql`${sql.raw(alias)} AS (${body})`;
      });
      const aliases = [...queries.values()].map((q) => q.alias);
      const keys = aliases.map((a) => `SELECT dim FROM ${a}`).join(' UNION ');
      const joins = aliases.map((a) => `LEFT JOIN ${a} ON ${a}.dim = keys.dim`).join(' ');
      const p = keyParts(c.dialect, 'keys.dim');
      const values = cols.map((col, i) => {
        const q = queries.get(`${col.kpi}${JSON.stringify(col.params)}`)!;
        let v = `COALESCE(${q.alias}.${col.column}, 0)`;
        if (col.times) v = `ROUND(${v} * COALESCE(${q.alias}.${col.times}, 0))`;
        return `${col.money ? `(${v} / 100.0)` : `(${v} * 1.0)`} AS c${i}`;
      });
      return sql`(WITH ${sql.join(ctes)}, keys AS (${sql.raw(keys)})
        SELECT ${sql.raw(p.month)} AS month, ${sql.raw(p.doctor)} AS doctor_id, ${sql.raw(p.direction)} AS direction_id, ${sql.raw(values.join(', '))}
        FROM keys ${sql.raw(joins)})`;
    },
  };
}

function returnCohort(registry: KpiRegistry): BiDataset {
  const def = registry.get('return_cohort');
  if (!def) throw new Error('the KPI registry has no return_cohort');
  return {
    name: 'clinic_return_cohort',
    order: 'f.cohort_month, f.months_since, f.doctor_id, f.direction_id',
    title: 'Когорты возврата',
    description:
      'Patients by month of first visit × months since it, per first doctor and direction: cohort size and patients with a visit that month (RETURN_SHARE = PATIENTS / COHORT_SIZE; sum both parts before dividing).',
    fields: fields([
      ['COHORT_MONTH', 'date', 'f.cohort_month', 'Месяц первого визита'],
      ['MONTHS_SINCE', 'int', 'f.months_since', 'Месяцев с первого визита'],
      ['FIRST_DOCTOR_ID', 'int', int('f.doctor_id'), 'Врач первичного приёма'],
      ['FIRST_DIRECTION_ID', 'int', int('f.direction_id'), 'Направление первого визита'],
      ['COHORT_SIZE', 'int', 'f.cohort_size', 'Пациентов в когорте'],
      ['PATIENTS', 'int', 'f.patients', 'Пациентов с визитом в этот месяц'],
      ['RETURN_SHARE', 'double', 'f.share', 'Доля (в пределах строки)'],
    ]),
    source: (c) => {
      const p = keyParts(c.dialect, 'r.dim');
      const body = kpiSql(def, { portalId: c.portalId, period: ALL_TIME, by: GRAIN, dimExpr: cellKey(def), today: c.today });
      return sql`(WITH r AS (${body})
        SELECT ${sql.raw(p.month)} AS cohort_month, r.months_since, ${sql.raw(p.doctor)} AS doctor_id, ${sql.raw(p.direction)} AS direction_id,
               z.patients AS cohort_size, r.patients, r.patients * 1.0 / z.patients AS share
        FROM r JOIN r z ON z.dim = r.dim AND z.months_since = 0)`;
    },
  };
}

export function buildDatasets(registry: KpiRegistry): BiDataset[] {
  const list = [
    visits,
    serviceLines,
    patients,
    dimension('clinic_doctors', 'Врачи', 'doctor_id', 'DOCTOR_ID', 'DOCTOR_NAME', (c) => c.doctorNames),
    dimension('clinic_directions', 'Направления', 'direction_id', 'DIRECTION_ID', 'DIRECTION_NAME', (c) => c.directionNames),
    kpiMonth(registry),
    returnCohort(registry),
  ];
  for (const d of list) {
    if (!/^clinic_[a-z0-9_]+$/.test(d.name)) throw new Error(`dataset name ${d.name} lacks the app prefix`);
    const seen = new Set<string>();
    for (const f of d.fields) {
      if (!CODE.test(f.code) || seen.has(f.code)) throw new Error(`${d.name}: field ${f.code} is invalid or repeated`);
      seen.add(f.code);
    }
  }
  return list;
}
