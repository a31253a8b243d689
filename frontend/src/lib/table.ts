// Table columns: one definition drives the cells on screen, the sort and the exports, so a file
// holds exactly what the table shows (numbers as numbers, not as formatted text).
import type { Formatter, Unit } from './format.js';

export interface Column<R> {
  key: string;
  label: string;
  /** The cell's value: a number (formatted by unit) or text. */
  value(row: R): number | string | null;
  unit?: Unit;
  /** Text to show instead of the formatted value (e.g. "12 (3 в окне)"). */
  text?(row: R, fmt: Formatter): string;
  align?: 'left' | 'right';
}

export type SortDir = 'asc' | 'desc';

/** Sorts by a column: numbers numerically, text by the locale, empty values always last. */
export function sortRows<R>(rows: R[], col: Column<R> | undefined, dir: SortDir, locale: string): R[] {
  if (!col) return rows;
  const coll = new Intl.Collator(locale, { numeric: true, sensitivity: 'base' });
  const sign = dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = col.value(a);
    const y = col.value(b);
    if (x === null || x === '') return y === null || y === '' ? 0 : 1;
    if (y === null || y === '') return -1;
    if (typeof x === 'number' && typeof y === 'number') return sign * (x - y);
    return sign * coll.compare(String(x), String(y));
  });
}

export function cellText<R>(col: Column<R>, row: R, fmt: Formatter): string {
  if (col.text) return col.text(row, fmt);
  const v = col.value(row);
  if (typeof v === 'number') return fmt.value(v, col.unit ?? 'count');
  return v === null || v === '' ? fmt.none : v;
}

export function matches<R>(row: R, cols: Column<R>[], needle: string): boolean {
  if (!needle) return true;
  const n = needle.toLocaleLowerCase();
  return cols.some((c) => {
    const v = c.value(row);
    return typeof v === 'string' && v.toLocaleLowerCase().includes(n);
  });
}
