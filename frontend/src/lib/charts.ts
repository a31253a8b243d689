// ApexCharts options as pure functions of the data, in Bitrix24's colours and type. Components only
// render what these return.
import type { Formatter } from './format.js';

export const B24 = {
  blue: '#2fc6f6',
  darkBlue: '#2067b0',
  green: '#9dcf00',
  orange: '#ffa900',
  red: '#ff5752',
  grey: '#a8adb4',
  text: '#525c69',
  grid: '#edeef0',
  font: '"Open Sans", "Helvetica Neue", Helvetica, Arial, sans-serif',
};

export type Options = Record<string, unknown>;

const base = (fmt: Formatter): Options => ({
  chart: { fontFamily: B24.font, toolbar: { show: false }, zoom: { enabled: false }, animations: { enabled: false }, foreColor: B24.text },
  grid: { borderColor: B24.grid, strokeDashArray: 3 },
  dataLabels: { enabled: false },
  legend: { position: 'top', horizontalAlign: 'left' },
  noData: { text: fmt.none },
});

export interface Series {
  name: string;
  type?: string;
  data: (number | null)[];
}

/** Revenue (and the comparison) over time buckets. */
export function trendOptions(fmt: Formatter, categories: string[], grain: 'day' | 'week' | 'month'): Options {
  const label = (d: string) => (grain === 'month' ? fmt.month(d) : fmt.shortDate(d));
  return {
    ...base(fmt),
    chart: { ...(base(fmt).chart as object), type: 'area', height: 280 },
    colors: [B24.blue, B24.grey],
    stroke: { curve: 'smooth', width: [3, 2], dashArray: [0, 4] },
    fill: { type: 'solid', opacity: [0.18, 0] },
    xaxis: { categories: categories.map(label), tickAmount: Math.min(10, categories.length), labels: { rotate: 0, hideOverlappingLabels: true } },
    yaxis: { labels: { formatter: (v: number) => fmt.money(v) } },
    tooltip: { y: { formatter: (v: number | null) => fmt.money(v) } },
  };
}

/** Horizontal bars, one per row (doctors' revenue, return rates). */
export function barOptions(fmt: Formatter, categories: string[], unit: string, color = B24.blue): Options {
  return {
    ...base(fmt),
    chart: { ...(base(fmt).chart as object), type: 'bar', height: Math.max(160, 28 * categories.length + 60) },
    colors: [color],
    plotOptions: { bar: { horizontal: true, barHeight: '65%', borderRadius: 3 } },
    xaxis: { categories, labels: { formatter: (v: number | string) => fmt.value(Number(v), unit) } },
    tooltip: { y: { formatter: (v: number | null) => fmt.value(v, unit) } },
    legend: { show: false },
  };
}

/** Two measures side by side, each as a share of the clinic (patients vs revenue per direction). */
export function sideBySideOptions(fmt: Formatter, categories: string[]): Options {
  return {
    ...base(fmt),
    chart: { ...(base(fmt).chart as object), type: 'bar', height: Math.max(200, 44 * categories.length + 60) },
    colors: [B24.green, B24.blue],
    plotOptions: { bar: { horizontal: true, barHeight: '75%', borderRadius: 3 } },
    xaxis: { categories, max: 1, labels: { formatter: (v: number | string) => fmt.percent(Number(v), 0) } },
    tooltip: { y: { formatter: (v: number | null) => fmt.percent(v) } },
  };
}

/** Pareto: revenue bars by service (descending) and the cumulative share line on a second axis. */
export function paretoOptions(fmt: Formatter, categories: string[], names: [string, string]): Options {
  return {
    ...base(fmt),
    chart: { ...(base(fmt).chart as object), type: 'line', height: 320 },
    colors: [B24.blue, B24.orange],
    stroke: { width: [0, 3] },
    plotOptions: { bar: { columnWidth: '80%' } },
    xaxis: { categories, labels: { show: false }, tooltip: { enabled: false } },
    yaxis: [
      { seriesName: names[0], labels: { formatter: (v: number) => fmt.money(v) } },
      { seriesName: names[1], opposite: true, min: 0, max: 1, labels: { formatter: (v: number) => fmt.percent(v, 0) } },
    ],
    tooltip: { shared: true, y: { formatter: (v: number | null, o: { seriesIndex: number }) => (o.seriesIndex === 1 ? fmt.percent(v) : fmt.money(v)) } },
    annotations: { yaxis: [{ y: 0.8, yAxisIndex: 1, borderColor: B24.red, strokeDashArray: 4, label: { text: 'A 80 %', style: { color: '#fff', background: B24.red } } }] },
  };
}

/** A cohort cell's background: the share's intensity on Bitrix24 blue. */
export function heatColor(share: number | null): string {
  if (share === null) return 'transparent';
  const a = Math.max(0.04, Math.min(1, share / 0.6));
  return `rgba(47, 198, 246, ${a.toFixed(2)})`;
}

/** Top N services by revenue for the Pareto (the rest would be an unreadable tail). */
export function paretoSeries(rows: { name: string; revenue: number | null; cumShare: number | null }[], names: [string, string], n = 40): { categories: string[]; series: Series[] } {
  const top = [...rows].sort((a, b) => (b.revenue ?? 0) - (a.revenue ?? 0)).slice(0, n);
  return {
    categories: top.map((r) => r.name),
    series: [
      { name: names[0], type: 'column', data: top.map((r) => r.revenue) },
      { name: names[1], type: 'line', data: top.map((r) => r.cumShare) },
    ],
  };
}
