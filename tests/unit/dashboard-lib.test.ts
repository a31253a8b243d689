// The dashboard's pure parts: period presets, the URL filters and the KPI queries built from them,
// ru-RU formatting (null is "нет данных", shares as percent, changes of shares in percentage points),
// table sorting, CSV export, and chart options.
import { describe, expect, it } from 'vitest';
import { paretoOptions, paretoSeries, trendOptions } from '../../frontend/src/lib/charts.js';
import { fileName, toCsv } from '../../frontend/src/lib/export.js';
import { filtersQuery, kpiUrl, parseFilters, rangeOf } from '../../frontend/src/lib/filters.js';
import { createFormatter } from '../../frontend/src/lib/format.js';
import { grainFor, presetRange, rangeLabel } from '../../frontend/src/lib/period.js';
import type { Api } from '../../frontend/src/lib/api.js';
import type { AppContext } from '../../frontend/src/lib/context.js';
import { fetchKpi, prefetchKpi } from '../../frontend/src/lib/kpi.js';
import { cardRequests, hashRoute, overviewCardIds, trendRequest } from '../../frontend/src/lib/overview.js';
import { planKey, scopeOf, splitScope } from '../../frontend/src/lib/plans.js';
import { scheduleShape, scheduleWords } from '../../frontend/src/lib/schedule.js';
import { sortRows, type Column } from '../../frontend/src/lib/table.js';

const fmt = createFormatter('ru-RU', 'нет данных', 'п. п.');
const nb = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('period presets', () => {
  const today = '2026-11-23'; // a Monday
  it('are half-open local ranges', () => {
    expect(presetRange('today', today)).toEqual({ from: '2026-11-23', to: '2026-11-24' });
    expect(presetRange('week', '2026-11-26')).toEqual({ from: '2026-11-23', to: '2026-11-27' });
    expect(presetRange('month', today)).toEqual({ from: '2026-11-01', to: '2026-11-24' });
    expect(presetRange('last_month', today)).toEqual({ from: '2026-10-01', to: '2026-11-01' });
    expect(presetRange('last_month', '2026-01-15')).toEqual({ from: '2025-12-01', to: '2026-01-01' });
    expect(presetRange('quarter', today)).toEqual({ from: '2026-10-01', to: '2026-11-24' });
    expect(presetRange('year', today)).toEqual({ from: '2026-01-01', to: '2026-11-24' });
    expect(presetRange('last_12m', today)).toEqual({ from: '2025-11-01', to: '2026-11-01' });
  });
  it('pick the trend grain by length and label the file period with the inclusive end', () => {
    expect(grainFor({ from: '2026-10-01', to: '2026-11-01' })).toBe('day');
    expect(grainFor({ from: '2026-08-01', to: '2026-11-01' })).toBe('week');
    expect(grainFor({ from: '2025-11-01', to: '2026-11-01' })).toBe('month');
    expect(rangeLabel({ from: '2026-10-01', to: '2026-11-01' })).toBe('2026-10-01_2026-10-31');
  });
});

describe('URL filters', () => {
  it('round-trip through the query, defaults left out', () => {
    const f = parseFilters({ period: 'custom', from: '2026-01-01', to: '2026-02-01', cmp: '0', doctor: '12', direction: '3' });
    expect(f).toEqual({ preset: 'custom', from: '2026-01-01', to: '2026-02-01', compare: false, doctor: '12', direction: '3' });
    expect(parseFilters(filtersQuery(f))).toEqual(f);
    expect(filtersQuery(parseFilters({}))).toEqual({});
  });
  it('refuse what is not a filter', () => {
    expect(parseFilters({ period: 'forever', doctor: '<script>' })).toEqual({ preset: 'last_month', compare: true });
    expect(parseFilters({ period: 'custom', from: '2026-02-01', to: '2026-01-01' }).preset).toBe('last_month');
  });
  it('build the KPI query from the range, filters and the panel’s choices', () => {
    const f = parseFilters({ period: 'last_month', doctor: '7' });
    const r = rangeOf(f, '2026-11-23');
    expect(kpiUrl({ id: 'return_rate', by: 'direction', days: 90, scope: 'doctor' }, r, f, 'ru')).toBe(
      '/api/v1/kpi/return_rate?from=2026-10-01&to=2026-11-01&by=direction&doctor=7&days=90&scope=doctor&lang=ru',
    );
    expect(kpiUrl({ id: 'visits', by: 'doctor', unfiltered: true }, r, f, 'en')).toBe('/api/v1/kpi/visits?from=2026-10-01&to=2026-11-01&by=doctor&lang=en');
  });
});

