// The lines above an exported table: what was chosen in the filters, in words.
import type { AppContext } from '../lib/context.js';
import type { Filters } from '../lib/filters.js';
import { dimensionLists } from '../lib/kpi.js';
import { addDays, type Range } from '../lib/period.js';

export function filterCaption(app: AppContext, t: (k: string) => string, f: Filters, r: Range): string[] {
  const lines = [`${t('filters.period')}: ${app.fmt.date(r.from)} — ${app.fmt.date(addDays(r.to, -1))}`];
  const name = (kind: 'doctor' | 'direction', id: string) => dimensionLists[kind].value.find((d) => d.id === id)?.name ?? id;
  if (f.doctor) lines.push(`${t('filters.doctor')}: ${name('doctor', f.doctor)}`);
  if (f.direction) lines.push(`${t('filters.direction')}: ${name('direction', f.direction)}`);
  return lines;
}
