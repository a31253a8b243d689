// The JSON text the store writes for each field type (src/bi/connector.ts rowJson), on SQLite, where a
// column may hold any storage class: expected texts written by hand from reference §1.7's formats.
// PostgreSQL's texts are checked through the datasets in tests/integration/bi-connector.test.ts.
import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { rowJson } from '../../src/bi/connector.js';
import type { BiType } from '../../src/bi/datasets.js';

const db = new SQLite(':memory:');
afterAll(() => db.close());

/** One row of `type` values through rowJson, as the store writes it. */
function row(type: BiType, values: unknown[]): string {
  const json = rowJson('sqlite', values.map((_, i) => ({ type, sql: `p.c${i}` })));
  const cols = values.map((_, i) => `? AS c${i}`).join(', ');
  return (db.prepare(`SELECT ${json} AS j FROM (SELECT ${cols}) p`).get(...values) as { j: string }).j;
}

describe('rowJson on SQLite', () => {
  it('int: integers exact beyond 2^53, fractions truncated toward zero, texts and out-of-range reals null', () => {
    expect(row('int', [5, 7.9, -7.9, 0, 9223372036854775807n, 'abc', null, 1e300, -0.0])).toBe('[5,7,-7,0,9223372036854775807,null,null,null,0]');
  });

  it('double: shortest exact numbers, integral ones without a fraction, non-finite and texts null', () => {
    expect(row('double', [1500.0, 0.1, -0.05, 0.1 + 0.2, 3, -123.45, 2.5e-7, Infinity, -Infinity, 'x', null])).toBe(
      '[1500,0.1,-0.05,0.30000000000000004,3,-123.45,2.5e-07,null,null,null,null]',
    );
  });

  it('string: quotes, backslashes, control characters escaped; unicode as is; numbers as text', () => {
    expect(row('string', ['Имплант "Nobel" \\ 1\t2\n3\u0001 😀', 12n, 12, 1.5, '', null])).toBe('["Имплант \\"Nobel\\" \\\\ 1\\t2\\n3\\u0001 😀","12","12","1.5","",null]');
  });

  it('date and datetime: YYYY-MM-DD and YYYY-MM-DD HH:MM:SS from ISO texts', () => {
    expect(row('date', ['2026-02-28', '2026-02-28T10:11:12', '2026-03-01 09:30:00', null])).toBe('["2026-02-28","2026-02-28","2026-03-01",null]');
    expect(row('datetime', ['2026-02-28T10:11:12.345Z', '2026-02-28 10:11:12', null])).toBe('["2026-02-28 10:11:12","2026-02-28 10:11:12",null]');
  });
});
