// Row-level derivation: one mirrored deal (with its product rows) → a visit and its service lines,
// by the portal's settings (kpi.md §1). Pure code with no store access, so each mapping choice is
// tested directly; the per-patient aggregates over visits are SQL (sql/facts/).
import type { Insertable, Selectable } from 'kysely';
import type { ClinicServiceLineTable, ClinicVisitTable, DealTable, ProductRowTable } from '../db/schema.js';
import { dayNo, localDate, monthNo, monthStart, weekStart } from './calendar.js';
import type { ClinicSettings } from './settings.js';

/** The mirrored columns a derivation reads (facts.ts selects exactly these). */
export const DEAL_COLUMNS = [
  'id', 'category_id', 'stage_id', 'stage_semantic_id', 'currency_id', 'opportunity_minor', 'contact_id',
  'company_id', 'assigned_by_id', 'source_id', 'begindate', 'closedate', 'date_create', 'uf',
] as const;
export const ROW_COLUMNS = ['id', 'deal_id', 'product_id', 'product_name', 'price_minor', 'price_account_minor', 'quantity'] as const;

export type DealInput = Pick<Selectable<DealTable>, (typeof DEAL_COLUMNS)[number]>;
export type RowInput = Pick<Selectable<ProductRowTable>, (typeof ROW_COLUMNS)[number]>;

/** The reference data a derivation reads, loaded once per build. */
export interface ModelContext {
  settings: ClinicSettings;
  accountCurrency: string;
  /** Account-currency units for one unit of the currency. */
  rates: Map<string, number>;
  /** `${categoryId}|${stageId}` → semantics ('S', 'F', 'P'). */
  stageSemantics: Map<string, string>;
  /** Product id → section id. */
  productSection: Map<number, number | null>;
  /** Deal user fields of type 'date' (as opposed to 'datetime'). */
  dateOnlyFields: Set<string>;
}

export type VisitFact = Insertable<ClinicVisitTable>;
export type LineFact = Insertable<ClinicServiceLineTable>;

export interface Derived {
  visit: VisitFact;
  lines: LineFact[];
}

/** Why a deal in a visit stage could not become a visit (recorded for the admin). */
export type Rejection = 'no_date';

export function isVisitDeal(d: DealInput, ctx: ModelContext): boolean {
  const { visit, appointment } = ctx.settings;
  if (visit.pipelines ? !visit.pipelines.includes(d.category_id) : appointment.pipelines.includes(d.category_id))
    return false;
  if (d.stage_id === null) return false;
  const chosen = visit.stages?.[String(d.category_id)];
  if (chosen) return chosen.includes(d.stage_id);
  const semantics = ctx.stageSemantics.get(`${d.category_id}|${d.stage_id}`) ?? d.stage_semantic_id;
  return semantics === 'S';
}

/** The first scalar of a user-field value (multiple fields hold arrays); null for empty. */
function ufScalar(uf: Record<string, unknown>, field: string): string | null {
  let v = uf[field];
  if (Array.isArray(v)) v = v[0];
  if (v === null || v === undefined || v === '' || v === false || v === 0 || v === '0') return null;
  return typeof v === 'object' ? null : String(v);
}

function visitDateOf(d: DealInput, uf: Record<string, unknown>, ctx: ModelContext): string | null {
  const field = ctx.settings.visitDate;
  // Date-only fields (CLOSEDATE, BEGINDATE, date user fields) already name the local day.
  if (field === 'CLOSEDATE') return d.closedate;
  if (field === 'BEGINDATE') return d.begindate;
  if (field === 'DATE_CREATE') return d.date_create ? localDate(d.date_create, ctx.settings.timeZone) : null;
  const raw = ufScalar(uf, field);
  if (raw === null) return null;
  const day = raw.slice(0, 10);
  if (ctx.dateOnlyFields.has(field) || raw.length === 10) return dayNo(day) === null ? null : day;
  const ms = Date.parse(raw);
  return Number.isFinite(ms) ? localDate(ms, ctx.settings.timeZone) : null;
}

/** Converts an amount in `currency` to the account currency; null rate = unknown currency. */
function toAccount(minorAmount: number, currency: string | null, ctx: ModelContext): { minor: number; converted: boolean } {
  if (!currency || currency === ctx.accountCurrency) return { minor: minorAmount, converted: false };
  const rate = ctx.rates.get(currency);
  // An unknown currency is kept as is and shows in the data-quality counts as unconverted.
  if (rate === undefined) return { minor: minorAmount, converted: false };
  return { minor: Math.round(minorAmount * rate), converted: true };
}

