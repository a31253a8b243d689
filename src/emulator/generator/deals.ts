// Deals, their product rows and their stage moves, written from the bookings. A booking becomes:
//   • before the appointment pipeline existed: one direction deal created at booking time, which
//     ends "Оплачено" (visit) or "Не пришел" (no-show);
//   • afterwards: an appointment deal ("Записи на прием": Записан → Подтвержден → Пришел / Не пришел)
//     created at booking time, plus — when the patient came — a direction deal opened on arrival.
// The untidy parts of real portals are planted here on purpose (see GroundTruth for the list).
import type { PortalData } from '../store.js';
import type { Catalog } from './catalog.js';
import { DIRECTION_BY_KEY } from './catalog.js';
import type { HistoryLog } from './history.js';
import type { Booking, Patient } from './journeys.js';
import type { LeadSpec } from './leads.js';
import { money } from './pricing.js';
import type { Rng } from './random.js';
import {
  APPOINTMENT_CATEGORY_ID,
  GENERAL_CATEGORY_ID,
  RATES,
  stageRef,
  type UserFieldLayout,
} from './reference.js';
import { buildRows, pickDiscount, rowsAccountTotal, rowsTax, rowsTotal, type BuiltRow } from './rows.js';
import type { Branch } from './staff.js';
import type { TruthVisit } from './truth.js';
import { at, HOUR, localDayOf, MINUTE, ymd } from './time.js';

type Quirk = 'noRows' | 'eur' | 'stuck' | 'adminAssigned' | 'ufMissing' | 'customRow' | 'negativeRow';
type Kind = 'direction' | 'appointment' | 'general' | 'test' | 'duplicate';

interface DealSpec {
  kind: Kind;
  createdAt: number;
  order: number;
  booking: Booking | null;
  quirk: Quirk | null;
  /** Arrival at the clinic (appointment → "Пришел", direction deal opened). */
  arrival: number;
  id: number;
  rows: BuiltRow[] | null;
}

interface Ev {
  t: number;
  suffix: string;
  by: number;
}

export interface DealContext {
  data: PortalData;
  rng: Rng;
  catalog: Catalog;
  uf: UserFieldLayout;
  history: HistoryLog;
  branches: Branch[];
  patients: Patient[];
  startDay: number;
  endDay: number;
  asOfMs: number;
  apptSinceMs: number;
  portalAdminId: number;
  marketerId: number | null;
  utmOf: Map<Patient, LeadSpec['utm']>;
}

export interface DealResult {
  visits: TruthVisit[];
  deletedDealIds: number[];
  noContactVisitDealIds: number[];
  foreignCurrencyDealIds: number[];
  noRowsVisitDealIds: number[];
  stuckOpenDealIds: number[];
  doctorFieldDiffersDealIds: number[];
  negativeRowDealIds: number[];
  customRowDealIds: number[];
}

const COMMENTS = [
  'Пациент опоздал на 15 минут',
  'Просит перезванивать только после 18:00',
  'Аллергия на лидокаин — использовать артикаин',
  'Оплата картой',
  'Рассрочка на 6 месяцев через банк-партнер',
  'Пришел с сопровождающим',
  'Скидка по карте постоянного пациента',
];

const GENERAL_TITLES = [
  'Запрос стоимости имплантации',
  'Договор ДМС (корпоративный клиент)',
  'Консультация по телефону: брекеты',
  'Подарочный сертификат',
  'Рассрочка на лечение',
];

