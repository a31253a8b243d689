// The doctor signal (kpi.md §4, seed 000's "warning sign"): a doctor whose new patients in the period
// are above the clinic's median across doctors, while the return rate of those patients (180 days by
// default) is more than 10 percentage points below the clinic's. Doctors whose cohort is still inside
// its window (rate null) are never flagged — there is nothing to judge yet.
import type { Period } from './period.js';
import type { KpiRunner } from './runner.js';

export const SIGNAL_GAP = 0.1;

export interface DoctorSignalRow {
  doctor: { id: string | null; name: string | null };
  newPatients: number;
  returnRate: number | null;
  cohort: number;
  censored: number;
  flagged: boolean;
}

export interface DoctorSignal {
  period: Period;
  days: string;
  scope: string;
  medianNewPatients: number | null;
  clinicReturnRate: number | null;
  rows: DoctorSignalRow[];
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function doctorSignal(
  runner: KpiRunner,
  portalId: string,
  period: Period,
  opts: { days?: string; scope?: string; today?: string } = {},
): Promise<DoctorSignal> {
  const params = { days: opts.days ?? '180', scope: opts.scope ?? 'clinic' };
  const common = { period, ...(opts.today ? { today: opts.today } : {}) };
  const [fresh, rate] = await Promise.all([
    runner.run(portalId, 'new_patients', { ...common, by: 'doctor' }),
    runner.run(portalId, 'return_rate', { ...common, by: 'doctor', params }),
  ]);
  const clinicRate = rate.total.value;
  const med = median(fresh.rows.filter((r) => r.doctor?.id != null).map((r) => r.value ?? 0));
  const rateBy = new Map(rate.rows.map((r) => [r.doctor?.id ?? null, r]));
  const rows = fresh.rows.map((r): DoctorSignalRow => {
    const rr = rateBy.get(r.doctor?.id ?? null);
    const n = r.value ?? 0;
    const rv = rr?.value ?? null;
    return {
      doctor: r.doctor ?? { id: null, name: null },
      newPatients: n,
      returnRate: rv,
      cohort: Number(rr?.detail?.cohort ?? 0),
      censored: Number(rr?.detail?.censored ?? 0),
      flagged: r.doctor?.id != null && med !== null && n > med && rv !== null && clinicRate !== null && rv < clinicRate - SIGNAL_GAP,
    };
  });
  return { period, days: params.days, scope: params.scope, medianNewPatients: med, clinicReturnRate: clinicRate, rows };
}
