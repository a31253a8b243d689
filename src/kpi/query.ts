// One KPI file bound into one SQL query: the period, the grouping, the filters (bound, never pasted),
// the KPI's own parameters, and the source macros (src/kpi/sources.ts). The runner and the BI
// datasets both build their queries here, so a KPI reads the same way everywhere.
import type { RawBuilder } from 'kysely';
import { addDays } from '../clinic/calendar.js';
import { bindSql, type SqlParams } from '../db/sql-file.js';
import type { Period } from './period.js';
import { FILTERS, type Dimension, type FilterName, type KpiDefinition } from './registry.js';
import { sourceMacros } from './sources.js';

export interface KpiSqlQuery {
  portalId: string;
  period: Period;
  /** Dimensions the rows are grouped by (none: the total). */
  by: readonly Dimension[];
  /** The `{{dim}}` expression when `by` has several dimensions (BI's composite key). */
  dimExpr?: string;
  filters?: Partial<Record<FilterName, string>>;
  /** The KPI's own parameters, already validated against its header. */
  params?: Record<string, string>;
  /** The portal's local today (return-rate censoring). */
  today: string;
}

export function kpiSql(def: KpiDefinition, q: KpiSqlQuery): RawBuilder<unknown> {
  const col = (d: Dimension) => `f.${def.columns[d]}`;
  const binds: SqlParams = { portal: q.portalId, from: q.period.from, to: q.period.to, today: q.today };
  let filterSql = '';
  const applied: FilterName[] = [];
  for (const name of FILTERS) {
    const v = q.filters?.[name];
    if (v === undefined) continue;
    binds[`filter_${name}`] = v;
    filterSql += ` AND ${col(name)} = :filter_${name}`;
    applied.push(name);
  }
  const params = q.params ?? {};
  for (const [k, v] of Object.entries(params)) binds[k] = /^\d+$/.test(v) ? Number(v) : v;
  if (params.days !== undefined) binds.cutoff = addDays(q.today, -Number(params.days));
  const source = sourceMacros({ period: q.period, by: q.by, filters: applied });
  const dim = q.dimExpr ?? (q.by.length === 1 ? col(q.by[0]!) : 'f.portal_id');
  return bindSql(def.sql, { ...binds, ...source.binds }, { ...source.macros, dim, filters: filterSql });
}
