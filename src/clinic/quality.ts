// Data quality of a portal's facts, for the admin screen (kpi.md §1): nothing the model cannot place
// is dropped silently — these counts say how many visits lack what.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface DataQuality {
  visits: number;
  /** Counted in revenue and visits, not in patient metrics. */
  withoutPatient: number;
  /** Shown under "Не указан". */
  withoutDoctor: number;
  /** Visits with a zero or negative price or quantity row (kept, flagged). */
  withBadRows: number;
  /** Visits with amounts converted from another currency. */
  converted: number;
  /** Deals in a visit stage left out for lack of a visit date (in the field the settings name). */
  withoutDate: number;
}

export async function dataQuality(db: Kysely<Database>, portalId: string): Promise<DataQuality> {
  const r = await db
    .selectFrom('clinic_visit')
    .select(({ fn, eb }) => [
      fn.countAll<number>().as('visits'),
      fn.sum<number>(eb.case().when('patient_id', 'is', null).then(1).else(0).end()).as('withoutPatient'),
      fn.sum<number>(eb.case().when('doctor_id', 'is', null).then(1).else(0).end()).as('withoutDoctor'),
      fn.sum<number>(eb.case().when('bad_rows', '>', 0).then(1).else(0).end()).as('withBadRows'),
      fn.sum<number>('converted').as('converted'),
    ])
    .where('portal_id', '=', portalId)
    .executeTakeFirstOrThrow();
  const rejected = await db
    .selectFrom('clinic_rejected_deal')
    .select(({ fn }) => fn.countAll<number>().as('n'))
    .where('portal_id', '=', portalId)
    .where('reason', '=', 'no_date')
    .executeTakeFirstOrThrow();
  return {
    visits: Number(r.visits),
    withoutPatient: Number(r.withoutPatient ?? 0),
    withoutDoctor: Number(r.withoutDoctor ?? 0),
    withBadRows: Number(r.withBadRows ?? 0),
    converted: Number(r.converted ?? 0),
    withoutDate: Number(rejected.n),
  };
}
