// Turning the portal's wire values into stored values. Bad input never throws: the value becomes
// null and a problem is recorded on the row, so one odd record never aborts a run.

export class Problems {
  readonly list: string[] = [];
  add(field: string, message: string): void {
    this.list.push(`${field}: ${message}`);
  }
  json(): string | null {
    return this.list.length ? JSON.stringify(this.list) : null;
  }
}

const isBlank = (v: unknown) => v === null || v === undefined || v === '' || v === false;

export function int(v: unknown, field: string, p: Problems): number | null {
  if (isBlank(v)) return null;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isFinite(n) || !Number.isInteger(n)) {
    p.add(field, `not an integer: ${JSON.stringify(v)}`);
    return null;
  }
  return n;
}

export function num(v: unknown, field: string, p: Problems): number | null {
  if (isBlank(v)) return null;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isFinite(n)) {
    p.add(field, `not a number: ${JSON.stringify(v)}`);
    return null;
  }
  return n;
}

/** Money to integer minor units (kopecks) by decimal text, so "1500.10" is exactly 150010. */
export function minor(v: unknown, field: string, p: Problems): number | null {
  if (isBlank(v)) return null;
  const s = typeof v === 'number' ? v.toFixed(6) : String(v).trim();
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) {
    p.add(field, `not an amount: ${JSON.stringify(v)}`);
    return null;
  }
  const frac = (m[3] ?? '').padEnd(3, '0');
  // Round half away from zero at the third decimal.
  const cents = Number(m[2]) * 100 + Number(frac.slice(0, 2)) + (Number(frac[2]) >= 5 ? 1 : 0);
  return m[1] === '-' ? -cents : cents;
}

export function str(v: unknown): string | null {
  if (v === null || v === undefined || v === false) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

/** A datetime to an ISO UTC instant. */
export function instant(v: unknown, field: string, p: Problems): string | null {
  if (isBlank(v)) return null;
  const s = String(v).trim();
  const ms = ISO.test(s) ? Date.parse(s) : NaN;
  if (!Number.isFinite(ms)) {
    p.add(field, `unparsable datetime: ${JSON.stringify(v)}`);
    return null;
  }
  return new Date(ms).toISOString();
}

/** A date-only field: Bitrix24 renders it as midnight plus the server offset; the day is as written. */
export function day(v: unknown, field: string, p: Problems): string | null {
  if (isBlank(v)) return null;
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(String(v).trim());
  if (!m || !Number.isFinite(Date.parse(m[1]!))) {
    p.add(field, `unparsable date: ${JSON.stringify(v)}`);
    return null;
  }
  return m[1]!;
}

export function flag(v: unknown): number {
  return v === true || v === 'Y' || v === '1' || v === 1 ? 1 : 0;
}
