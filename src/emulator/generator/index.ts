// Deterministic dental-clinic portal: fills an empty PortalData with what a Bitrix24 portal of a
// private dental clinic holds after months or years of use, and returns the ground truth the KPI
// code must reproduce. Same seed + scale + asOf ⇒ byte-identical data; the wall clock is never read.
import type { EntityName } from '../entities.js';
import type { PortalData } from '../store.js';
import { writeCalls, planReminders } from './calls.js';
import { Catalog, CATALOG_ID, DIRECTIONS, type DirectionKey, type SectionKey } from './catalog.js';
import { writeContacts } from './contacts.js';
import { writeDeals } from './deals.js';
import { HistoryLog } from './history.js';
import { Simulator } from './journeys.js';
import { planLeads, writeLeads } from './leads.js';
import { Rng } from './random.js';
import {
  RATES,
  writeCurrencies,
  writePipelines,
  writeUserFields,
  type PipelineLayout,
  type UserFieldLayout,
} from './reference.js';
import { writeStaff, type DoctorRole } from './staff.js';
import { at, dayOf, monthStart, TIME_ZONE, UTC_OFFSET_MIN, ymd } from './time.js';
import type { DirectionTotals, GroundTruth } from './truth.js';

export type { GroundTruth, TruthVisit, DirectionTotals } from './truth.js';
export type { DirectionKey, SectionKey } from './catalog.js';

export type Scale = 'tiny' | 'clinic' | 'network';

export interface GenerateOptions {
  /** Integer seed (coerced to 32 bits). */
  seed: number;
  scale: Scale;
  /** Local date the history ends (exclusive), 'YYYY-MM-DD'. Default '2026-11-01'. */
  asOf?: string;
}

export interface LayoutDoctor {
  userId: number;
  name: string;
  branch: number;
  directions: DirectionKey[];
  /** loyal: high return rate; warning: many new patients, few returns (seed 000); left: fired, ACTIVE = false. */
  role: DoctorRole;
  active: boolean;
  /** Planned 180-day return probability of the doctor's new patients (the data shows it with noise). */
  retention: number;
  /** First day without this doctor (role 'left'). */
  leftOn: string | null;
  /** First working day (role 'hired' joined mid-history). */
  since: string;
}

export interface LayoutBranch {
  index: number;
  name: string;
  departmentId: number;
  portalNumber: string;
  adminIds: number[];
  doctorIds: number[];
}

export interface LayoutDirection {
  key: DirectionKey;
  name: string;
  categoryId: number;
  /** Item ID in the direction enumeration user field. */
  enumId: number;
  productSectionId: number;
  pipeline: PipelineLayout;
}

export interface ClinicLayout {
  scale: Scale;
  seed: number;
  timeZone: 'Europe/Moscow';
  utcOffsetMinutes: 180;
  historyStart: string;
  asOf: string;
  /** The appointment pipeline was introduced on this day; earlier no-shows sit in direction pipelines. */
  appointmentsSince: string;
  generalPipeline: PipelineLayout;
  appointmentPipeline: PipelineLayout;
  directions: LayoutDirection[];
  leadStatuses: Record<string, string>;
  userFields: UserFieldLayout;
  catalogId: number;
  /** section key → productsection ID; 'common' is shared diagnostics and instrument kits, not a direction. */
  productSections: Record<SectionKey, number>;
  currencies: { base: 'RUB'; rates: { USD: number; EUR: number } };
  portalAdminId: number;
  marketerId: number | null;
  rootDepartmentId: number;
  branches: LayoutBranch[];
  doctors: LayoutDoctor[];
  /** Local [from, to) hours with the most missed calls. */
  peakHours: [number, number][];
}

export interface GeneratedClinic {
  truth: GroundTruth;
  layout: ClinicLayout;
}

interface ScaleConfig {
  branches: number;
  historyDays: number;
  patientsPerBranch: number;
  roster: 'tiny' | 'clinic';
}

// tiny: every number checkable by hand in unit tests. clinic: ≈15 000 patient cards, ~30–35 000
// visits and ~120 000 product rows a year. network: four such branches (≈1 000 000 product rows),
// for sync benchmarks.
const SCALES: Record<Scale, ScaleConfig> = {
  tiny: { branches: 1, historyDays: 365, patientsPerBranch: 60, roster: 'tiny' },
  clinic: { branches: 1, historyDays: 1096, patientsPerBranch: 15_000, roster: 'clinic' },
  network: { branches: 4, historyDays: 1096, patientsPerBranch: 12_000, roster: 'clinic' },
};