/**
 * A deal → its visit and service lines, or null when the settings do not count it as a visit (or
 * it has no visit date; `rejected` then says why).
 */
export function deriveVisit(
  d: DealInput,
  rows: readonly RowInput[],
  ctx: ModelContext,
  rejected?: (why: Rejection) => void,
): Derived | null {
  if (!isVisitDeal(d, ctx)) return null;
  const s = ctx.settings;
  const uf = JSON.parse(d.uf || '{}') as Record<string, unknown>;
  const date = visitDateOf(d, uf, ctx);
  if (date === null || dayNo(date) === null) {
    rejected?.('no_date');
    return null;
  }
  const patient = s.patient === 'contact' ? d.contact_id : d.company_id;
  const doctor = s.doctor.source === 'assigned' ? (d.assigned_by_id ? String(d.assigned_by_id) : null) : ufScalar(uf, s.doctor.field);
  const week = weekStart(date);
  const month = monthStart(date);

  let converted = false;
  let badRows = 0;
  const lines: LineFact[] = [];
  const bySection = new Map<string | null, number>();
  for (const r of rows) {
    let unit: number;
    if (r.price_account_minor !== null) {
      unit = r.price_account_minor;
      if (d.currency_id && d.currency_id !== ctx.accountCurrency) converted = true;
    } else {
      const c = toAccount(r.price_minor, d.currency_id, ctx);
      unit = c.minor;
      converted ||= c.converted;
    }
    if (r.price_minor <= 0 || r.quantity <= 0) badRows++;
    const revenue = Math.round(unit * r.quantity);
    const section = r.product_id ? (ctx.productSection.get(r.product_id) ?? null) : null;
    const sectionKey = section === null ? null : String(section);
    bySection.set(sectionKey, (bySection.get(sectionKey) ?? 0) + revenue);
    lines.push({
      portal_id: '',
      row_id: r.id,
      deal_id: d.id,
      patient_id: patient,
      doctor_id: doctor,
      direction_id: null,
      visit_date: date,
      visit_week: week,
      visit_month: month,
      service_id: r.product_id ? String(r.product_id) : `name:${r.product_name ?? ''}`,
      service_name: r.product_name,
      section_id: section,
      quantity: r.quantity,
      price_minor: unit,
      revenue_minor: revenue,
      visit_mark: 0,
      visit_mark_direction: 0,
      visit_mark_service: 0,
    });
  }

  let direction: string | null;
  if (s.direction.source === 'pipeline') direction = String(d.category_id);
  else if (s.direction.source === 'user_field') direction = ufScalar(uf, s.direction.field);
  else {
    // Product sections: each line keeps its own section; the visit is attributed to the section
    // that earned most of it (ties: the lower section id), so visit counts stay one per visit.
    let best: [string | null, number] | null = null;
    for (const e of [...bySection].sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? '', 'en', { numeric: true })))
      if (e[0] !== null && (!best || e[1] > best[1])) best = e;
    direction = best?.[0] ?? null;
  }
  const seenDirection = new Set<string | null>();
  const seenService = new Set<string>();
  for (const l of lines) {
    l.direction_id = s.direction.source === 'product_section' ? (l.section_id === null ? null : String(l.section_id)) : direction;
    // One line stands for its visit (and for its visit within a direction, within a service).
    l.visit_mark = l === lines[0] ? 1 : 0;
    l.visit_mark_direction = seenDirection.has(l.direction_id) ? 0 : 1;
    l.visit_mark_service = seenService.has(l.service_id) ? 0 : 1;
    seenDirection.add(l.direction_id);
    seenService.add(l.service_id);
  }

  let revenue: number;
  if (s.revenue === 'product_rows' && rows.length > 0) revenue = lines.reduce((sum, l) => sum + l.revenue_minor, 0);
  else {
    const c = toAccount(d.opportunity_minor ?? 0, d.currency_id, ctx);
    revenue = c.minor;
    converted ||= c.converted;
  }

  return {
    visit: {
      portal_id: '',
      deal_id: d.id,
      patient_id: patient,
      doctor_id: doctor,
      direction_id: direction,
      source_id: d.source_id,
      category_id: d.category_id,
      stage_id: d.stage_id,
      visit_date: date,
      visit_week: week,
      visit_month: month,
      day_no: dayNo(date)!,
      month_no: monthNo(date),
      revenue_minor: revenue,
      row_count: rows.length,
      bad_rows: badRows,
      converted: converted ? 1 : 0,
      is_first: 0,
    },
    lines,
  };
}
