// Leads: web forms, ads, aggregator bookings and unknown callers. Patients from those channels
// start as a lead that the front desk converts while booking the first visit (the contact and the
// first deals carry LEAD_ID); about a third of leads never become patients (spam, "too expensive",
// unreachable) — lead_to_appointment lands in the article's 60–80 % band.
import type { PortalData } from '../store.js';
import type { HistoryLog } from './history.js';
import type { Patient } from './journeys.js';
import { mobilePhone, personName } from './names.js';
import type { Rng } from './random.js';
import { leadSemantic } from './reference.js';
import type { Branch } from './staff.js';
import { at, HOUR, localDayOf, localHour, localMinute, MINUTE } from './time.js';

export interface LeadEvent {
  t: number;
  status: string;
}

export interface LeadSpec {
  id: number;
  createdAt: number;
  patient: Patient | null;
  branch: Branch;
  name: string;
  lastName: string;
  phone: string;
  email: string | null;
  source: string;
  title: string;
  utm: readonly [string, string, string] | null;
  events: LeadEvent[];
  assigned: number;
  description: string | null;
  /** Outgoing call attempts nobody answered (the calls generator writes them). */
  failedCalls: number[];
  /** Answered call that is the lead itself (unknown caller, short). */
  answeredCall: { t: number; incoming: boolean } | null;
}

const TITLES: Record<string, string> = {
  WEB: 'Заявка с сайта ulybka-dent.ru',
  ADVERTISING: 'Заявка из рекламы (Яндекс Директ)',
  UC_PRODOC: 'Запись через ПроДокторов',
  EMAIL: 'Письмо на info@ulybka-dent.ru',
  RECOMMENDATION: 'Обращение по рекомендации',
  OTHER: 'Обращение',
};

/** Administrators call back during working hours: the next moment between 9:00 and 20:30. */
function workingTime(rng: Rng, t: number): number {
  const h = localHour(t);
  if (h >= 9 && (h < 20 || (h === 20 && localMinute(t) < 30))) return t;
  const day = localDayOf(t) + (h >= 20 ? 1 : 0);
  return at(day, 9 * 60 + rng.int(0, 120), rng.int(0, 59));
}

const CAMPAIGNS = [
  'implantaciya_2025',
  'detskaya_stomatologiya',
  'gigiena_akciya',
  'brand',
  'brekety_rassrochka',
];

function utmFor(rng: Rng, source: string): LeadSpec['utm'] {
  if (source === 'ADVERTISING') return ['yandex', 'cpc', rng.pick(CAMPAIGNS)];
  if (source === 'WEB')
    return rng.chance(0.5) ? [rng.chance(0.7) ? 'yandex' : 'google', 'organic', ''] : null;
  if (source === 'UC_PRODOC') return ['prodoctorov', 'referral', 'profile'];
  return null;
}

function titleFor(source: string, phone: string): string {
  return source === 'CALL' ? `Входящий звонок ${phone}` : (TITLES[source] ?? 'Обращение');
}

export interface LeadPlan {
  leads: LeadSpec[];
  /** UTM of each patient's lead, copied to the contact and the first deals. */
  utmOf: Map<Patient, LeadSpec['utm']>;
}

