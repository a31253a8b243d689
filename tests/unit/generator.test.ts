import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Row } from '../../src/emulator/entities.js';
import { populateClinic, type GeneratedClinic, type TruthVisit } from '../../src/emulator/generator/index.js';
import { PortalData } from '../../src/emulator/store.js';

// Everything below is recomputed from the raw tables, never taken from `truth`, so the generator's
// own bookkeeping is checked rather than trusted.

const DAY = 86_400_000;
const OFFSET = 3 * 3_600_000;
const dayNum = (ymd: string) => Date.parse(`${ymd}T00:00:00Z`) / DAY;
const localYmd = (ms: number) => new Date(ms + OFFSET).toISOString().slice(0, 10);
const localHour = (ms: number) => new Date(ms + OFFSET).getUTCHours();
const kop = (x: number) => Math.round(x * 100);
const r2 = (x: number) => Math.round(x * 100) / 100;

function rows(data: PortalData, entity: Parameters<PortalData['table']>[0]): Row[] {
  return [...data.table(entity).ascendingFrom(0)];
}

function dump(data: PortalData): string {
  return JSON.stringify(Object.fromEntries(Object.keys(data.tables).map((k) => [k, rows(data, k as never)])));
}

function dumpTruth(g: GeneratedClinic): string {
  return JSON.stringify({ ...g.truth, firstVisitDealByContact: [...g.truth.firstVisitDealByContact] });
}

interface Portal {
  data: PortalData;
  gen: GeneratedClinic;
}

function generate(seed: number, scale: 'tiny' | 'clinic', asOf?: string): Portal {
  const data = new PortalData();
  const gen = populateClinic(data, { seed, scale, ...(asOf ? { asOf } : {}) });
  return { data, gen };
}

/** Direction pipelines: every deal category except the general funnel and the appointment one. */
function directionCategories(data: PortalData): Map<number, string> {
  const out = new Map<number, string>();
  for (const c of rows(data, 'category'))
    if (c.ID !== 0 && c.NAME !== 'Записи на прием') out.set(c.ID, String(c.NAME));
  return out;
}

function rates(data: PortalData): Map<string, number> {
  return new Map(
    rows(data, 'currency').map((c) => [String(c.CURRENCY), Number(c.AMOUNT) / Number(c.AMOUNT_CNT)]),
  );
}

function rowsByDeal(data: PortalData): Map<number, Row[]> {
  const out = new Map<number, Row[]>();
  for (const r of data.table('productrow').all()) {
    if (r.OWNER_TYPE !== 'D') continue;
    const id = r.OWNER_ID as number;
    let a = out.get(id);
    if (!a) out.set(id, (a = []));
    a.push(r);
  }
  return out;
}

/** The default clinic model (kpi.md §1): a visit is a deal of a direction pipeline at a success stage. */
function recomputeVisits(data: PortalData): TruthVisit[] {
  const cats = directionCategories(data);
  const rate = rates(data);
  const byDeal = rowsByDeal(data);
  const success = new Set(
    rows(data, 'status')
      .filter((s) => s.SEMANTICS === 'S')
      .map((s) => String(s.STATUS_ID)),
  );
  const out: TruthVisit[] = [];
  for (const d of rows(data, 'deal')) {
    const cat = d.CATEGORY_ID as number;
    if (!cats.has(cat) || !success.has(String(d.STAGE_ID))) continue;
    const dealRows = byDeal.get(d.ID);
    let revenueKop = 0;
    if (dealRows && dealRows.length > 0)
      for (const r of dealRows) revenueKop += kop((r.PRICE_ACCOUNT as number) * (r.QUANTITY as number));
    else revenueKop = kop((d.OPPORTUNITY as number) * rate.get(String(d.CURRENCY_ID))!);
    out.push({
      dealId: d.ID,
      contactId: (d.CONTACT_ID as number | null) ?? null,
      doctorId: d.ASSIGNED_BY_ID as number,
      categoryId: cat,
      directionName: cats.get(cat)!,
      visitDate: String(d.CLOSEDATE),
      revenue: revenueKop / 100,
    });
  }
  return out;
}