describe('formatting (ru-RU)', () => {
  it('writes money, counts and shares as Russians read them; null is "нет данных", never 0', () => {
    expect(nb(fmt.money(1234567.4))).toBe('1 234 567 ₽');
    expect(nb(fmt.count(3368))).toBe('3 368');
    expect(nb(fmt.percent(0.883))).toBe('88,3 %');
    expect(fmt.value(null, 'money')).toBe('нет данных');
    expect(fmt.value(0, 'count')).toBe('0');
  });
  it('writes changes signed, shares in percentage points', () => {
    expect(nb(fmt.delta(-132.4, 'money'))).toBe('−132 ₽');
    expect(nb(fmt.delta(367, 'count'))).toBe('+367');
    expect(nb(fmt.delta(-0.006, 'percent'))).toBe('−0,6 п. п.');
    expect(nb(fmt.deltaPct(0.107))).toBe('+10,7 %');
  });
});

describe('tables and exports', () => {
  interface R { name: string; v: number | null }
  const cols: Column<R>[] = [
    { key: 'name', label: 'Услуга', value: (r) => r.name },
    { key: 'v', label: 'Выручка', unit: 'money', value: (r) => r.v },
  ];
  const rows: R[] = [{ name: 'Б', v: 2 }, { name: 'а', v: null }, { name: 'В', v: 10 }];
  it('sort numbers numerically and text by the locale, empty values last', () => {
    expect(sortRows(rows, cols[1], 'desc', 'ru-RU').map((r) => r.name)).toEqual(['В', 'Б', 'а']);
    expect(sortRows(rows, cols[1], 'asc', 'ru-RU').map((r) => r.name)).toEqual(['Б', 'В', 'а']);
    expect(sortRows(rows, cols[0], 'asc', 'ru-RU').map((r) => r.name)).toEqual(['а', 'Б', 'В']);
  });
  it('CSV: ; separated with a BOM, numbers unformatted, quoting and no formula injection', () => {
    const csv = toCsv({ name: 'uslugi', period: '2026-10-01_2026-10-31', caption: [], columns: cols, rows: [{ name: '=HYPERLINK("x")', v: 1.5 }, { name: 'a;b', v: null }] });
    expect(csv).toBe('\uFEFFУслуга;Выручка\r\n"\'=HYPERLINK(""x"")";1.5\r\n"a;b";\r\n');
    expect(fileName('uslugi', '2026-10-01_2026-10-31', 'xlsx')).toBe('uslugi_2026-10-01_2026-10-31.xlsx');
  });
});

describe('chart options', () => {
  it('trend: axis labels in the locale, money on the y axis', () => {
    const o = trendOptions(fmt, ['2026-10-01', '2026-10-02'], 'day') as any;
    expect(o.xaxis.categories).toEqual(['1 окт.', '2 окт.']);
    expect(nb(o.yaxis.labels.formatter(1500))).toBe('1 500 ₽');
  });
  it('pareto: the top services by revenue with the cumulative share on the second axis', () => {
    const { categories, series } = paretoSeries(
      [
        { name: 'a', revenue: 10, cumShare: 1 },
        { name: 'b', revenue: 50, cumShare: 0.5 },
        { name: 'c', revenue: 40, cumShare: 0.9 },
      ],
      ['Выручка', 'Доля'],
      2,
    );
    expect(categories).toEqual(['b', 'c']);
    expect(series.map((s) => s.data)).toEqual([[50, 40], [0.5, 0.9]]);
    const o = paretoOptions(fmt, categories, ['Выручка', 'Доля']) as any;
    expect(o.yaxis[1]).toMatchObject({ seriesName: 'Доля', opposite: true, max: 1 });
  });
});