export function writeDeals(ctx: DealContext, bookings: Booking[], paired: Set<Booking>): DealResult {
  const { rng, asOfMs } = ctx;
  const specs: DealSpec[] = [];
  let order = 0;
  const spec = (kind: Kind, createdAt: number, booking: Booking | null, arrival = 0): DealSpec => {
    const s: DealSpec = { kind, createdAt, order: order++, booking, quirk: null, arrival, id: 0, rows: null };
    specs.push(s);
    return s;
  };

  // First visit day per patient: IS_RETURN_CUSTOMER and nothing else.
  const firstVisitDay = new Map<Patient, number>();
  for (const b of bookings) {
    if (b.outcome !== 'visit' || !b.patient) continue;
    const d = firstVisitDay.get(b.patient);
    if (d === undefined || b.day < d) firstVisitDay.set(b.patient, b.day);
  }

  const visitSpecs: DealSpec[] = [];
  for (const b of bookings) {
    const inEra = b.bookedAt >= ctx.apptSinceMs;
    const arrival = at(b.day, b.start) - rng.int(0, 10) * MINUTE;
    if (inEra) spec('appointment', b.bookedAt, b, arrival);
    if (b.outcome === 'visit') {
      const s = spec('direction', inEra ? arrival + rng.int(1, 4) * MINUTE : b.bookedAt, b, arrival);
      visitSpecs.push(s);
    } else if (!inEra) {
      spec('direction', b.bookedAt, b, arrival);
    }
  }

  // Plant the untidy cases on distinct ordinary visits.
  // Free consultations that end in "Отказ от лечения" are not visits, so nothing is planted there.
  const eligible = visitSpecs.filter(
    (s) =>
      s.booking!.patient &&
      !s.booking!.patient.foreign &&
      s.booking!.path !== 'planRefusedFree' &&
      !paired.has(s.booking!),
  );
  const n = eligible.length;
  const plant = (quirk: Quirk, count: number, ok: (s: DealSpec) => boolean = () => true) => {
    let placed = 0;
    for (let tries = 0; placed < count && tries < count * 50 + 100; tries++) {
      const s = eligible[rng.int(0, n - 1)]!;
      if (s.quirk || !ok(s)) continue;
      s.quirk = quirk;
      placed++;
    }
  };
  const expensive = (s: DealSpec) =>
    s.booking!.lines.some((l) => ctx.catalog.priceOn(l.key, s.booking!.day) >= 300_000);
  if (n > 0) {
    plant('eur', 1);
    plant('noRows', Math.max(1, Math.round(n * 0.003)));
    plant('stuck', Math.max(1, Math.round(n * 0.003)));
    plant('adminAssigned', Math.max(1, Math.round(n * 0.04)));
    plant('ufMissing', Math.round(n * 0.01));
    plant('customRow', Math.max(1, Math.round(n * 0.005)), (s) =>
      s.booking!.lines.some((l) => ctx.catalog.priceOn(l.key, s.booking!.day) > 0),
    );
    plant('negativeRow', Math.max(1, Math.round(n * 0.002)), expensive);
  }

  // Deals that are deleted later: admin's duplicates of a visit and the owner's test deals.
  const dupCount = Math.max(2, Math.round(n * 0.002));
  for (let i = 0; i < dupCount && n > 0; i++) {
    const orig = eligible[rng.int(0, n - 1)]!;
    spec(
      'duplicate',
      orig.createdAt + rng.int(1, 10) * MINUTE + rng.int(0, 59) * 1000,
      orig.booking,
      orig.arrival,
    );
  }
  spec('test', at(ctx.startDay, 10 * 60 + 5), null);
  spec('test', at(ctx.startDay, 10 * 60 + 17), null);
  const generalCount = Math.max(2, Math.round(visitSpecs.length * 0.003));
  for (let i = 0; i < generalCount; i++) {
    const day = rng.int(ctx.startDay, ctx.endDay - 1);
    spec('general', at(day, rng.int(9 * 60, 20 * 60), rng.int(0, 59)), null);
  }

  specs.sort((a, b) => a.createdAt - b.createdAt || a.order - b.order);
  specs.forEach((s, i) => (s.id = i + 1));

  const res: DealResult = {
    visits: [],
    deletedDealIds: [],
    noContactVisitDealIds: [],
    foreignCurrencyDealIds: [],
    noRowsVisitDealIds: [],
    stuckOpenDealIds: [],
    doctorFieldDiffersDealIds: [],
    negativeRowDealIds: [],
    customRowDealIds: [],
  };
  const deals = ctx.data.table('deal');
  const productRows = ctx.data.table('productrow');
  const doomedRows: number[] = [];
  const bulkAt = at(ctx.endDay - rng.int(20, 60), 14 * 60 + 2, 11);
  const ufDirection = ctx.uf.direction.fieldName;
  const ufDoctor = ctx.uf.doctor.fieldName;
  const ufBranch = ctx.uf.branch?.fieldName;
  let bulkSeq = 0;

  for (const s of specs) {
    const fields =
      s.kind === 'general' || s.kind === 'test' ? generalDeal(ctx, s) : bookingDeal(ctx, s, firstVisitDay);
    const { events, rows, revenue } = fields;
    const kept = events.filter((e) => e.t < asOfMs);
    if (kept.length === 0) continue;
    const last = kept[kept.length - 1]!;
    const categoryId = fields.CATEGORY_ID;
    const { id: stage, semantic: sem } = stageRef(categoryId, last.suffix);
    // Most edits land minutes after the last move; some days or months later; one bulk edit.
    let modified = last.t + modifyDelay(rng);
    if (modified >= asOfMs) modified = last.t + Math.floor((asOfMs - last.t) * rng.next());
    let modifiedBy = last.by;
    if (
      s.kind !== 'duplicate' &&
      s.kind !== 'test' &&
      last.t < bulkAt &&
      modified < bulkAt &&
      rng.chance(0.03)
    ) {
      modified = bulkAt + Math.floor(bulkSeq++ / 20) * 1000;
      modifiedBy = ctx.portalAdminId;
    }
    if (s.kind === 'duplicate' || s.kind === 'test') modified = last.t + rng.int(2, 50) * 1000;
    const deal = deals.insert({
      ID: s.id,
      TITLE: fields.TITLE,
      TYPE_ID: fields.TYPE_ID,
      CATEGORY_ID: categoryId,
      STAGE_ID: stage,
      STAGE_SEMANTIC_ID: sem,
      IS_NEW: last.suffix === 'NEW' ? 'Y' : 'N',
      IS_RECURRING: 'N',
      IS_RETURN_CUSTOMER: fields.IS_RETURN_CUSTOMER,
      IS_REPEATED_APPROACH: 'N',
      PROBABILITY: null,
      CURRENCY_ID: fields.CURRENCY_ID,
      OPPORTUNITY: fields.OPPORTUNITY,
      IS_MANUAL_OPPORTUNITY: fields.IS_MANUAL_OPPORTUNITY,
      TAX_VALUE: fields.TAX_VALUE,
      COMPANY_ID: 0,
      CONTACT_ID: fields.CONTACT_ID,
      CONTACT_IDS: fields.CONTACT_IDS,
      QUOTE_ID: null,
      BEGINDATE: ymd(localDayOf(s.createdAt)),
      CLOSEDATE: fields.CLOSEDATE,
      ASSIGNED_BY_ID: fields.ASSIGNED_BY_ID,
      CREATED_BY_ID: events[0]!.by,
      MODIFY_BY_ID: modifiedBy,
      MOVED_BY_ID: last.by,
      DATE_CREATE: s.createdAt,
      DATE_MODIFY: Math.max(modified, s.createdAt),
      MOVED_TIME: last.t,
      OPENED: 'Y',
      CLOSED: sem === 'P' ? 'N' : 'Y',
      COMMENTS: s.kind === 'direction' && rng.chance(0.02) ? rng.pick(COMMENTS) : null,
      ADDITIONAL_INFO: null,
      LOCATION_ID: null,
      SOURCE_ID: fields.SOURCE_ID,
      SOURCE_DESCRIPTION: null,
      LEAD_ID: fields.LEAD_ID,
      ORIGINATOR_ID: null,
      ORIGIN_ID: null,
      LAST_ACTIVITY_TIME: last.t,
      LAST_ACTIVITY_BY: last.by,
      UTM_SOURCE: fields.UTM_SOURCE,
      UTM_MEDIUM: fields.UTM_MEDIUM,
      UTM_CAMPAIGN: fields.UTM_CAMPAIGN,
      UTM_CONTENT: null,
      UTM_TERM: null,
      [ufDirection]: fields.UF_DIRECTION,
      [ufDoctor]: fields.UF_DOCTOR,
      ...(ufBranch ? { [ufBranch]: fields.UF_BRANCH } : {}),
    });
    const doomed = s.kind === 'duplicate' || s.kind === 'test';
    if (rows) {
      rows.forEach((r, i) => {
        const pr = productRows.insert({
          ID: productRows.nextId(),
          OWNER_ID: deal.ID,
          OWNER_TYPE: 'D',
          PRODUCT_ID: r.productId,
          PRODUCT_NAME: r.name,
          ORIGINAL_PRODUCT_NAME: r.originalName,
          PRODUCT_DESCRIPTION: null,
          PRICE: money(r.m.price),
          PRICE_EXCLUSIVE: money(r.m.exclusive),
          PRICE_NETTO: money(r.m.netto),
          PRICE_BRUTTO: money(r.m.brutto),
          PRICE_ACCOUNT: money(r.m.account),
          QUANTITY: r.qty,
          DISCOUNT_TYPE_ID: r.m.discountType,
          DISCOUNT_RATE: r.m.discountRate,
          DISCOUNT_SUM: money(r.m.discountSum),
          TAX_RATE: r.m.taxRate,
          TAX_INCLUDED: 'Y',
          CUSTOMIZED: 'Y',
          MEASURE_CODE: 796,
          MEASURE_NAME: 'шт',
          SORT: (i + 1) * 10,
          XML_ID: null,
          TYPE: r.type,
          STORE_ID: 0,
        });
        if (doomed) doomedRows.push(pr.ID);
      });
    }
    kept.forEach((e, i) => {
      const st = stageRef(categoryId, e.suffix);
      ctx.history.push(2, deal.ID, i === 0 ? 1 : 2, e.t, categoryId, st.id, st.semantic);
    });

    if (doomed) {
      res.deletedDealIds.push(deal.ID);
      continue;
    }
    const b = s.booking;
    if (s.kind !== 'direction' || !b) continue;
    if (s.quirk === 'stuck' && sem === 'P') res.stuckOpenDealIds.push(deal.ID);
    if (sem !== 'S') continue;
    // A visit: the deal sits in a direction pipeline at its success stage.
    const contactId = fields.CONTACT_ID;
    res.visits.push({
      dealId: deal.ID,
      contactId,
      doctorId: fields.ASSIGNED_BY_ID,
      categoryId,
      directionName: DIRECTION_BY_KEY[b.dir].name,
      visitDate: ymd(b.day),
      revenue: money(revenue),
    });
    if (contactId === null) res.noContactVisitDealIds.push(deal.ID);
    if (fields.CURRENCY_ID !== 'RUB') res.foreignCurrencyDealIds.push(deal.ID);
    if (!rows) res.noRowsVisitDealIds.push(deal.ID);
    if (fields.ASSIGNED_BY_ID !== fields.UF_DOCTOR) res.doctorFieldDiffersDealIds.push(deal.ID);
    if (s.quirk === 'negativeRow') res.negativeRowDealIds.push(deal.ID);
    if (rows?.some((r) => r.productId === 0 && r.m.price > 0)) res.customRowDealIds.push(deal.ID);
  }

  for (const id of doomedRows) productRows.delete(id);
  for (const id of res.deletedDealIds) deals.delete(id);
  return res;
}

