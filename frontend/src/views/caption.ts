// The lines above an exported table: what was chosen in the filters, in words.
import type { AppContext } from '../lib/context.js';
import type { Filters } from '../lib/filters.js';
import { addDays, type Range } from '../lib/period.js';

export function filterCaption(app: AppContext, t: (k: string) => string, f: Filters, r: Range): string[] {
  const lines = [`${t('filters.period')}: ${app.fmt.date(r.from)} — ${app.fmt.date(addDays(r.to, -1))}`];
  if (f.doctor) lines.push(`${t('filters.doctor')}: ${f.doctor}`);
  if (f.direction) lines.push(`${t('filters.direction')}: ${f.direction}`);
  return lines;
}