describe('the sync schedule in words', () => {
  it('recognises only the plain shapes of cron expressions', () => {
    expect(scheduleShape('*/10 * * * *')).toEqual({ every: 'minutes', n: 10 });
    expect(scheduleShape('0 */10 * * * *')).toEqual({ every: 'minutes', n: 10 }); // seconds field at 0
    expect(scheduleShape('* * * * *')).toEqual({ every: 'minutes', n: 1 });
    expect(scheduleShape('7 * * * *')).toEqual({ every: 'hours', n: 1 });
    expect(scheduleShape('0 */4 * * *')).toEqual({ every: 'hours', n: 4 });
    expect(scheduleShape('30 3 * * *')).toEqual({ every: 'day' });
    for (const other of ['30 8 * * 1-5', '0,30 * * * *', '*/0 * * * *', '0 9 1 * *', '*/10 * * * * *', 'whenever', '61 * * * *', '0 9-18 * * *'])
      expect(scheduleShape(other), other).toBeNull();
  });
  it('picks the words (with Russian plural forms) or the next run', () => {
    const now = new Date('2026-01-05T10:00:00');
    expect(scheduleWords({ cron: '*/21 * * * *', nextAt: null }, fmt, now)).toEqual({ key: 'fresh.minutes.one', values: { n: 21 } });
    expect(scheduleWords({ cron: '*/3 * * * *', nextAt: null }, fmt, now)).toEqual({ key: 'fresh.minutes.few', values: { n: 3 } });
    expect(scheduleWords({ cron: '0 */12 * * *', nextAt: null }, fmt, now)).toEqual({ key: 'fresh.hours.many', values: { n: 12 } });
    const later = new Date('2026-01-05T14:20:00').toISOString();
    expect(scheduleWords({ cron: '20 14 * * 1-5', nextAt: later }, fmt, now)).toEqual({ key: 'fresh.nextAt', values: { time: '14:20' } });
    const monday = new Date('2026-01-12T08:30:00').toISOString();
    expect(scheduleWords({ cron: '30 8 * * 1', nextAt: monday }, fmt, now)).toEqual({ key: 'fresh.nextOn', values: { time: fmt.dateTime(monday) } });
    expect(scheduleWords({ cron: '30 8 * * 1', nextAt: null }, fmt, now)).toEqual({ key: 'fresh.cron', values: { cron: '30 8 * * 1' } });
  });
});

describe('Обзор’s requests, sent early', () => {
  const meta = (id: string, dimensions: string[], params: unknown[] = []) => ({ id, label: { ru: id, en: id }, unit: 'count', additive: true, dimensions, params, definition: '' }) as never;
  it('the cards are the core KPIs in the owner’s order; the trend’s grain follows the range', () => {
    const kpis = [meta('ltv', ['source', 'day']), meta('return_rate', ['doctor'], [{ name: 'days' }]), meta('visits', ['source', 'day']), meta('zeta', ['source', 'day']), meta('revenue', ['source', 'day', 'doctor']), meta('service_revenue', ['service'])];
    expect(overviewCardIds(kpis)).toEqual(['revenue', 'visits', 'ltv', 'zeta']);
    const f = parseFilters({});
    expect(trendRequest(f, { from: '2026-01-01', to: '2026-02-01' })).toEqual({ id: 'revenue', by: 'day', compare: 'previous' });
    expect(trendRequest({ ...f, compare: false }, { from: '2025-01-01', to: '2026-01-01' })).toEqual({ id: 'revenue', by: 'month' });
    expect(cardRequests('visits', f)).toEqual([{ id: 'visits', compare: 'previous' }, { id: 'visits', compare: 'last_year' }]);
    expect(cardRequests('visits', { ...f, compare: false })).toEqual([{ id: 'visits' }]);
    expect(hashRoute('#/?period=year&doctor=12')).toEqual({ path: '/', query: { period: 'year', doctor: '12' } });
    expect(hashRoute('')).toEqual({ path: '/', query: {} });
    expect(hashRoute('#/doctors/5')).toEqual({ path: '/doctors/5', query: {} });
  });
  it('a panel takes the answer of the same request sent early, once; the next one asks again', async () => {
    const asked: string[] = [];
    const api = { get: async (url: string) => (asked.push(url), { total: { value: asked.length }, rows: [], syncedAt: '2026-01-05T09:05:00Z' }) } as unknown as Api;
    const app = { api, lang: 'ru' } as AppContext;
    const f = parseFilters({});
    const range = { from: '2026-01-01', to: '2026-02-01' };
    prefetchKpi(api, kpiUrl(trendRequest(f, range), range, f, 'ru'));
    expect(asked).toHaveLength(1);
    expect((await fetchKpi(app, trendRequest(f, range), range, f)).total.value).toBe(1);
    expect(asked).toHaveLength(1);
    expect((await fetchKpi(app, trendRequest(f, range), range, f)).total.value).toBe(2);
    expect(asked).toEqual([asked[0], asked[0]]);
    expect(asked[0]).toBe('/api/v1/kpi/revenue?from=2026-01-01&to=2026-02-01&by=day&compare=previous&lang=ru');
  });
});

describe('plan scopes in the Настройки form', () => {
  it('a scope goes to the select and back, ids with colons included; rows are keyed per scope and month', () => {
    for (const p of [{ scope: 'clinic', scopeId: '' }, { scope: 'direction', scopeId: '3' }, { scope: 'doctor', scopeId: 'user:12' }] as const) {
      expect(splitScope(scopeOf(p))).toEqual([p.scope, p.scopeId]);
    }
    expect(splitScope('nonsense:5')).toEqual(['clinic', '']);
    expect(planKey({ month: '2026-03', scope: 'doctor', scopeId: '12' })).not.toBe(planKey({ month: '2026-03', scope: 'direction', scopeId: '12' }));
  });
});
