// Monthly plans as the Настройки form keeps them: one row per month and scope (the clinic, a
// direction, a doctor), keyed so that edits of several scopes can wait for one save.
import type { Plan } from './types.js';

/** "clinic:", "direction:3", "doctor:12": the scope as the form's select holds it. */
export const scopeOf = (p: Pick<Plan, 'scope' | 'scopeId'>) => `${p.scope}:${p.scopeId}`;
export const planKey = (p: Pick<Plan, 'month' | 'scope' | 'scopeId'>) => `${scopeOf(p)}:${p.month}`;

/** "doctor:12" → ['doctor', '12']; "clinic:" → ['clinic', '']. */
export function splitScope(v: string): [Plan['scope'], string] {
  const i = v.indexOf(':');
  const scope = v.slice(0, i);
  return scope === 'direction' || scope === 'doctor' ? [scope, v.slice(i + 1)] : ['clinic', ''];
}

export const hasValues = (p: Plan) => p.revenue !== null || p.visits !== null || p.newPatients !== null;