function modifyDelay(rng: Rng): number {
  const r = rng.next();
  if (r < 0.7) return rng.int(0, 30 * 60) * 1000;
  if (r < 0.9) return rng.int(1, 48) * HOUR + rng.int(0, 3599) * 1000;
  if (r < 0.98) return rng.int(2, 60) * 24 * HOUR + rng.int(0, 86_399) * 1000;
  return rng.int(60, 400) * 24 * HOUR + rng.int(0, 86_399) * 1000;
}

/** A deal's values before they become a row. A class, so every draft has the same shape: with
 *  ~140 000 deals per clinic, records of varying shape made this loop several times slower. */
class Draft {
  TITLE = '';
  TYPE_ID = 'SALE';
  CATEGORY_ID = 0;
  CURRENCY_ID = 'RUB';
  OPPORTUNITY = 0;
  IS_MANUAL_OPPORTUNITY = 'N';
  TAX_VALUE = 0;
  IS_RETURN_CUSTOMER = 'N';
  CONTACT_ID: number | null = null;
  CONTACT_IDS: number[] = [];
  CLOSEDATE = '';
  ASSIGNED_BY_ID = 0;
  SOURCE_ID: string | null = null;
  LEAD_ID: number | null = null;
  UTM_SOURCE: string | null = null;
  UTM_MEDIUM: string | null = null;
  UTM_CAMPAIGN: string | null = null;
  UF_DIRECTION: number | null = null;
  UF_DOCTOR: number | null = null;
  UF_BRANCH: number | null = null;
  events: Ev[] = [];
  rows: BuiltRow[] | null = null;
  /** Account-currency revenue, kopecks (visits only). */
  revenue = 0;
}

