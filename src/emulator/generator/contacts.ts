// Patient cards (contacts). IDs follow registration time like a real portal's; a few duplicates
// are registered by mistake and deleted (gaps in the ID sequence), and a couple of contacts are
// suppliers, not patients — a patient count must filter on TYPE_ID or on having visits.
import type { PortalData } from '../store.js';
import type { Patient } from './journeys.js';
import type { LeadSpec } from './leads.js';
import { personName } from './names.js';
import type { Rng } from './random.js';
import type { Branch } from './staff.js';
import { at, MINUTE, ymd } from './time.js';

interface ContactSpec {
  createdAt: number;
  patient: Patient | null;
  /** Duplicate card of this patient (deleted after insertion). */
  duplicateOf: Patient | null;
  supplier: { name: string; lastName: string; post: string; phone: string } | null;
  id: number;
}

export interface ContactResult {
  deletedContactIds: number[];
}

export function writeContacts(
  data: PortalData,
  rng: Rng,
  patients: Patient[],
  branches: Branch[],
  utmOf: Map<Patient, LeadSpec['utm']>,
  firstVisitStart: Map<Patient, number>,
  cardFieldName: string,
  startDay: number,
  asOfMs: number,
  multiId: { next: number },
): ContactResult {
  const specs: ContactSpec[] = patients.map((p) => ({
    createdAt: p.createdAt,
    patient: p,
    duplicateOf: null,
    supplier: null,
    id: 0,
  }));
  const dupCount = Math.max(1, Math.round(patients.length * 0.003));
  for (let i = 0; i < dupCount && patients.length > 0; i++) {
    const p = rng.pick(patients);
    const t = p.createdAt + rng.int(30, 60 * 24 * 20) * MINUTE;
    if (t < asOfMs - 2 * 60 * MINUTE)
      specs.push({ createdAt: t, patient: null, duplicateOf: p, supplier: null, id: 0 });
  }
  const lab = personName(rng, 'M');
  specs.push({
    createdAt: at(startDay, 11 * 60),
    patient: null,
    duplicateOf: null,
    supplier: {
      name: lab.name,
      lastName: lab.lastName,
      post: 'Менеджер зуботехнической лаборатории «Дентал-Арт»',
      phone: '+7495' + String(rng.int(2_000_000, 9_999_999)),
    },
    id: 0,
  });
  const rep = personName(rng, 'F');
  specs.push({
    createdAt: at(startDay + 3, 15 * 60),
    patient: null,
    duplicateOf: null,
    supplier: {
      name: rep.name,
      lastName: rep.lastName,
      post: 'Представитель Osstem Implant',
      phone: '+7495' + String(rng.int(2_000_000, 9_999_999)),
    },
    id: 0,
  });
  specs.sort((a, b) => a.createdAt - b.createdAt);
  specs.forEach((s, i) => {
    s.id = i + 1;
    if (s.patient) s.patient.contactId = s.id;
  });

  const table = data.table('contact');
  const cardSeq = branches.map(() => 0);
  const deleted: number[] = [];
  for (const s of specs) {
    const p = s.patient ?? s.duplicateOf;
    if (s.supplier) {
      table.insert({
        ID: s.id,
        ...baseContact(),
        NAME: s.supplier.name,
        LAST_NAME: s.supplier.lastName,
        POST: s.supplier.post,
        TYPE_ID: 'SUPPLIER',
        SOURCE_ID: 'OTHER',
        ASSIGNED_BY_ID: 1,
        CREATED_BY_ID: 1,
        MODIFY_BY_ID: 1,
        DATE_CREATE: s.createdAt,
        DATE_MODIFY: s.createdAt + 2 * MINUTE,
        HAS_PHONE: 'Y',
        PHONE: [{ ID: multiId.next++, VALUE_TYPE: 'WORK', VALUE: s.supplier.phone, TYPE_ID: 'PHONE' }],
        [cardFieldName]: null,
      });
      continue;
    }
    if (!p) continue;
    const first = firstVisitStart.get(p);
    // The card is completed (birth date, card number) when the patient first sits in the chair.
    let modified =
      first !== undefined && !s.duplicateOf
        ? first + rng.int(5, 40) * MINUTE
        : s.createdAt + rng.int(0, 5) * MINUTE;
    if (!s.duplicateOf && rng.chance(0.15)) modified += Math.floor((asOfMs - modified) * rng.next());
    if (modified >= asOfMs) modified = Math.max(s.createdAt, asOfMs - rng.int(1, 600) * 1000);
    const utm = s.duplicateOf ? null : (utmOf.get(p) ?? null);
    const card = s.duplicateOf
      ? null
      : `${branches[p.branch]!.shortName[0]}-${String(++cardSeq[p.branch]!).padStart(5, '0')}`;
    const parent = p.parent;
    table.insert({
      ID: s.id,
      ...baseContact(),
      NAME: p.person.name,
      SECOND_NAME: p.person.secondName || null,
      LAST_NAME: p.person.lastName,
      TYPE_ID: 'CLIENT',
      SOURCE_ID: s.duplicateOf ? 'CALL' : p.source,
      LEAD_ID: s.duplicateOf ? null : p.leadId,
      BIRTHDATE: p.birthDay === null ? null : ymd(p.birthDay),
      HAS_PHONE: 'Y',
      HAS_EMAIL: p.email ? 'Y' : 'N',
      ASSIGNED_BY_ID: p.admin,
      CREATED_BY_ID: p.admin,
      MODIFY_BY_ID: p.admin,
      DATE_CREATE: s.createdAt,
      DATE_MODIFY: Math.max(s.createdAt, modified),
      COMMENTS: parent
        ? `Законный представитель: ${parent.person.lastName} ${parent.person.name} ${parent.person.secondName}`
        : null,
      UTM_SOURCE: utm?.[0] ?? null,
      UTM_MEDIUM: utm?.[1] ?? null,
      UTM_CAMPAIGN: utm?.[2] || null,
      PHONE: [{ ID: multiId.next++, VALUE_TYPE: 'MOBILE', VALUE: p.phone, TYPE_ID: 'PHONE' }],
      ...(p.email
        ? { EMAIL: [{ ID: multiId.next++, VALUE_TYPE: 'HOME', VALUE: p.email, TYPE_ID: 'EMAIL' }] }
        : {}),
      [cardFieldName]: card,
    });
    if (s.duplicateOf) deleted.push(s.id);
  }
  for (const id of deleted) table.delete(id);
  return { deletedContactIds: deleted };
}

function baseContact() {
  return {
    HONORIFIC: null,
    NAME: null as string | null,
    SECOND_NAME: null as string | null,
    LAST_NAME: null as string | null,
    POST: null as string | null,
    TYPE_ID: 'CLIENT',
    SOURCE_ID: null as string | null,
    SOURCE_DESCRIPTION: null,
    COMPANY_ID: null,
    LEAD_ID: null as number | null,
    BIRTHDATE: null as string | null,
    EXPORT: 'Y',
    HAS_PHONE: 'N',
    HAS_EMAIL: 'N',
    HAS_IMOL: 'N',
    OPENED: 'Y',
    COMMENTS: null as string | null,
    ORIGINATOR_ID: null,
    ORIGIN_ID: null,
    UTM_SOURCE: null as string | null,
    UTM_MEDIUM: null as string | null,
    UTM_CAMPAIGN: null as string | null,
    UTM_CONTENT: null,
    UTM_TERM: null,
  };
}