export function planLeads(
  rng: Rng,
  patients: Patient[],
  branches: Branch[],
  startDay: number,
  endDay: number,
  asOfMs: number,
): LeadPlan {
  const leads: LeadSpec[] = [];
  const utmOf = new Map<Patient, LeadSpec['utm']>();
  const startMs = at(startDay, 8 * 60);
  let converted = 0;
  for (const p of patients) {
    const b = p.firstBooking;
    if (!p.hasLead || !b) continue;
    const booked = b.bookedAt;
    let created: number;
    const events: LeadEvent[] = [];
    const failedCalls: number[] = [];
    if (b.channel === 'in') {
      created = booked - rng.int(1, 6) * MINUTE;
      events.push({ t: created, status: 'NEW' });
    } else {
      created = booked - (b.channel === 'out' ? rng.int(10, 36 * 60) : rng.int(60, 72 * 60)) * MINUTE;
      created = Math.max(created, Math.min(startMs, booked - 5 * MINUTE));
      events.push({ t: created, status: 'NEW' });
      let firstTouch = booked - MINUTE;
      if (b.channel === 'out' && booked - created > 30 * MINUTE && rng.chance(0.3)) {
        const attempt = workingTime(rng, created + Math.floor((booked - created) * rng.real(0.1, 0.6)));
        if (attempt < booked - 5 * MINUTE) {
          firstTouch = attempt;
          failedCalls.push(attempt);
        }
      }
      events.push({ t: Math.max(created + 1000, firstTouch), status: 'IN_PROCESS' });
    }
    events.push({ t: booked, status: 'CONVERTED' });
    const utm = utmFor(rng, p.source);
    utmOf.set(p, utm);
    const branch = branches[p.branch]!;
    leads.push({
      id: 0,
      createdAt: created,
      patient: p,
      branch,
      name: p.parent ? p.parent.person.name : p.person.name,
      lastName: p.parent ? p.parent.person.lastName : p.person.lastName,
      phone: p.phone,
      email: p.email,
      source: p.source,
      title: titleFor(p.source, p.phone),
      utm,
      events,
      assigned: b.bookedBy,
      description: null,
      failedCalls,
      answeredCall: null,
    });
    converted++;
  }

  // Leads that never became patients.
  const lost = Math.round(converted * 0.45) + 1;
  const span = endDay - startDay;
  for (let i = 0; i < lost; i++) {
    const branch = rng.pick(branches);
    const source = rng.choose<string>([
      ['WEB', 0.3],
      ['ADVERTISING', 0.22],
      ['UC_PRODOC', 0.13],
      ['CALL', 0.3],
      ['OTHER', 0.05],
    ]);
    const day = startDay + rng.int(0, span - 1);
    const created =
      source === 'CALL'
        ? at(day, rng.int(9 * 60, 20 * 60 + 59), rng.int(0, 59))
        : at(day, rng.int(0, 1439), rng.int(0, 59));
    const person = personName(rng, rng.chance(0.6) ? 'F' : 'M');
    const phone = mobilePhone(rng);
    const events: LeadEvent[] = [{ t: created, status: 'NEW' }];
    const failedCalls: number[] = [];
    let answeredCall: LeadSpec['answeredCall'] = null;
    let description: string | null = null;
    const touch = workingTime(rng, created + rng.int(5, 180) * MINUTE);
    if (source === 'CALL') answeredCall = { t: created, incoming: true };
    const outcome = rng.choose<string>([
      ['JUNK', 0.55],
      ['PROCESSED', 0.2],
      ['IN_PROCESS', 0.1],
      ['NEW', 0.15],
    ]);
    if (outcome !== 'NEW') {
      events.push({ t: touch, status: 'IN_PROCESS' });
      if (source !== 'CALL') {
        if (rng.chance(0.5)) failedCalls.push(touch);
        else answeredCall = { t: touch, incoming: false };
      }
    }
    if (outcome === 'JUNK' || outcome === 'PROCESSED') {
      events.push({ t: touch + rng.int(1, 72) * HOUR, status: outcome });
      description =
        outcome === 'JUNK'
          ? rng.pick(['Спам', 'Ошиблись номером', 'Не дозвонились', 'Дорого', 'Выбрали другую клинику'])
          : 'Перезвонить позже';
    }
    const kept = events.filter((e) => e.t < asOfMs);
    leads.push({
      id: 0,
      createdAt: created,
      patient: null,
      branch,
      name: source === 'CALL' && rng.chance(0.5) ? '' : person.name,
      lastName: source === 'CALL' ? '' : person.lastName,
      phone,
      email: null,
      source,
      title: titleFor(source, phone),
      utm: utmFor(rng, source),
      events: kept,
      assigned: rng.pick(branch.adminIds),
      description: kept.length === events.length ? description : null,
      failedCalls: failedCalls.filter((t) => t < asOfMs - 10 * MINUTE),
      answeredCall: answeredCall && answeredCall.t < asOfMs - 10 * MINUTE ? answeredCall : null,
    });
  }
  leads.sort((a, b) => a.createdAt - b.createdAt);
  leads.forEach((l, i) => {
    l.id = i + 1;
    if (l.patient) l.patient.leadId = l.id;
  });
  return { leads, utmOf };
}

export function writeLeads(
  data: PortalData,
  leads: LeadSpec[],
  history: HistoryLog,
  multiId: { next: number },
): void {
  const table = data.table('lead');
  for (const l of leads) {
    const last = l.events[l.events.length - 1]!;
    const sem = leadSemantic(last.status);
    const p = l.patient;
    table.insert({
      ID: l.id,
      TITLE: l.title,
      NAME: l.name || null,
      LAST_NAME: l.lastName || null,
      STATUS_ID: last.status,
      STATUS_SEMANTIC_ID: sem,
      STATUS_DESCRIPTION: l.description,
      SOURCE_ID: l.source,
      SOURCE_DESCRIPTION: null,
      CURRENCY_ID: 'RUB',
      OPPORTUNITY: 0,
      IS_MANUAL_OPPORTUNITY: 'N',
      IS_RETURN_CUSTOMER: 'N',
      HAS_PHONE: 'Y',
      HAS_EMAIL: l.email ? 'Y' : 'N',
      ASSIGNED_BY_ID: l.assigned,
      CREATED_BY_ID: l.assigned,
      MODIFY_BY_ID: l.assigned,
      DATE_CREATE: l.createdAt,
      DATE_MODIFY: last.t,
      DATE_CLOSED: sem === 'P' ? null : last.t,
      MOVED_TIME: last.t,
      CONTACT_ID: p ? p.contactId : null,
      COMPANY_ID: null,
      BIRTHDATE: null,
      OPENED: 'Y',
      UTM_SOURCE: l.utm?.[0] ?? null,
      UTM_MEDIUM: l.utm?.[1] ?? null,
      UTM_CAMPAIGN: l.utm?.[2] || null,
      UTM_CONTENT: null,
      UTM_TERM: null,
      PHONE: [{ ID: multiId.next++, VALUE_TYPE: 'WORK', VALUE: l.phone, TYPE_ID: 'PHONE' }],
      ...(l.email
        ? { EMAIL: [{ ID: multiId.next++, VALUE_TYPE: 'WORK', VALUE: l.email, TYPE_ID: 'EMAIL' }] }
        : {}),
    });
    l.events.forEach((e, i) =>
      history.push(1, l.id, i === 0 ? 1 : 2, e.t, null, e.status, leadSemantic(e.status)),
    );
  }
}
