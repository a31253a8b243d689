// The KPI registry: every sql/kpi/*.sql file, its header checked at start. A duplicate id, an unknown
// unit or dimension, or a missing label refuses to start — the dashboard API, the BI datasets and the
// manifest all read this list, so no KPI is listed by hand twice.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSqlFile, SQL_DIR } from '../db/sql-file.js';
import { KPI_MACROS } from './sources.js';

export const UNITS = ['money', 'count', 'percent', 'days', 'hours'] as const;
export type Unit = (typeof UNITS)[number];

/** Every dimension a KPI may be broken down by, and the fact column it reads by default. */
export const DIMENSIONS = {
  doctor: 'doctor_id',
  direction: 'direction_id',
  service: 'service_id',
  source: 'source_id',
  day: 'visit_date',
  week: 'visit_week',
  month: 'visit_month',
} as const;
export type Dimension = keyof typeof DIMENSIONS;
export const TIME_DIMENSIONS: readonly Dimension[] = ['day', 'week', 'month'];
/** Dimensions that can also filter (`doctor=`, `direction=`). */
export const FILTERS = ['doctor', 'direction'] as const;
export type FilterName = (typeof FILTERS)[number];

export interface KpiParam {
  name: string;
  values: string[];
  default: string;
}

export interface KpiDefinition {
  id: string;
  label: { ru: string; en: string };
  unit: Unit;
  additive: boolean;
  dimensions: Dimension[];
  definition: string;
  /** Fact column per dimension (the header's @columns overrides the defaults). */
  columns: Record<Dimension, string>;
  params: KpiParam[];
  /** 'cohort': rows are (cohort month, months since) cells the runner pivots; 'abc': service ranking. */
  shape: 'plain' | 'cohort' | 'abc';
  /** `@empty 0`: a period without visits is 0 (sums, counts); otherwise null (ratios, means). */
  emptyIsZero: boolean;
  sql: string;
  file: string;
}

export class RegistryError extends Error {}

const ID = /^[a-z][a-z0-9_]{1,40}$/;
const COLUMN = /^[a-z][a-z0-9_]{0,40}$/;

export function parseKpiFile(text: string, file: string): KpiDefinition {
  const f = parseSqlFile(text, file);
  const h = f.header;
  const need = (key: string) => {
    const v = h.get(key);
    if (!v) throw new RegistryError(`${file}: header @${key} is missing`);
    return v;
  };
  const id = need('id');
  if (!ID.test(id)) throw new RegistryError(`${file}: @id "${id}" must be lowercase snake_case`);
  const unit = need('unit') as Unit;
  if (!UNITS.includes(unit)) throw new RegistryError(`${file}: @unit "${unit}" is not one of ${UNITS.join(', ')}`);
  const additive = need('additive');
  if (additive !== 'yes' && additive !== 'no') throw new RegistryError(`${file}: @additive must be yes or no`);
  const dimensions = need('dimensions')
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean) as Dimension[];
  for (const d of dimensions)
    if (!(d in DIMENSIONS)) throw new RegistryError(`${file}: unknown dimension "${d}" in @dimensions`);
  const columns: Record<Dimension, string> = { ...DIMENSIONS };
  for (const pair of (h.get('columns') ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const [dim, col] = pair.split('=').map((s) => s.trim());
    if (!dim || !(dim in DIMENSIONS) || !col || !COLUMN.test(col))
      throw new RegistryError(`${file}: bad @columns entry "${pair}" (want dimension=column)`);
    columns[dim as Dimension] = col;
  }
  const params: KpiParam[] = [];
  for (const [key, value] of h)
    if (key.startsWith('param.')) {
      const m = /^([a-z0-9|]+)\s*=\s*([a-z0-9]+)$/.exec(value);
      if (!m || !m[1]!.split('|').includes(m[2]!))
        throw new RegistryError(`${file}: @${key} must read "v1|v2|... = default", got "${value}"`);
      params.push({ name: key.slice('param.'.length), values: m[1]!.split('|'), default: m[2]! });
    }
  const shape = (h.get('shape') ?? 'plain') as KpiDefinition['shape'];
  if (!['plain', 'cohort', 'abc'].includes(shape)) throw new RegistryError(`${file}: unknown @shape "${shape}"`);
  const empty = h.get('empty') ?? 'null';
  if (empty !== '0' && empty !== 'null') throw new RegistryError(`${file}: @empty must be 0 or null`);
  if (f.statements.length !== 1) throw new RegistryError(`${file}: a KPI file holds exactly one query`);
  const sql = f.statements[0]!;
  if (!/\{\{dim\}\}/.test(sql) || !/\{\{filters\}\}/.test(sql))
    throw new RegistryError(`${file}: the query must use {{dim}} and {{filters}}`);
  for (const m of sql.matchAll(/\{\{([a-z_]+)\}\}/g))
    if (!(KPI_MACROS as readonly string[]).includes(m[1]!))
      throw new RegistryError(`${file}: unknown macro {{${m[1]}}}; known: ${KPI_MACROS.join(', ')}`);
  return {
    id,
    label: { ru: need('label.ru'), en: need('label.en') },
    unit,
    additive: additive === 'yes',
    dimensions,
    definition: need('definition'),
    columns,
    params,
    shape,
    emptyIsZero: empty === '0',
    sql,
    file,
  };
}

export class KpiRegistry {
  private readonly byId = new Map<string, KpiDefinition>();

  constructor(defs: KpiDefinition[]) {
    for (const d of defs) {
      const dup = this.byId.get(d.id);
      if (dup) throw new RegistryError(`KPI id "${d.id}" is defined twice: ${dup.file} and ${d.file}`);
      this.byId.set(d.id, d);
    }
  }

  /** Loads every .sql file of a directory (default sql/kpi). */
  static load(dir = join(SQL_DIR, 'kpi')): KpiRegistry {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .sort();
    return new KpiRegistry(files.map((f) => parseKpiFile(readFileSync(join(dir, f), 'utf8'), join(dir, f))));
  }

  get(id: string): KpiDefinition | undefined {
    return this.byId.get(id);
  }

  list(): KpiDefinition[] {
    return [...this.byId.values()];
  }
}