export const DEFAULT_AS_OF = '2026-11-01';
/** The appointment pipeline covers the last ~40 % of the history: the clinic introduced it later,
 *  so appointment KPIs start at `layout.appointmentsSince` while older no-shows sit in the
 *  direction pipelines ("Не пришел"). */
const APPOINTMENT_SHARE = 0.4;

export function populateClinic(data: PortalData, opts: GenerateOptions): GeneratedClinic {
  const cfg = SCALES[opts.scale];
  if (!cfg) throw new Error(`unknown scale ${String(opts.scale)}`);
  for (const [name, t] of Object.entries(data.tables))
    if (t.size > 0) throw new Error(`populateClinic needs an empty portal (${name} has rows)`);
  const asOf = opts.asOf ?? DEFAULT_AS_OF;
  const endDay = dayOf(asOf);
  const startDay = endDay - cfg.historyDays;
  const asOfMs = at(endDay, 0);
  const rng = new Rng(opts.seed, `clinic:${opts.scale}`);
  const apptSinceDay = monthStart(endDay - Math.floor(cfg.historyDays * APPOINTMENT_SHARE));
  const apptSinceMs = at(apptSinceDay, 0);

  writeCurrencies(data, at(endDay - 1, 10 * 60 + 30));
  const ref = writePipelines(data);
  const staff = writeStaff(data, rng.fork('staff'), {
    roster: cfg.roster,
    branches: cfg.branches,
    startDay,
    endDay,
  });
  const uf = writeUserFields(
    data,
    staff.branches.map((b) => b.name),
  );
  // The price list and its history are the clinic's, not the seed's: the same in every portal.
  const catalog = new Catalog(new Rng(0, 'catalog'), startDay, endDay);
  catalog.insert(data, at(startDay - 30, 10 * 60));

  const sim = new Simulator(
    rng.fork('journeys'),
    { startDay, endDay, asOfMs, patientsPerBranch: cfg.patientsPerBranch },
    staff.branches,
  );
  const { patients, bookings, paired } = sim.run();
  let visitCount = 0;
  for (const b of bookings) if (b.outcome === 'visit') visitCount++;
  sim.emergencies(rng.fork('emergencies'), Math.max(1, Math.round(visitCount * 0.004)));
  planReminders(rng.fork('reminders'), bookings, apptSinceMs, asOfMs);

  const history = new HistoryLog();
  const leadPlan = planLeads(rng.fork('leads'), patients, staff.branches, startDay, endDay, asOfMs);
  const firstVisitStart = new Map<(typeof patients)[number], number>();
  for (const b of bookings) {
    if (b.outcome !== 'visit' || !b.patient) continue;
    const t = at(b.day, b.start);
    const cur = firstVisitStart.get(b.patient);
    if (cur === undefined || t < cur) firstVisitStart.set(b.patient, t);
  }
  const multiId = { next: 1 };
  const contacts = writeContacts(
    data,
    rng.fork('contacts'),
    patients,
    staff.branches,
    leadPlan.utmOf,
    firstVisitStart,
    uf.cardNumber.fieldName,
    startDay,
    asOfMs,
    multiId,
  );
  writeLeads(data, leadPlan.leads, history, multiId);

  const deals = writeDeals(
    {
      data,
      rng: rng.fork('deals'),
      catalog,
      uf,
      history,
      branches: staff.branches,
      patients,
      startDay,
      endDay,
      asOfMs,
      apptSinceMs,
      portalAdminId: staff.portalAdminId,
      marketerId: staff.marketerId,
      utmOf: leadPlan.utmOf,
    },
    bookings,
    paired,
  );
  writeCalls(data, rng.fork('calls'), bookings, leadPlan.leads, staff.branches, asOfMs);
  const doomedHistory = history.write(data, new Set(deals.deletedDealIds));
  for (const id of doomedHistory) data.table('stagehistory').delete(id);

  // ---- ground truth ----
  const first = new Map<number, { date: string; dealId: number }>();
  const seenDay = new Set<string>();
  const sameDay: number[] = [];
  const byDirKop = new Map<string, { visits: number; patients: Set<number>; kop: number }>();
  for (const d of DIRECTIONS) byDirKop.set(d.name, { visits: 0, patients: new Set(), kop: 0 });
  const allPatients = new Set<number>();
  let totalKop = 0;
  for (const v of deals.visits) {
    const kop = Math.round(v.revenue * 100);
    totalKop += kop;
    const agg = byDirKop.get(v.directionName)!;
    agg.visits++;
    agg.kop += kop;
    if (v.contactId === null) continue;
    agg.patients.add(v.contactId);
    allPatients.add(v.contactId);
    const f = first.get(v.contactId);
    if (!f || v.visitDate < f.date) first.set(v.contactId, { date: v.visitDate, dealId: v.dealId });
    const key = `${v.contactId}|${v.visitDate}`;
    if (seenDay.has(key)) sameDay.push(v.dealId);
    else seenDay.add(key);
  }
  const byDirection: Record<string, DirectionTotals> = {};
  for (const [name, a] of byDirKop)
    byDirection[name] = { visits: a.visits, patients: a.patients.size, revenue: a.kop / 100 };
  const counts = Object.fromEntries(Object.entries(data.tables).map(([k, t]) => [k, t.size])) as Record<
    EntityName,
    number
  >;
  const visitDoctors = new Set(deals.visits.map((v) => v.doctorId));

  const truth: GroundTruth = {
    accountCurrency: 'RUB',
    timeZone: TIME_ZONE,
    utcOffsetMinutes: UTC_OFFSET_MIN,
    historyStart: ymd(startDay),
    asOf,
    visits: deals.visits,
    firstVisitDealByContact: new Map([...first].map(([c, f]) => [c, f.dealId])),
    deletedDealIds: deals.deletedDealIds,
    deletedContactIds: contacts.deletedContactIds,
    counts,
    noContactVisitDealIds: deals.noContactVisitDealIds,
    foreignCurrencyDealIds: deals.foreignCurrencyDealIds,
    noRowsVisitDealIds: deals.noRowsVisitDealIds,
    stuckOpenDealIds: deals.stuckOpenDealIds,
    doctorFieldDiffersDealIds: deals.doctorFieldDiffersDealIds,
    negativeRowDealIds: deals.negativeRowDealIds,
    customRowDealIds: deals.customRowDealIds,
    sameDayRepeatDealIds: sameDay.sort((a, b) => a - b),
    priceChangedProductIds: catalog.changedKeys.map((k) => catalog.ids.get(k)!).sort((a, b) => a - b),
    leftDoctorIds: staff.doctors
      .filter((d) => d.to !== null && visitDoctors.has(d.userId))
      .map((d) => d.userId),
    byDirection,
    totals: { visits: deals.visits.length, patients: allPatients.size, revenue: totalKop / 100 },
  };

  const layout: ClinicLayout = {
    scale: opts.scale,
    seed: opts.seed,
    timeZone: TIME_ZONE,
    utcOffsetMinutes: UTC_OFFSET_MIN,
    historyStart: ymd(startDay),
    asOf,
    appointmentsSince: ymd(apptSinceDay),
    generalPipeline: ref.general,
    appointmentPipeline: ref.appointments,
    directions: DIRECTIONS.map((d) => ({
      key: d.key,
      name: d.name,
      categoryId: d.categoryId,
      enumId: d.enumId,
      productSectionId: catalog.sectionIds.get(d.key)!,
      pipeline: ref.directions[d.key]!,
    })),
    leadStatuses: ref.leadStatuses,
    userFields: uf,
    catalogId: CATALOG_ID,
    productSections: Object.fromEntries(catalog.sectionIds) as Record<SectionKey, number>,
    currencies: { base: 'RUB', rates: { USD: RATES.USD, EUR: RATES.EUR } },
    portalAdminId: staff.portalAdminId,
    marketerId: staff.marketerId,
    rootDepartmentId: staff.rootDepartmentId,
    branches: staff.branches.map((b) => ({
      index: b.index,
      name: b.name,
      departmentId: b.departmentId,
      portalNumber: b.portalNumber,
      adminIds: b.adminIds,
      doctorIds: b.doctors.map((d) => d.userId),
    })),
    doctors: staff.doctors.map((d) => ({
      userId: d.userId,
      name: d.name,
      branch: d.branch,
      directions: d.dirs,
      role: d.role,
      active: d.to === null,
      retention: Math.round(d.retention * 1000) / 1000,
      leftOn: d.to === null ? null : ymd(d.to),
      since: ymd(d.from),
    })),
    peakHours: [
      [9, 11],
      [17, 19],
    ],
  };
  return { truth, layout };
}
