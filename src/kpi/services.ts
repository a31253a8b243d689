// The clinic's computing parts for one store, created once: the fact builder (one refresh per portal
// at a time), the KPI registry (loaded and checked when this module loads: a bad sql/kpi header stops
// the start) and the runner. Routes, the sync control and the BI connector share them.
import type { Kysely } from 'kysely';
import { FactBuilder } from '../clinic/facts.js';
import type { Database } from '../db/schema.js';
import { KpiRegistry } from './registry.js';
import { KpiRunner } from './runner.js';

export const registry = KpiRegistry.load();

export interface ClinicServices {
  facts: FactBuilder;
  registry: KpiRegistry;
  runner: KpiRunner;
}

const byStore = new WeakMap<Kysely<Database>, ClinicServices>();

export function clinicServices(db: Kysely<Database>): ClinicServices {
  let s = byStore.get(db);
  if (!s) {
    const facts = new FactBuilder(db);
    s = { facts, registry, runner: new KpiRunner(db, registry, facts) };
    byStore.set(db, s);
  }
  return s;
}
