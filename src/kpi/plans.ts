// Monthly plans (revenue, visits, new patients) for the clinic, a direction or a doctor, and the
// month-to-date / year-to-date progress against them with a linear forecast (kpi.md §2).
//
// Decisions: MTD compares the month's fact so far with the whole month's plan; YTD compares the
// year's fact so far with the plans of January through the current month; the forecast extends the
// fact linearly by elapsed days (today counts as elapsed) to the period's end, and is compared with
// the period's whole plan (the month's, the year's). A missing plan is null, never 0.
import { Type, type Static } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import { addDays, addMonths, dayNo } from '../clinic/calendar.js';
import type { Database } from '../db/schema.js';
import type { KpiRunner } from './runner.js';

export const PLAN_METRICS = ['revenue', 'visits', 'new_patients'] as const;
export type PlanMetric = (typeof PLAN_METRICS)[number];
const COLUMN = { revenue: 'plan_revenue_minor', visits: 'plan_visits', new_patients: 'plan_new_patients' } as const;

// Null first: the app validates with type coercion (query strings need it), and ajv turns a null into
// 0 when a number branch comes first — an empty plan value would become a plan of 0.
const Amount = Type.Union([Type.Null(), Type.Number({ minimum: 0, maximum: 1e12 })]);
const Count = Type.Union([Type.Null(), Type.Integer({ minimum: 0, maximum: 1e9 })]);
export const PlanSchema = Type.Object(
  {
    month: Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$' }),
    scope: Type.Union([Type.Literal('clinic'), Type.Literal('direction'), Type.Literal('doctor')]),
    /** '' for the clinic; the direction or doctor id otherwise. */
    scopeId: Type.String({ maxLength: 64 }),
    revenue: Amount,
    visits: Count,
    newPatients: Count,
  },
  { additionalProperties: false },
);
export type Plan = Static<typeof PlanSchema>;
export type PlanScope = Plan['scope'];

export class PlanError extends Error {}

export async function listPlans(db: Kysely<Database>, portalId: string, year: number): Promise<Plan[]> {
  const rows = await db
    .selectFrom('clinic_plan')
    .selectAll()
    .where('portal_id', '=', portalId)
    .where('month', '>=', `${year}-01`)
    .where('month', '<=', `${year}-12`)
    .orderBy('month')
    .orderBy('scope')
    .orderBy('scope_id')
    .execute();
  return rows.map((r) => ({
    month: r.month,
    scope: r.scope,
    scopeId: r.scope_id,
    revenue: r.plan_revenue_minor === null ? null : r.plan_revenue_minor / 100,
    visits: r.plan_visits,
    newPatients: r.plan_new_patients,
  }));
}

/** Upserts plans; a plan with every value null is deleted. */
export async function savePlans(db: Kysely<Database>, portalId: string, plans: Plan[]): Promise<void> {
  for (const p of plans) {
    if ((p.scope === 'clinic') !== (p.scopeId === ''))
      throw new PlanError(`plan ${p.month}/${p.scope}: scopeId must be empty for the clinic and set for a ${p.scope}`);
  }
  const now = new Date().toISOString();
  await db.transaction().execute(async (trx) => {
    for (const p of plans) {
      await trx
        .deleteFrom('clinic_plan')
        .where('portal_id', '=', portalId)
        .where('month', '=', p.month)
        .where('scope', '=', p.scope)
        .where('scope_id', '=', p.scopeId)
        .execute();
      if (p.revenue === null && p.visits === null && p.newPatients === null) continue;
      await trx
        .insertInto('clinic_plan')
        .values({
          portal_id: portalId,
          month: p.month,
          scope: p.scope,
          scope_id: p.scopeId,
          plan_revenue_minor: p.revenue === null ? null : Math.round(p.revenue * 100),
          plan_visits: p.visits,
          plan_new_patients: p.newPatients,
          updated_at: now,
        })
        .execute();
    }
  });
}

export interface Progress {
  fact: number | null;
  /** Plan up to the current month (MTD: the month's plan). */
  plan: number | null;
  /** fact / plan, a share. */
  pct: number | null;
  forecast: number | null;
  /** Plan of the whole period (month, year). */
  periodPlan: number | null;
  forecastPct: number | null;
}

export interface PlanProgress {
  date: string;
  scope: PlanScope;
  scopeId: string;
  mtd: { from: string; to: string } & Record<PlanMetric, Progress>;
  ytd: { from: string; to: string } & Record<PlanMetric, Progress>;
}

async function planSum(db: Kysely<Database>, portalId: string, scope: PlanScope, scopeId: string, fromMonth: string, toMonth: string) {
  const rows = await db
    .selectFrom('clinic_plan')
    .select(['month', 'plan_revenue_minor', 'plan_visits', 'plan_new_patients'])
    .where('portal_id', '=', portalId)
    .where('scope', '=', scope)
    .where('scope_id', '=', scopeId)
    .where('month', '>=', fromMonth)
    .where('month', '<=', toMonth)
    .execute();
  const sum = (m: PlanMetric): number | null => {
    const vals = rows.map((r) => r[COLUMN[m]]).filter((v): v is number => v !== null);
    if (vals.length === 0) return null;
    const s = vals.reduce((a, b) => a + b, 0);
    return m === 'revenue' ? s / 100 : s;
  };
  return { revenue: sum('revenue'), visits: sum('visits'), new_patients: sum('new_patients') };
}

export async function planProgress(
  db: Kysely<Database>,
  runner: KpiRunner,
  portalId: string,
  date: string,
  scope: PlanScope,
  scopeId: string,
): Promise<PlanProgress> {
  if (dayNo(date) === null) throw new PlanError(`date must be YYYY-MM-DD, got "${date}"`);
  const month = date.slice(0, 7);
  const year = date.slice(0, 4);
  const end = addDays(date, 1);
  const filters = scope === 'clinic' ? {} : { [scope]: scopeId };
  const periods = {
    mtd: { from: `${month}-01`, to: end, periodEnd: addMonths(`${month}-01`, 1), planFrom: month, planTo: month },
    ytd: { from: `${year}-01-01`, to: end, periodEnd: `${Number(year) + 1}-01-01`, planFrom: `${year}-01`, planTo: month },
  };
  const out = { date, scope, scopeId } as PlanProgress;
  for (const [key, p] of Object.entries(periods) as [keyof typeof periods, (typeof periods)['mtd']][]) {
    const elapsed = dayNo(p.to)! - dayNo(p.from)!;
    const length = dayNo(p.periodEnd)! - dayNo(p.from)!;
    const [toDate, whole] = await Promise.all([
      planSum(db, portalId, scope, scopeId, p.planFrom, p.planTo),
      planSum(db, portalId, scope, scopeId, p.planFrom, key === 'mtd' ? p.planTo : `${year}-12`),
    ]);
    const entry = { from: p.from, to: p.to } as PlanProgress['mtd'];
    for (const m of PLAN_METRICS) {
      const fact = (await runner.run(portalId, m, { period: { from: p.from, to: p.to }, filters })).total.value;
      const forecast = fact === null ? null : (fact / elapsed) * length;
      const plan = toDate[m];
      const periodPlan = whole[m];
      entry[m] = {
        fact,
        plan,
        pct: fact !== null && plan ? fact / plan : null,
        forecast,
        periodPlan,
        forecastPct: forecast !== null && periodPlan ? forecast / periodPlan : null,
      };
    }
    out[key] = entry;
  }
  return out;
}