function byDirection(
  visits: TruthVisit[],
): Map<string, { patients: Set<number>; kop: number; visits: number }> {
  const out = new Map<string, { patients: Set<number>; kop: number; visits: number }>();
  for (const v of visits) {
    let a = out.get(v.directionName);
    if (!a) out.set(v.directionName, (a = { patients: new Set(), kop: 0, visits: 0 }));
    a.visits++;
    a.kop += kop(v.revenue);
    if (v.contactId !== null) a.patients.add(v.contactId);
  }
  return out;
}

/** 180-day return to the clinic by the doctor of the first visit (kpi.md §4), mature cohorts only. */
function returnRates(
  visits: TruthVisit[],
  asOf: string,
): Map<number, { cohort: number; returned: number; newPatients: number }> {
  const byContact = new Map<number, TruthVisit[]>();
  for (const v of visits) {
    if (v.contactId === null) continue;
    let a = byContact.get(v.contactId);
    if (!a) byContact.set(v.contactId, (a = []));
    a.push(v);
  }
  const out = new Map<number, { cohort: number; returned: number; newPatients: number }>();
  const end = dayNum(asOf);
  for (const vs of byContact.values()) {
    vs.sort((a, b) => a.visitDate.localeCompare(b.visitDate) || a.dealId - b.dealId);
    const first = vs[0]!;
    const d0 = dayNum(first.visitDate);
    let s = out.get(first.doctorId);
    if (!s) out.set(first.doctorId, (s = { cohort: 0, returned: 0, newPatients: 0 }));
    s.newPatients++;
    if (d0 > end - 180) continue;
    s.cohort++;
    if (vs.some((v) => dayNum(v.visitDate) > d0 && dayNum(v.visitDate) <= d0 + 180)) s.returned++;
  }
  return out;
}

function priceIdentityFailures(data: PortalData): string[] {
  const rate = rates(data);
  const deals = data.table('deal');
  const bad: string[] = [];
  const twoDecimals = (x: number) => Math.abs(x * 100 - Math.round(x * 100)) < 1e-6;
  for (const r of data.table('productrow').all()) {
    const netto = r.PRICE_NETTO as number;
    const excl = r.PRICE_EXCLUSIVE as number;
    const price = r.PRICE as number;
    const brutto = r.PRICE_BRUTTO as number;
    const acc = r.PRICE_ACCOUNT as number;
    const dsum = r.DISCOUNT_SUM as number;
    const drate = r.DISCOUNT_RATE as number;
    const tax = r.TAX_RATE as number;
    const cur = String(deals.get(r.OWNER_ID as number)!.CURRENCY_ID);
    const checks: [string, boolean][] = [
      ['2 decimals', [netto, excl, price, brutto, acc, dsum].every(twoDecimals)],
      ['exclusive = netto - discountSum', Math.abs(excl - (netto - dsum)) < 0.005],
      [
        'discountSum = netto * rate',
        r.DISCOUNT_TYPE_ID !== 2 || Math.abs(dsum - r2((netto * drate) / 100)) < 0.005,
      ],
      [
        'absolute discount rate',
        r.DISCOUNT_TYPE_ID !== 1 || Math.abs(drate - r2((dsum / netto) * 100)) < 0.005,
      ],
      ['price = exclusive * (1 + tax)', Math.abs(price - r2(excl * (1 + tax / 100))) < 0.005],
      ['brutto = netto * (1 + tax)', Math.abs(brutto - r2(netto * (1 + tax / 100))) < 0.005],
      ['account = price * rate', Math.abs(acc - r2(price * rate.get(cur)!)) < 0.005],
      ['measure', r.MEASURE_CODE === 796 && r.MEASURE_NAME === 'шт'],
      ['type', r.TYPE === 7 || r.TYPE === 1],
    ];
    for (const [name, ok] of checks) if (!ok) bad.push(`row ${r.ID}: ${name}`);
    if (bad.length > 20) break;
  }
  return bad;
}

