// Facts from a synced portal: after a full sync of the generated clinic, clinic_visit holds exactly the
// generator's visits (its ground truth, computed from its own plans), with the doctor, direction, date,
// patient and account-currency revenue it planned; first visits match its first-visit map. Then the
// portal changes (rows edited, a deal moved out of the won stage, a deal deleted, a new visit, a
// patient's first visit deleted) and an incremental refresh must equal a full rebuild, touching only
// the changed deals. Both dialects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FactBuilder } from '../../src/clinic/facts.js';
import { populateClinic, type GeneratedClinic } from '../../src/emulator/generator/index.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { createTestStore, DIALECTS, type TestStore } from '../fixtures/stores.js';
import { syncSetup } from '../fixtures/sync-setup.js';

describe.each(DIALECTS)('clinic facts on %s', (dialect) => {
  let emu: RunningEmulator;
  let store: TestStore;
  let gen!: GeneratedClinic;
  let portalId: string;
  let engine: Awaited<ReturnType<typeof syncSetup>>['engine'];
  let facts: FactBuilder;

  beforeAll(async () => {
    emu = await startEmulator({ limits: 'off', populate: (e) => void (gen = populateClinic(e.portal.data, { seed: 3, scale: 'tiny' })) });
    store = await createTestStore(dialect);
    const inst = await emu.emulator.installApp({ clientId: 'local.facts' });
    ({ engine, portalId } = await syncSetup(store.db, inst));
    expect((await engine.run(portalId, 'full')).status).toBe('finished');
    facts = new FactBuilder(store.db);
  }, 60_000);
  afterAll(async () => {
    await emu?.close();
    await store?.dispose();
  });

  const visitsNow = () =>
    store.db
      .selectFrom('clinic_visit')
      .select(['deal_id', 'patient_id', 'doctor_id', 'direction_id', 'visit_date', 'revenue_minor', 'visit_number', 'is_first', 'first_date'])
      .where('portal_id', '=', portalId)
      .orderBy('deal_id')
      .execute();
  const patientsNow = () =>
    store.db.selectFrom('clinic_patient').selectAll().where('portal_id', '=', portalId).orderBy('patient_id').execute();
  const linesNow = () =>
    store.db.selectFrom('clinic_service_line').selectAll().where('portal_id', '=', portalId).orderBy('row_id').execute();

  const fullVisitsNow = () => store.db.selectFrom('clinic_visit').selectAll().where('portal_id', '=', portalId).orderBy('deal_id').execute();
  const monthsNow = async () => ({
    visits: await store.db
      .selectFrom('clinic_visit_month')
      .selectAll()
      .where('portal_id', '=', portalId)
      .orderBy('visit_month')
      .orderBy('doctor_id')
      .orderBy('direction_id')
      .orderBy('source_id')
      .execute(),
    lines: await store.db
      .selectFrom('clinic_service_month')
      .selectAll()
      .where('portal_id', '=', portalId)
      .orderBy('visit_month')
      .orderBy('service_id')
      .orderBy('doctor_id')
      .orderBy('direction_id')
      .execute(),
    patients: await store.db
      .selectFrom('clinic_patient_month')
      .selectAll()
      .where('portal_id', '=', portalId)
      .orderBy('split')
      .orderBy('visit_month')
      .orderBy('group_id')
      .orderBy('prev_month')
      .orderBy('second_month')
      .execute(),
  });

  const daysNow = () =>
    store.db
      .selectFrom('clinic_visit_day')
      .select(['visit_date', 'doctor_id', 'direction_id', 'source_id', 'visits', 'revenue_minor', 'new_patients'])
      .where('portal_id', '=', portalId)
      .orderBy('visit_date')
      .orderBy('doctor_id')
      .orderBy('direction_id')
      .orderBy('source_id')
      .execute();

  it('a full build equals the generator’s visits and first visits', async () => {
    const r = await facts.refresh(portalId);
    expect(r.kind).toBe('full');
    const visits = await visitsNow();
    const truth = gen.truth.visits;
    expect(r.visits).toBe(truth.length);
    expect(visits.map((v) => v.deal_id)).toEqual(truth.map((t) => t.dealId));
    const dirByName = new Map(gen.layout.directions.map((d) => [d.name, String(d.categoryId)]));
    expect(visits.map((v) => [v.patient_id, v.doctor_id, v.direction_id, v.visit_date, v.revenue_minor])).toEqual(
      truth.map((t) => [t.contactId, String(t.doctorId), dirByName.get(t.directionName), t.visitDate, Math.round(t.revenue * 100)]),
    );
    // First visits: exactly the generator's first deal of every patient.
    const firsts = visits.filter((v) => v.is_first === 1).map((v) => [v.patient_id, v.deal_id]);
    expect(new Map(firsts as [number, number][])).toEqual(gen.truth.firstVisitDealByContact);
    // Same-day second deals are visit 2 on the first day, not first visits.
    for (const id of gen.truth.sameDayRepeatDealIds) expect(visits.find((v) => v.deal_id === id)?.is_first).toBe(0);
    // The tiny clinic has each quirk the model must handle.
    expect(gen.truth.noContactVisitDealIds.length).toBeGreaterThan(0);
    for (const id of gen.truth.noContactVisitDealIds) expect(visits.find((v) => v.deal_id === id)?.patient_id).toBeNull();

    const patients = await patientsNow();
    expect(patients.map((p) => p.patient_id)).toEqual([...gen.truth.firstVisitDealByContact.keys()].sort((a, b) => a - b));
    // Per patient, worked out from the truth's visit list.
    for (const p of patients) {
      const mine = truth.filter((t) => t.contactId === p.patient_id).sort((a, b) => a.visitDate.localeCompare(b.visitDate) || a.dealId - b.dealId);
      const first = mine[0]!;
      const later = mine.filter((t) => t.visitDate > first.visitDate);
      const days = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 86_400_000;
      const laterSame = later.filter((t) => t.doctorId === first.doctorId);
      expect([p.first_deal_id, p.first_date, p.visit_count, p.lifetime_revenue_minor, p.return_days_clinic, p.return_days_doctor]).toEqual([
        first.dealId,
        first.visitDate,
        mine.length,
        mine.reduce((s, t) => s + Math.round(t.revenue * 100), 0),
        later.length ? days(first.visitDate, later[0]!.visitDate) : null,
        laterSame.length ? days(first.visitDate, laterSame[0]!.visitDate) : null,
      ]);
    }
    // A second refresh with nothing new does nothing.
    expect((await facts.refresh(portalId)).kind).toBe('none');
  });

  it('after the portal changes, an incremental refresh equals a full rebuild and touches only the changed deals', async () => {
    const crm = emu.emulator.crm;
    const t = gen.truth;
    const [edited, moved, deleted] = t.visits.filter((v) => v.contactId !== null && !t.noRowsVisitDealIds.includes(v.dealId)).slice(5, 8);
    crm.setProductRows(edited!.dealId, [{ PRODUCT_NAME: 'Отбеливание', PRICE: 12345.67, QUANTITY: 2 }]);
    const wonToLost = gen.layout.directions.find((d) => d.categoryId === moved!.categoryId)!.pipeline.stages.LOSE!;
    crm.update('deal', moved!.dealId, { STAGE_ID: wonToLost });
    crm.delete('deal', deleted!.dealId);
    // A patient's first visit deleted: their second visit becomes the first.
    const firstDeal = [...t.firstVisitDealByContact.entries()].find(([c]) => t.visits.filter((v) => v.contactId === c).length > 2)!;
    crm.delete('deal', firstDeal[1]);
    const won = gen.layout.directions[0]!.pipeline.stages.WON!;
    const added = crm.add('deal', {
      TITLE: 'Новый визит',
      CATEGORY_ID: gen.layout.directions[0]!.categoryId,
      STAGE_ID: won,
      CONTACT_ID: edited!.contactId,
      ASSIGNED_BY_ID: edited!.doctorId,
      CLOSEDATE: '2026-10-30',
      CURRENCY_ID: 'RUB',
      OPPORTUNITY: 5000,
    });
    crm.setProductRows(added.ID, [{ PRODUCT_NAME: 'Чистка', PRICE: 5000, QUANTITY: 1 }]);

    // Incremental runs see changes; deletions come with events or the reconciliation pass.
    expect((await engine.run(portalId, 'incremental')).status).toBe('finished');
    expect((await engine.run(portalId, 'reconcile')).status).toBe('finished');
    const inc = await facts.refresh(portalId);
    expect(inc.kind).toBe('incremental');
    // Deals examined: the changed ones and the deleted ones, not the portal.
    expect(inc.deals).toBeLessThanOrEqual(10);
    const after = { visits: await visitsNow(), lines: await linesNow(), patients: await patientsNow(), days: await daysNow() };
    const afterMore = { visits: await fullVisitsNow(), months: await monthsNow() };
    expect(afterMore.months.visits.length).toBeGreaterThan(0);
    expect(afterMore.months.lines.length).toBeGreaterThan(0);
    expect(afterMore.months.patients.length).toBeGreaterThan(0);
    expect(after.visits.find((v) => v.deal_id === moved!.dealId)).toBeUndefined();
    expect(after.visits.find((v) => v.deal_id === deleted!.dealId)).toBeUndefined();
    expect(after.visits.find((v) => v.deal_id === edited!.dealId)?.revenue_minor).toBe(2_469_134);
    expect(after.visits.find((v) => v.deal_id === added.ID)).toMatchObject({ visit_date: '2026-10-30', revenue_minor: 500_000 });
    const nextFirst = after.patients.find((p) => p.patient_id === firstDeal[0])!;
    expect(nextFirst.first_deal_id).toBe(
      t.visits
        .filter((v) => v.contactId === firstDeal[0] && v.dealId !== firstDeal[1] && v.dealId !== moved!.dealId && v.dealId !== deleted!.dealId)
        .sort((a, b) => a.visitDate.localeCompare(b.visitDate) || a.dealId - b.dealId)[0]!.dealId,
    );

    const rebuilt = await facts.refresh(portalId, { full: true });
    expect(rebuilt.kind).toBe('full');
    expect(await visitsNow()).toEqual(after.visits);
    expect(await linesNow()).toEqual(after.lines);
    expect(await patientsNow()).toEqual(after.patients);
    expect(await daysNow()).toEqual(after.days);
    expect(await fullVisitsNow()).toEqual(afterMore.visits);
    expect(await monthsNow()).toEqual(afterMore.months);
  });
});
