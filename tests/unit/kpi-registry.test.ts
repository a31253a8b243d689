// The KPI registry refuses what would make the catalog ambiguous or a query unsafe: duplicate ids,
// missing or unknown header values, queries without the dimension and filter slots. And the shipped
// sql/kpi files all load.
import { describe, expect, it } from 'vitest';
import { KpiRegistry, parseKpiFile, RegistryError } from '../../src/kpi/registry.js';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { bindSql } from '../../src/db/sql-file.js';

const GOOD = `-- @id revenue
-- @label.ru Выручка
-- @label.en Revenue
-- @unit money
-- @additive yes
-- @dimensions doctor, month
-- @definition Sum of visit revenue.
SELECT {{dim}} AS dim, SUM(f.revenue_minor) AS value FROM clinic_visit f
WHERE f.portal_id = :portal {{filters}} GROUP BY {{dim}}
`;

describe('KPI registry', () => {
  it('loads the shipped KPI files', () => {
    const ids = KpiRegistry.load().list().map((k) => k.id);
    expect(ids).toEqual(expect.arrayContaining(['revenue', 'visits', 'avg_check', 'unique_patients', 'new_patients', 'repeat_patients', 'repeat_share', 'revenue_per_patient', 'ltv', 'return_rate', 'return_cohort', 'service_revenue', 'quantity']));
  });

  it('parses a header', () => {
    const k = parseKpiFile(GOOD, 'revenue.sql');
    expect([k.id, k.label, k.unit, k.additive, k.dimensions, k.columns.doctor, k.emptyIsZero]).toEqual([
      'revenue',
      { ru: 'Выручка', en: 'Revenue' },
      'money',
      true,
      ['doctor', 'month'],
      'doctor_id',
      false,
    ]);
  });

  it.each([
    ['a missing label', GOOD.replace('-- @label.en Revenue\n', ''), '@label.en is missing'],
    ['an unknown unit', GOOD.replace('@unit money', '@unit euros'), '@unit "euros"'],
    ['an unknown dimension', GOOD.replace('doctor, month', 'doctor, planet'), 'unknown dimension "planet"'],
    ['a bad id', GOOD.replace('@id revenue', '@id Revenue!'), 'snake_case'],
    ['a bad column', GOOD.replace('-- @definition', '-- @columns doctor=x;drop\n-- @definition'), 'bad @columns'],
    ['a parameter default outside its values', GOOD.replace('-- @definition', '-- @param.days 30|90 = 45\n-- @definition'), '@param.days'],
    ['no dimension slot', GOOD.replace(/\{\{dim\}\}/g, 'f.doctor_id'), '{{dim}} and {{filters}}'],
    ['two queries', GOOD + ';\nSELECT 1 {{dim}} {{filters}}', 'exactly one query'],
  ])('refuses %s', (_, text, message) => {
    expect(() => parseKpiFile(text, 'x.sql')).toThrow(RegistryError);
    expect(() => parseKpiFile(text, 'x.sql')).toThrow(message);
  });

  it('refuses a duplicate id, naming both files', () => {
    expect(() => new KpiRegistry([parseKpiFile(GOOD, 'a.sql'), parseKpiFile(GOOD, 'b.sql')])).toThrow('KPI id "revenue" is defined twice: a.sql and b.sql');
  });

  it('binds parameters and refuses unknown ones', () => {
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) });
    const q = bindSql('SELECT * FROM t WHERE a = :portal AND b::text = :x', { portal: "p'; DROP TABLE t; --", x: 1 }).compile(db);
    // Values travel as parameters, never in the text; a PostgreSQL cast is not a parameter.
    expect(q.sql).toBe('SELECT * FROM t WHERE a = ? AND b::text = ?');
    expect(q.parameters).toEqual(["p'; DROP TABLE t; --", 1]);
    expect(() => bindSql('SELECT :missing', {})).toThrow('SQL parameter :missing has no value');
    expect(() => bindSql('SELECT {{dim}}', {})).toThrow('SQL macro {{dim}} has no value');
  });
});