function opportunityFailures(data: PortalData): string[] {
  const byDeal = rowsByDeal(data);
  const bad: string[] = [];
  for (const d of data.table('deal').all()) {
    const rs = byDeal.get(d.ID);
    if (!rs || d.IS_MANUAL_OPPORTUNITY !== 'N') continue;
    let sum = 0;
    for (const r of rs) sum += kop((r.PRICE as number) * (r.QUANTITY as number));
    if (kop(d.OPPORTUNITY as number) !== sum)
      bad.push(`deal ${d.ID}: ${String(d.OPPORTUNITY)} != ${sum / 100}`);
  }
  return bad;
}

function sortVisits(v: TruthVisit[]): TruthVisit[] {
  return [...v].sort((a, b) => a.dealId - b.dealId);
}

describe('clinic generator — tiny', () => {
  let tiny: Portal;
  beforeAll(() => {
    tiny = generate(7, 'tiny');
  });

  it('is deterministic: same seed ⇒ same data, another seed or asOf ⇒ different data', () => {
    const again = generate(7, 'tiny');
    expect(dump(again.data)).toBe(dump(tiny.data));
    expect(dumpTruth(again.gen)).toBe(dumpTruth(tiny.gen));
    expect(dump(generate(8, 'tiny').data)).not.toBe(dump(tiny.data));
    expect(dump(generate(7, 'tiny', '2026-06-01').data)).not.toBe(dump(tiny.data));
  });

  it('never reads the wall clock', () => {
    vi.useFakeTimers({ now: new Date('2001-02-03T04:05:06Z') });
    try {
      expect(dump(generate(7, 'tiny').data)).toBe(dump(tiny.data));
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a portal that already has data', () => {
    expect(() => populateClinic(tiny.data, { seed: 1, scale: 'tiny' })).toThrow(/empty/);
  });

  it('has the tiny sizes: 40–80 patients over ~12 months, ~5 doctors', () => {
    const patients = rows(tiny.data, 'contact').filter((c) => c.TYPE_ID === 'CLIENT');
    expect(patients.length).toBeGreaterThanOrEqual(40);
    expect(patients.length).toBeLessThanOrEqual(80);
    const { truth, layout } = tiny.gen;
    expect(dayNum(truth.asOf) - dayNum(truth.historyStart)).toBeGreaterThanOrEqual(360);
    expect(dayNum(truth.asOf) - dayNum(truth.historyStart)).toBeLessThanOrEqual(370);
    const doctors = layout.doctors.filter((d) => d.active);
    expect(doctors.length).toBeGreaterThanOrEqual(4);
    expect(doctors.length).toBeLessThanOrEqual(7);
    expect(truth.visits.length).toBeGreaterThan(60);
    expect(truth.visits.length).toBeLessThan(600);
    expect(truth.counts.productrow).toBe(tiny.data.table('productrow').size);
    for (const [name, t] of Object.entries(tiny.data.tables))
      expect(truth.counts[name as never]).toBe(t.size);
  });

  it('holds the reference data of a dental clinic portal', () => {
    const { data, gen } = tiny;
    const cats = rows(data, 'category');
    expect(cats.find((c) => c.ID === 0)).toMatchObject({ IS_DEFAULT: 'Y', ENTITY_TYPE_ID: 2 });
    expect(cats.filter((c) => c.ID >= 1 && c.ID <= 6).map((c) => c.NAME)).toEqual([
      'Терапия',
      'Ортопедия',
      'Хирургия и имплантация',
      'Ортодонтия',
      'Детская стоматология',
      'Гигиена',
    ]);
    const statuses = rows(data, 'status');
    for (const c of cats) {
      const entityId = c.ID === 0 ? 'DEAL_STAGE' : `DEAL_STAGE_${c.ID}`;
      const stages = statuses.filter((s) => s.ENTITY_ID === entityId);
      expect(stages.filter((s) => s.SEMANTICS === 'S')).toHaveLength(1);
      for (const s of stages) {
        expect(s.CATEGORY_ID).toBe(c.ID === 0 ? null : c.ID);
        expect(String(s.STATUS_ID).startsWith(c.ID === 0 ? '' : `C${c.ID}:`)).toBe(true);
        expect((s.EXTRA as { SEMANTICS: string }).SEMANTICS).toMatch(/^(process|success|failure|apology)$/);
      }
    }
    const appt = statuses.filter((s) => s.ENTITY_ID === 'DEAL_STAGE_7').map((s) => [s.NAME, s.SEMANTICS]);
    expect(appt).toEqual([
      ['Записан', null],
      ['Подтвержден', null],
      ['Пришел', 'S'],
      ['Не пришел', 'F'],
    ]);
    expect(
      statuses.some(
        (s) => s.ENTITY_ID === 'SOURCE' && s.STATUS_ID === 'RECOMMENDATION' && s.NAME === 'По рекомендации',
      ),
    ).toBe(true);
    expect(statuses.filter((s) => s.ENTITY_ID === 'STATUS').map((s) => s.STATUS_ID)).toEqual([
      'NEW',
      'IN_PROCESS',
      'PROCESSED',
      'CONVERTED',
      'JUNK',
    ]);

    const ufs = rows(data, 'userfield');
    const dir = ufs.find((u) => u.FIELD_NAME === gen.layout.userFields.direction.fieldName)!;
    expect(dir).toMatchObject({ ENTITY_ID: 'CRM_DEAL', USER_TYPE_ID: 'enumeration' });
    expect((dir.LIST as { VALUE: string }[]).map((i) => i.VALUE)).toContain('Детская стоматология');
    for (const i of dir.LIST as Record<string, unknown>[]) expect(typeof i.ID).toBe('number');
    expect(ufs.find((u) => u.FIELD_NAME === gen.layout.userFields.doctor.fieldName)).toMatchObject({
      USER_TYPE_ID: 'employee',
    });

    const users = rows(data, 'user');
    expect(users[0]).toMatchObject({ ID: 1, IS_ADMIN: true, ACTIVE: true });
    expect(users.filter((u) => u.ACTIVE === false)).toHaveLength(1);
    expect(users.every((u) => u.USER_TYPE === 'employee' && Array.isArray(u.UF_DEPARTMENT))).toBe(true);
    const depts = rows(data, 'department');
    expect(depts.filter((d) => d.PARENT === null)).toHaveLength(1);
    expect(depts.map((d) => d.NAME)).toContain('Администраторы');

    const cur = rows(data, 'currency');
    expect(cur.find((c) => c.CURRENCY === 'RUB')).toMatchObject({ BASE: 'Y', AMOUNT: 1 });
    expect(cur.map((c) => c.CURRENCY).sort()).toEqual(['EUR', 'RUB', 'USD']);

    const products = rows(data, 'product');
    expect(products.length).toBeGreaterThanOrEqual(60);
    expect(products.length).toBeLessThanOrEqual(120);
    const sectionIds = new Set(rows(data, 'productsection').map((s) => s.ID));
    expect(products.every((p) => sectionIds.has(p.SECTION_ID as number) && p.CURRENCY_ID === 'RUB')).toBe(
      true,
    );
  });

  it('writes product rows that satisfy the §7.3 price identities to the kopeck', () => {
    expect(priceIdentityFailures(tiny.data)).toEqual([]);
    const discounted = rows(tiny.data, 'productrow').filter((r) => (r.DISCOUNT_SUM as number) > 0);
    expect(discounted.length).toBeGreaterThan(0);
    expect(rows(tiny.data, 'productrow').some((r) => (r.QUANTITY as number) > 1)).toBe(true);
  });

  it('keeps OPPORTUNITY = Σ PRICE × QUANTITY on deals with rows', () => {
    expect(opportunityFailures(tiny.data)).toEqual([]);
  });

  it('returns truth that agrees with a recomputation from the raw rows', () => {
    const { data, gen } = tiny;
    expect(sortVisits(recomputeVisits(data))).toEqual(sortVisits(gen.truth.visits));
    // First-ever visit per patient, ties on a day broken by the lower deal id.
    const first = new Map<number, TruthVisit>();
    for (const v of gen.truth.visits) {
      if (v.contactId === null) continue;
      const f = first.get(v.contactId);
      if (!f || v.visitDate < f.visitDate || (v.visitDate === f.visitDate && v.dealId < f.dealId))
        first.set(v.contactId, v);
    }
    expect(new Map([...first].map(([c, v]) => [c, v.dealId]))).toEqual(gen.truth.firstVisitDealByContact);
  });

  it('keeps deleted records out of every table', () => {
    const { data, gen } = tiny;
    const deleted = new Set(gen.truth.deletedDealIds);
    expect(deleted.size).toBeGreaterThan(0);
    for (const id of deleted) expect(data.table('deal').get(id)).toBeUndefined();
    expect(rows(data, 'productrow').some((r) => deleted.has(r.OWNER_ID as number))).toBe(false);
    expect(
      rows(data, 'stagehistory').some((h) => h.ENTITY_TYPE_ID === 2 && deleted.has(h.OWNER_ID as number)),
    ).toBe(false);
    // Their IDs were taken: gaps in the sequence, like a real portal.
    expect(Math.max(...deleted)).toBeLessThan(data.table('deal').nextId());
    for (const id of gen.truth.deletedContactIds) expect(data.table('contact').get(id)).toBeUndefined();
  });

  it('contains each untidy case of real data', () => {
    const { data, gen } = tiny;
    const visits = recomputeVisits(data);
    const deals = data.table('deal');
    const byDeal = rowsByDeal(data);
    const rate = rates(data);

    const noContact = visits.filter((v) => v.contactId === null);
    expect(noContact.length).toBeGreaterThan(0);
    expect(noContact.map((v) => v.dealId)).toEqual(gen.truth.noContactVisitDealIds);

    const left = rows(data, 'user').find((u) => u.ACTIVE === false)!;
    expect(visits.some((v) => v.doctorId === left.ID)).toBe(true);
    expect(gen.truth.leftDoctorIds).toEqual([left.ID]);

    const usd = visits
      .map((v) => deals.get(v.dealId)!)
      .filter((d) => d.CURRENCY_ID === 'USD' && byDeal.has(d.ID));
    expect(usd.length).toBeGreaterThan(0);
    for (const d of usd) {
      for (const r of byDeal.get(d.ID)!)
        expect(r.PRICE_ACCOUNT).toBeCloseTo((r.PRICE as number) * rate.get('USD')!, 2);
    }
    const foreign = visits.filter((v) => deals.get(v.dealId)!.CURRENCY_ID !== 'RUB').map((v) => v.dealId);
    expect(foreign).toEqual(gen.truth.foreignCurrencyDealIds);

    const noRows = visits.filter((v) => !byDeal.has(v.dealId));
    expect(noRows.length).toBeGreaterThan(0);
    expect(noRows.every((v) => deals.get(v.dealId)!.IS_MANUAL_OPPORTUNITY === 'Y' && v.revenue > 0)).toBe(
      true,
    );
    expect(noRows.some((v) => deals.get(v.dealId)!.CURRENCY_ID === 'EUR')).toBe(true);

    // A catalog price changed after older rows were written.
    const products = data.table('product');
    const changed = rows(data, 'productrow').filter(
      (r) =>
        (r.PRODUCT_ID as number) > 0 &&
        r.DISCOUNT_SUM === 0 &&
        deals.get(r.OWNER_ID as number)!.CURRENCY_ID === 'RUB' &&
        r.PRICE_BRUTTO !== products.get(r.PRODUCT_ID as number)!.PRICE,
    );
    expect(changed.length).toBeGreaterThan(0);

    const visitIds = new Set(visits.map((v) => v.dealId));
    const paidRows = rows(data, 'productrow').filter((r) => visitIds.has(r.OWNER_ID as number));
    expect(paidRows.some((r) => r.PRICE === 0)).toBe(true);
    expect(paidRows.some((r) => (r.PRICE as number) < 0)).toBe(true);
    expect(paidRows.some((r) => r.PRODUCT_ID === 0 && (r.PRICE as number) > 0)).toBe(true);

    // A second visit deal of the same patient on the same day.
    const seen = new Set<string>();
    let sameDay = 0;
    for (const v of sortVisits(visits)) {
      if (v.contactId === null) continue;
      const k = `${v.contactId}|${v.visitDate}`;
      if (seen.has(k)) sameDay++;
      seen.add(k);
    }
    expect(sameDay).toBeGreaterThan(0);
    expect(sameDay).toBe(gen.truth.sameDayRepeatDealIds.length);

    // The administrator is responsible while the "Врач" field names the doctor.
    const docField = gen.layout.userFields.doctor.fieldName;
    const differs = visits.filter((v) => deals.get(v.dealId)![docField] !== v.doctorId);
    expect(differs.length).toBeGreaterThan(0);
    expect(differs.map((v) => v.dealId)).toEqual(gen.truth.doctorFieldDiffersDealIds);

    // Billed but never closed: not a visit.
    expect(gen.truth.stuckOpenDealIds.length).toBeGreaterThan(0);
    for (const id of gen.truth.stuckOpenDealIds) {
      expect(deals.get(id)!.STAGE_SEMANTIC_ID).toBe('P');
      expect(byDeal.has(id)).toBe(true);
    }
  });

  it('keeps times inside the history and modification after creation', () => {
    const { data, gen } = tiny;
    const asOfMs = Date.parse(`${gen.truth.asOf}T00:00:00+03:00`);
    const startMs = Date.parse(`${gen.truth.historyStart}T00:00:00+03:00`) - 400 * DAY;
    const within = (t: unknown) => t === null || (typeof t === 'number' && t >= startMs && t < asOfMs);
    for (const entity of ['deal', 'contact', 'lead'] as const) {
      for (const r of data.table(entity).all()) {
        expect(within(r.DATE_CREATE) && within(r.DATE_MODIFY)).toBe(true);
        expect(r.DATE_MODIFY as number).toBeGreaterThanOrEqual(r.DATE_CREATE as number);
      }
    }
    for (const h of data.table('stagehistory').all()) expect(within(h.CREATED_TIME)).toBe(true);
    for (const c of data.table('call').all()) expect(within(c.CALL_START_DATE)).toBe(true);
    for (const a of data.table('activity').all())
      expect(within(a.START_TIME) && within(a.END_TIME)).toBe(true);
    // Visits are dated before asOf; some appointments are booked for after it.
    for (const v of gen.truth.visits) expect(v.visitDate < gen.truth.asOf).toBe(true);
    const appt = gen.layout.appointmentPipeline;
    expect(
      rows(data, 'deal').some(
        (d) => d.CATEGORY_ID === appt.categoryId && String(d.CLOSEDATE) >= gen.truth.asOf,
      ),
    ).toBe(true);
  });

  it('creates records in ID order and never points at a record that did not exist yet', () => {
    const { data } = tiny;
    for (const entity of ['deal', 'contact', 'lead'] as const) {
      const rs = rows(data, entity);
      for (let i = 1; i < rs.length; i++)
        expect(rs[i]!.DATE_CREATE as number).toBeGreaterThanOrEqual(rs[i - 1]!.DATE_CREATE as number);
    }
    const contacts = data.table('contact');
    for (const d of data.table('deal').all()) {
      for (const id of d.CONTACT_IDS as number[])
        expect(contacts.get(id)!.DATE_CREATE as number).toBeLessThanOrEqual(d.DATE_CREATE as number);
      if (d.CONTACT_ID !== null) expect(d.CONTACT_IDS).toContain(d.CONTACT_ID);
    }
  });

  it('records every stage move, in time order, ending at the current stage', () => {
    const { data } = tiny;
    const hist = rows(data, 'stagehistory');
    for (let i = 1; i < hist.length; i++)
      expect(hist[i]!.CREATED_TIME as number).toBeGreaterThanOrEqual(hist[i - 1]!.CREATED_TIME as number);
    const last = new Map<string, Row>();
    for (const h of hist) last.set(`${String(h.ENTITY_TYPE_ID)}:${String(h.OWNER_ID)}`, h);
    for (const d of data.table('deal').all()) {
      const h = last.get(`2:${d.ID}`)!;
      expect(h.STAGE_ID).toBe(d.STAGE_ID);
      expect(h.STAGE_SEMANTIC_ID).toBe(d.STAGE_SEMANTIC_ID);
      expect(h.CATEGORY_ID).toBe(d.CATEGORY_ID);
    }
    for (const l of data.table('lead').all()) expect(last.get(`1:${l.ID}`)!.STAGE_ID).toBe(l.STATUS_ID);
    // Plans were offered and accepted somewhere.
    expect(hist.some((h) => String(h.STAGE_ID).endsWith(':EXECUTING'))).toBe(true);
    expect(hist.some((h) => h.TYPE_ID === 1) && hist.some((h) => h.TYPE_ID === 2)).toBe(true);
  });

  it('treats children in the children’s direction', () => {
    const { data } = tiny;
    const contacts = data.table('contact');
    const kids = recomputeVisits(data).filter(
      (v) => v.directionName === 'Детская стоматология' && v.contactId !== null,
    );
    expect(kids.length).toBeGreaterThan(0);
    for (const v of kids) {
      const birth = String(contacts.get(v.contactId!)!.BIRTHDATE);
      const age = (dayNum(v.visitDate) - dayNum(birth)) / 365.25;
      expect(age).toBeGreaterThan(0);
      expect(age).toBeLessThan(18);
    }
  });

  it('links leads, contacts and deals, calls and their activities', () => {
    const { data } = tiny;
    const leads = rows(data, 'lead');
    const converted = leads.filter((l) => l.STATUS_ID === 'CONVERTED');
    expect(converted.length).toBeGreaterThan(0);
    for (const l of converted) expect(data.table('contact').get(l.CONTACT_ID as number)!.LEAD_ID).toBe(l.ID);
    expect(
      rows(data, 'deal').some((d) => d.LEAD_ID !== null && converted.some((l) => l.ID === d.LEAD_ID)),
    ).toBe(true);
    expect(leads.some((l) => l.STATUS_ID === 'JUNK')).toBe(true);
    const activities = data.table('activity');
    for (const c of data.table('call').all()) {
      if (c.CRM_ENTITY_TYPE === null) continue;
      const a = activities.get(c.CRM_ACTIVITY_ID as number)!;
      expect(a).toMatchObject({
        TYPE_ID: 2,
        PROVIDER_ID: 'VOXIMPLANT_CALL',
        OWNER_ID: c.CRM_ENTITY_ID,
        START_TIME: c.CALL_START_DATE,
      });
      expect(a.OWNER_TYPE_ID).toBe(c.CRM_ENTITY_TYPE === 'LEAD' ? 1 : 3);
      expect(a.DIRECTION).toBe(c.CALL_TYPE === 2 ? 1 : 2);
    }
    for (const c of data.table('contact').all()) {
      if (c.TYPE_ID !== 'CLIENT') continue;
      const phone = (c.PHONE as { VALUE: string; TYPE_ID: string }[])[0]!;
      expect(phone.TYPE_ID).toBe('PHONE');
      expect(phone.VALUE).toMatch(/^\+\d{10,13}$/);
    }
  });
});

describe('clinic generator — clinic scale', () => {
  let clinic: Portal;
  let visits: TruthVisit[];
  beforeAll(() => {
    const t0 = performance.now();
    clinic = generate(2026, 'clinic');
    // Logged, not asserted: timing depends on the machine.
    console.info(
      `clinic scale generated in ${Math.round(performance.now() - t0)} ms`,
      clinic.gen.truth.counts,
    );
    visits = recomputeVisits(clinic.data);
  }, 120_000);

  it('has the size of a busy clinic: ~15 000 patients, 3 years, tens of thousands of visits a year', () => {
    const { truth } = clinic.gen;
    const patients = rows(clinic.data, 'contact').filter((c) => c.TYPE_ID === 'CLIENT').length;
    expect(patients).toBeGreaterThan(13_000);
    expect(patients).toBeLessThan(17_000);
    const lastYear = visits.filter((v) => dayNum(v.visitDate) >= dayNum(truth.asOf) - 365);
    expect(lastYear.length).toBeGreaterThan(25_000);
    expect(lastYear.length).toBeLessThan(55_000);
    const ids = new Set(lastYear.map((v) => v.dealId));
    const lastYearRows = rows(clinic.data, 'productrow').filter((r) => ids.has(r.OWNER_ID as number)).length;
    expect(lastYearRows).toBeGreaterThan(90_000);
    expect(lastYearRows).toBeLessThan(200_000);
  });

  it('reproduces the seed: children bring ~3× the patients of orthopedics, orthopedics ~1.6× the revenue', () => {
    const dirs = byDirection(visits);
    const kids = dirs.get('Детская стоматология')!;
    const ortho = dirs.get('Ортопедия')!;
    const patientRatio = kids.patients.size / ortho.patients.size;
    const revenueRatio = ortho.kop / kids.kop;
    expect(patientRatio).toBeGreaterThan(2.4);
    expect(patientRatio).toBeLessThan(3.6);
    expect(revenueRatio).toBeGreaterThan(1.4);
    expect(revenueRatio).toBeLessThan(1.8);
  });

  it('agrees with its truth and keeps the money identities at scale', () => {
    expect(sortVisits(visits)).toEqual(sortVisits(clinic.gen.truth.visits));
    expect(priceIdentityFailures(clinic.data)).toEqual([]);
    expect(opportunityFailures(clinic.data)).toEqual([]);
  });

  it('shows doctors that differ clearly in how often their new patients return within 180 days', () => {
    const stats = returnRates(visits, clinic.gen.truth.asOf);
    const therapists = clinic.gen.layout.doctors.filter((d) => d.directions.includes('therapy'));
    const rate = (id: number) => stats.get(id)!.returned / stats.get(id)!.cohort;
    const warning = therapists.find((d) => d.role === 'warning')!;
    const loyal = therapists.find((d) => d.role === 'loyal')!;
    expect(rate(loyal.userId)).toBeGreaterThan(0.6);
    expect(rate(warning.userId)).toBeLessThan(0.35);
    // The warning-sign doctor sees more new patients than any other therapist.
    for (const d of therapists)
      if (d !== warning)
        expect(stats.get(warning.userId)!.newPatients).toBeGreaterThan(stats.get(d.userId)!.newPatients);
    const all = [...stats.values()].filter((s) => s.cohort >= 100).map((s) => s.returned / s.cohort);
    expect(Math.max(...all) - Math.min(...all)).toBeGreaterThan(0.3);
  });

  it('has realistic no-shows and more missed calls at peak hours', () => {
    const appt = clinic.gen.layout.appointmentPipeline;
    const closed = rows(clinic.data, 'deal').filter(
      (d) => d.CATEGORY_ID === appt.categoryId && d.STAGE_SEMANTIC_ID !== 'P',
    );
    const noShow = closed.filter((d) => d.STAGE_SEMANTIC_ID === 'F').length / closed.length;
    expect(noShow).toBeGreaterThan(0.04);
    expect(noShow).toBeLessThan(0.09);
    const incoming = rows(clinic.data, 'call').filter((c) => c.CALL_TYPE === 2);
    const missedShare = (peak: boolean) => {
      const calls = incoming.filter(
        (c) => [9, 10, 17, 18].includes(localHour(c.CALL_START_DATE as number)) === peak,
      );
      return calls.filter((c) => c.CALL_FAILED_CODE === '304').length / calls.length;
    };
    expect(missedShare(true)).toBeGreaterThan(missedShare(false) * 1.5);
    // A few calls per patient, not millions.
    expect(clinic.data.table('call').size / clinic.data.table('contact').size).toBeLessThan(12);
  });

  it('spreads DATE_MODIFY mostly shortly after the visit, with a tail and ties', () => {
    const deals = rows(clinic.data, 'deal').filter((d) => d.STAGE_SEMANTIC_ID === 'S');
    const lag = deals.map(
      (d) => (d.DATE_MODIFY as number) - Date.parse(`${String(d.CLOSEDATE)}T00:00:00+03:00`),
    );
    const within2Days = lag.filter((l) => l < 2 * DAY).length / lag.length;
    expect(within2Days).toBeGreaterThan(0.7);
    expect(lag.some((l) => l > 30 * DAY)).toBe(true);
    const counts = new Map<number, number>();
    for (const d of deals)
      counts.set(d.DATE_MODIFY as number, (counts.get(d.DATE_MODIFY as number) ?? 0) + 1);
    let maxTies = 0;
    let latest = 0;
    for (const n of counts.values()) maxTies = Math.max(maxTies, n);
    for (const d of deals) latest = Math.max(latest, d.DATE_MODIFY as number);
    expect(maxTies).toBeGreaterThan(1);
    expect(localYmd(latest) < clinic.gen.truth.asOf).toBe(true);
  });
});
