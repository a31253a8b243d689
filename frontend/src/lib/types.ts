// The API's answer shapes, taken from the server's own types (never copied).
export type { KpiResult, KpiRow, Compared } from '../../../src/kpi/runner.js';
export type { Plan, PlanProgress, Progress } from '../../../src/kpi/plans.js';
export type { DoctorSignal, DoctorSignalRow } from '../../../src/kpi/doctor-signal.js';
export type { ClinicSettings } from '../../../src/clinic/settings.js';
export type { SessionAnswer } from '../../../src/portal-app/session-exchange.js';

export interface KpiMeta {
  id: string;
  label: { ru: string; en: string };
  unit: string;
  additive: boolean;
  dimensions: string[];
  params: { name: string; values: string[]; default: string }[];
  definition: string;
}

export interface SyncRun {
  id: number;
  mode: string;
  status: 'running' | 'finished' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  requests: number;
  entities: Record<string, { fetched: number; upserted: number; deleted: number }>;
  error: string | null;
}

export interface SyncStatus {
  auth: 'ok' | 'needs_reauth';
  running: SyncRun | null;
  runs: SyncRun[];
  lastError?: string | null;
}