function patientTitle(p: Patient | null): string {
  return p ? p.title : 'Экстренный прием без карты';
}

/** When the front desk marks a no-show: that evening or the next morning. */
function noShowMark(rng: Rng, day: number): number {
  return rng.chance(0.5)
    ? at(day, 20 * 60 + 30 + rng.int(0, 30), rng.int(0, 59))
    : at(day + 1, 9 * 60 + rng.int(0, 60), rng.int(0, 59));
}

function bookingDeal(ctx: DealContext, s: DealSpec, firstVisitDay: Map<Patient, number>): Draft {
  const { rng } = ctx;
  const b = s.booking!;
  const p = b.patient;
  const dir = DIRECTION_BY_KEY[b.dir];
  const doctor = b.doctor.userId;
  const admin = b.bookedBy;
  // A third of the children's deals also bind the parent's card (once the parent is registered).
  const withParent = p?.parent && p.idx % 3 === 0 && p.parent.createdAt <= s.createdAt;
  const contactIds = p ? (withParent ? [p.contactId, p.parent!.contactId] : [p.contactId]) : [];
  const firstSource = p && b.firstContact;
  const utm = firstSource ? (ctx.utmOf.get(p) ?? null) : null;
  const d = new Draft();
  d.TYPE_ID = b.primary ? 'UC_PRIMARY' : 'UC_REPEAT';
  d.CONTACT_ID = contactIds[0] ?? null;
  d.CONTACT_IDS = contactIds;
  d.CLOSEDATE = ymd(b.day);
  d.IS_RETURN_CUSTOMER = p && (firstVisitDay.get(p) ?? Infinity) < b.day ? 'Y' : 'N';
  d.SOURCE_ID = !p
    ? 'OTHER'
    : firstSource
      ? rng.chance(0.1)
        ? null
        : p.source
      : rng.chance(0.7)
        ? 'REPEAT_SALE'
        : p.source;
  d.LEAD_ID = firstSource ? p.leadId : null;
  d.UTM_SOURCE = utm?.[0] ?? null;
  d.UTM_MEDIUM = utm?.[1] ?? null;
  d.UTM_CAMPAIGN = utm?.[2] || null;
  d.UF_DIRECTION = dir.enumId;
  d.UF_DOCTOR = doctor;
  d.UF_BRANCH = ctx.uf.branch ? ctx.uf.branch.items[b.branch.index]! : null;
  d.ASSIGNED_BY_ID = doctor;

  if (s.kind === 'appointment') {
    const events: Ev[] = [{ t: b.bookedAt, suffix: 'NEW', by: admin }];
    if (b.reminderAt && b.reminderOk && b.reminderAt > b.bookedAt)
      events.push({
        t: b.reminderAt + rng.int(60, 180) * 1000,
        suffix: 'PREPARATION',
        by: rng.pick(b.branch.adminIds),
      });
    if (b.outcome === 'visit') events.push({ t: s.arrival, suffix: 'WON', by: rng.pick(b.branch.adminIds) });
    else if (b.outcome === 'noshow')
      events.push({ t: noShowMark(rng, b.day), suffix: 'LOSE', by: rng.pick(b.branch.adminIds) });
    d.events = events;
    d.TITLE = `Запись: ${patientTitle(p)}, ${dir.name}`;
    d.CATEGORY_ID = APPOINTMENT_CATEGORY_ID;
    return d;
  }

  // Direction deal.
  const start = at(b.day, b.start);
  const end = at(b.day, b.start + b.dur);
  const closer = rng.pick(b.branch.adminIds);
  const events: Ev[] = [{ t: s.createdAt, suffix: 'NEW', by: s.createdAt === b.bookedAt ? admin : closer }];
  const quirk = s.quirk;
  if (s.kind === 'duplicate') {
    // A second card for the same visit, opened by mistake and deleted.
  } else if (b.outcome === 'noshow') {
    events.push({ t: noShowMark(rng, b.day), suffix: 'LOSE', by: closer });
  } else if (b.outcome === 'visit') {
    const prep = start + rng.int(5, 10) * MINUTE;
    let won = true;
    switch (b.path) {
      case 'diag':
        events.push({ t: prep, suffix: 'PREPARATION', by: doctor });
        break;
      case 'planAccepted': {
        const offered = start + Math.floor(b.dur * 0.6) * MINUTE;
        events.push(
          { t: prep, suffix: 'PREPARATION', by: doctor },
          { t: offered, suffix: 'PREPAYMENT_INVOICE', by: doctor },
        );
        events.push({ t: Math.min(end, offered + rng.int(2, 15) * MINUTE), suffix: 'EXECUTING', by: doctor });
        break;
      }
      case 'planRefused':
        events.push(
          { t: prep, suffix: 'PREPARATION', by: doctor },
          { t: start + Math.floor(b.dur * 0.6) * MINUTE, suffix: 'PREPAYMENT_INVOICE', by: doctor },
        );
        break;
      case 'planRefusedFree': {
        events.push(
          { t: prep, suffix: 'PREPARATION', by: doctor },
          { t: start + Math.floor(b.dur * 0.6) * MINUTE, suffix: 'PREPAYMENT_INVOICE', by: doctor },
        );
        // The refusal is recorded after the visit or after a follow-up call days later.
        const t = rng.chance(0.5)
          ? end + rng.int(0, 30) * MINUTE
          : at(b.day + rng.int(1, 7), rng.int(11 * 60, 18 * 60));
        events.push({ t, suffix: 'APOLOGY', by: closer });
        won = false;
        break;
      }
      case 'treatment':
        events.push({ t: start + rng.int(5, 12) * MINUTE, suffix: 'FINAL_INVOICE', by: doctor });
        break;
      default:
        break;
    }
    if (quirk === 'stuck') {
      if (events.length === 1)
        events.push({ t: start + rng.int(5, 12) * MINUTE, suffix: 'FINAL_INVOICE', by: doctor });
      won = false;
    }
    if (won) {
      const nextDay = b.day + 1 < ctx.endDay && rng.chance(0.05);
      const close = nextDay
        ? at(b.day + 1, rng.int(9 * 60, 11 * 60), rng.int(0, 59))
        : end + rng.int(0, 30) * MINUTE + rng.int(0, 59) * 1000;
      events.push({ t: close, suffix: 'WON', by: closer });
    }
  }

  const currency = p?.foreign ? 'USD' : quirk === 'eur' ? 'EUR' : 'RUB';
  d.events = events;
  d.TITLE = `${patientTitle(p)} — ${dir.name}`;
  d.CATEGORY_ID = dir.categoryId;
  d.CURRENCY_ID = currency;
  if (quirk === 'adminAssigned') d.ASSIGNED_BY_ID = admin;
  if (quirk === 'ufMissing') d.UF_DIRECTION = null;
  if (b.outcome !== 'visit') return d;
  const built = buildRows(ctx.catalog, b.lines, b.day, {
    currency: currency === 'EUR' ? 'RUB' : currency,
    discount: currency === 'RUB' ? pickDiscount(rng) : { kind: 'none' },
    customRow: quirk === 'customRow',
    negativeRow: quirk === 'negativeRow',
  });
  if (quirk === 'noRows' || quirk === 'eur') {
    // The administrator typed the amount by hand instead of adding services.
    const rub = rowsTotal(built);
    const amount =
      quirk === 'eur'
        ? Math.max(1, Math.round(rub / 100 / RATES.EUR)) * 100
        : Math.max(100, Math.round(rub / 10_000) * 10_000);
    d.OPPORTUNITY = money(amount);
    d.IS_MANUAL_OPPORTUNITY = 'Y';
    d.revenue = quirk === 'eur' ? Math.round(amount * RATES.EUR) : amount;
    return d;
  }
  d.OPPORTUNITY = money(rowsTotal(built));
  d.TAX_VALUE = money(rowsTax(built));
  d.rows = built;
  d.revenue = rowsAccountTotal(built);
  return d;
}

