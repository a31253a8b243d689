// Every table exports to CSV and XLSX with the filters applied and the period in the file name.
// Percent units go out as shares with a percent format in XLSX and as numbers in CSV (12.5 for 12,5 %
// would hide the unit), money unrounded as the API gives it. exceljs is loaded only when asked for.
import type { Column } from './table.js';

export interface ExportSpec<R> {
  /** e.g. "vrachi" → "vrachi_2026-10-01_2026-10-31.xlsx" */
  name: string;
  period: string;
  columns: Column<R>[];
  rows: R[];
  /** Lines above the table: the filters as the user chose them. */
  caption: string[];
}

export function fileName(name: string, period: string, ext: 'csv' | 'xlsx'): string {
  return `${name}_${period}.${ext}`.replace(/[^A-Za-z0-9_.-]/g, '_');
}

const csvCell = (v: number | string | null) => {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  // Formula injection: a cell starting with = + - @ is written as text.
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[";\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** CSV as Excel in Russia opens it: ';' separated, UTF-8 with BOM. */
export function toCsv<R>(spec: ExportSpec<R>): string {
  const lines = [spec.columns.map((c) => csvCell(c.label)).join(';')];
  for (const r of spec.rows) lines.push(spec.columns.map((c) => csvCell(c.value(r))).join(';'));
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}

export async function toXlsx<R>(spec: ExportSpec<R>): Promise<ArrayBuffer> {
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet(spec.name.slice(0, 31));
  for (const line of spec.caption) ws.addRow([line]);
  if (spec.caption.length) ws.addRow([]);
  const header = ws.addRow(spec.columns.map((c) => c.label));
  header.font = { bold: true };
  for (const r of spec.rows) ws.addRow(spec.columns.map((c) => c.value(r)));
  spec.columns.forEach((c, i) => {
    const col = ws.getColumn(i + 1);
    col.width = Math.min(48, Math.max(10, c.label.length + 2));
    if (c.unit === 'money') col.numFmt = '#,##0.00';
    else if (c.unit === 'percent') col.numFmt = '0.0%';
  });
  return (await wb.xlsx.writeBuffer()) as ArrayBuffer;
}

export function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
