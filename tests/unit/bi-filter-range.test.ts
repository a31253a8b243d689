// dateRangeOf: the days a BI filter certainly keeps a date field within (a costly source narrows
// itself to them). Expected ranges worked out by hand from each filter.
import { describe, expect, it } from 'vitest';
import type { BiField } from '../../src/bi/datasets.js';
import { dateRangeOf } from '../../src/bi/filter.js';
import type { FormMap, FormValue } from '../../src/bi/form.js';

const FIELDS: Record<string, BiField> = {
  MONTH: { code: 'MONTH', title: 'Месяц', type: 'date', expr: 'f.month' },
  REVENUE: { code: 'REVENUE', title: 'Выручка', type: 'double', expr: 'f.revenue' },
};
const ctx = { dialect: 'sqlite' as const, dataset: 'clinic_kpi_month', field: (n: string) => FIELDS[n] ?? (n === 'M' ? FIELDS.MONTH : undefined) };
const form = (entries: [string, FormValue][]): FormMap => new Map(entries);
const list = (...v: string[]): FormMap => new Map(v.map((x, i) => [String(i), x]));
const range = (f: FormMap) => dateRangeOf(ctx, f, 'MONTH');

describe('BI filter date range', () => {
  it('takes the top-level ANDed bounds on the field, in any accepted date form', () => {
    expect(range(form([['>=MONTH', '01.02.2026 00:00:00'], ['<=MONTH', '31.03.2026 23:59:59']]))).toEqual({ from: '2026-02-01', to: '2026-03-31' });
    expect(range(form([['><MONTH', list('2026-02-01', '2026-03-31')]]))).toEqual({ from: '2026-02-01', to: '2026-03-31' });
    expect(range(form([['>MONTH', '2026-02-01'], ['<MONTH', '2026-04-01']]))).toEqual({ from: '2026-02-01', to: '2026-04-01' });
    expect(range(form([['@MONTH', list('2026-03-01', '2026-01-01')]]))).toEqual({ from: '2026-01-01', to: '2026-03-01' });
    // A name mapped by mapFields counts as the field; the tighter of two bounds wins.
    expect(range(form([['>=M', '2026-01-01'], ['>=MONTH', '2026-02-01'], ['<=MONTH', '2026-05-31']]))).toEqual({ from: '2026-02-01', to: '2026-05-31' });
  });

  it('says nothing from negations, OR groups, a top-level OR, other fields or IS_NULL', () => {
    const none = { from: null, to: null };
    expect(range(form([['!>=MONTH', '2026-02-01']]))).toEqual(none);
    expect(range(form([['0', form([['LOGIC', 'OR'], ['0', form([['=MONTH', '2026-01-01']])]])]]))).toEqual(none);
    expect(range(form([['LOGIC', 'OR'], ['>=MONTH', '2026-02-01'], ['>=REVENUE', '5']]))).toEqual(none);
    expect(range(form([['>=REVENUE', '5']]))).toEqual(none);
    expect(range(form([['=MONTH', '0']]))).toEqual(none);
    expect(dateRangeOf(ctx, undefined, 'MONTH')).toEqual(none);
  });
});