function generalDeal(ctx: DealContext, s: DealSpec): Draft {
  const { rng } = ctx;
  const d = new Draft();
  d.CATEGORY_ID = GENERAL_CATEGORY_ID;
  d.IS_MANUAL_OPPORTUNITY = 'Y';
  d.CLOSEDATE = ymd(localDayOf(s.createdAt) + 14);
  if (s.kind === 'test') {
    d.events = [{ t: s.createdAt, suffix: 'NEW', by: ctx.portalAdminId }];
    d.TITLE = 'Тестовая сделка';
    d.OPPORTUNITY = 1000;
    d.ASSIGNED_BY_ID = ctx.portalAdminId;
    return d;
  }
  const branch = rng.pick(ctx.branches);
  const owner = ctx.marketerId !== null && rng.chance(0.4) ? ctx.marketerId : rng.pick(branch.adminIds);
  const events: Ev[] = [{ t: s.createdAt, suffix: 'NEW', by: owner }];
  const r = rng.next();
  if (r < 0.7) events.push({ t: s.createdAt + rng.int(1, 48) * HOUR, suffix: 'PREPARATION', by: owner });
  if (r < 0.5) events.push({ t: s.createdAt + rng.int(3, 30) * 24 * HOUR, suffix: 'LOSE', by: owner });
  else if (r < 0.6)
    events.push({ t: s.createdAt + rng.int(3, 10) * 24 * HOUR, suffix: 'EXECUTING', by: owner });
  const candidate = ctx.patients.length > 0 ? rng.pick(ctx.patients) : null;
  const contact =
    candidate && candidate.createdAt < s.createdAt && rng.chance(0.6) ? candidate.contactId : null;
  d.events = events;
  d.TITLE = rng.pick(GENERAL_TITLES);
  d.OPPORTUNITY = rng.int(5, 300) * 1000;
  d.ASSIGNED_BY_ID = owner;
  d.CONTACT_ID = contact;
  d.CONTACT_IDS = contact === null ? [] : [contact];
  d.SOURCE_ID = rng.pick(['CALL', 'WEB', 'ADVERTISING', 'EMAIL']);
  d.UF_BRANCH = ctx.uf.branch ? ctx.uf.branch.items[branch.index]! : null;
  return d;
}
