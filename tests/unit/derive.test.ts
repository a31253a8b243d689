// The row-level mapping of kpi.md §1 under each setting: visit stages, the date field in the portal's
// time zone (23:30 on the last day of a month stays in that month), doctor and direction from user
// fields or product sections, revenue from OPPORTUNITY, currencies. Expected values by hand.
import { describe, expect, it } from 'vitest';
import { deriveVisit, type DealInput, type ModelContext, type RowInput } from '../../src/clinic/derive.js';
import { DEFAULT_SETTINGS, parseSettings, SettingsError, type ClinicSettings } from '../../src/clinic/settings.js';
import { addMonths, localDate, weekStart } from '../../src/clinic/calendar.js';

const deal = (over: Partial<DealInput> = {}): DealInput => ({
  id: 1,
  category_id: 1,
  stage_id: 'C1:WON',
  stage_semantic_id: 'S',
  currency_id: 'RUB',
  opportunity_minor: 150_000,
  contact_id: 100,
  company_id: 900,
  assigned_by_id: 10,
  source_id: 'CALL',
  begindate: '2026-01-05',
  closedate: '2026-01-31',
  date_create: '2026-01-31T20:30:00.000Z',
  uf: JSON.stringify({ UF_CRM_DOC: '11', UF_CRM_DIR: 46, UF_CRM_WHEN: '2026-02-01T00:30:00+03:00', UF_CRM_DAY: '2026-03-08' }),
  ...over,
});
const row = (id: number, product: number | null, price: number, qty: number, account: number | null = price): RowInput => ({
  id,
  deal_id: 1,
  product_id: product,
  product_name: product ? `P${product}` : 'Консультация',
  price_minor: price,
  price_account_minor: account,
  quantity: qty,
});
const ctx = (s: Partial<ClinicSettings> = {}): ModelContext => ({
  settings: { ...DEFAULT_SETTINGS, appointment: { pipelines: [7], noShowStages: [] }, ...s },
  accountCurrency: 'RUB',
  rates: new Map([
    ['RUB', 1],
    ['USD', 90],
  ]),
  stageSemantics: new Map([
    ['1|C1:WON', 'S'],
    ['1|C1:PAID', 'P'],
    ['1|C1:LOSE', 'F'],
    ['7|C7:WON', 'S'],
  ]),
  productSection: new Map([
    [1, 501],
    [2, 502],
  ]),
  dateOnlyFields: new Set(['UF_CRM_DAY']),
});

describe('deriveVisit', () => {
  it('the defaults: success stage, CLOSEDATE, assigned user, pipeline, product rows', () => {
    const d = deriveVisit(deal(), [row(1, 1, 100_000, 2), row(2, null, 30_000, 1)], ctx())!;
    expect(d.visit).toMatchObject({
      deal_id: 1,
      patient_id: 100,
      doctor_id: '10',
      direction_id: '1',
      visit_date: '2026-01-31',
      visit_week: '2026-01-26',
      visit_month: '2026-01-01',
      revenue_minor: 230_000,
      row_count: 2,
      bad_rows: 0,
      converted: 0,
    });
    expect(d.lines.map((l) => [l.service_id, l.revenue_minor])).toEqual([
      ['1', 200_000],
      ['name:Консультация', 30_000],
    ]);
  });

  it('which deals are visits', () => {
    expect(deriveVisit(deal({ stage_id: 'C1:LOSE' }), [], ctx())).toBeNull();
    expect(deriveVisit(deal({ category_id: 7, stage_id: 'C7:WON' }), [], ctx())).toBeNull();
    // Chosen stages replace the success semantics for that pipeline.
    const chosen = ctx({ visit: { pipelines: null, stages: { '1': ['C1:PAID'] } } });
    expect(deriveVisit(deal({ stage_id: 'C1:PAID' }), [], chosen)).not.toBeNull();
    expect(deriveVisit(deal(), [], chosen)).toBeNull();
    // Only the named pipelines.
    expect(deriveVisit(deal(), [], ctx({ visit: { pipelines: [2], stages: null } }))).toBeNull();
  });

  it('dates visits in the portal’s zone: 23:30 on 31 January stays in January, 00:30 on 1 February does not', () => {
    const byCreate = ctx({ visitDate: 'DATE_CREATE' });
    expect(deriveVisit(deal(), [], byCreate)!.visit.visit_date).toBe('2026-01-31');
    expect(deriveVisit(deal({ date_create: '2026-01-31T21:30:00.000Z' }), [], byCreate)!.visit.visit_month).toBe('2026-02-01');
    // The same instant in Vladivostok (+10) is already 1 February.
    expect(deriveVisit(deal(), [], ctx({ visitDate: 'DATE_CREATE', timeZone: 'Asia/Vladivostok' }))!.visit.visit_date).toBe('2026-02-01');
    expect(deriveVisit(deal(), [], ctx({ visitDate: 'UF_CRM_WHEN' }))!.visit.visit_date).toBe('2026-02-01');
    expect(deriveVisit(deal(), [], ctx({ visitDate: 'UF_CRM_DAY' }))!.visit.visit_date).toBe('2026-03-08');
    expect(deriveVisit(deal(), [], ctx({ visitDate: 'BEGINDATE' }))!.visit.visit_date).toBe('2026-01-05');
    const why: string[] = [];
    expect(deriveVisit(deal({ closedate: null }), [], ctx(), (w) => why.push(w))).toBeNull();
    expect(why).toEqual(['no_date']);
  });

  it('doctor and direction from user fields or product sections; patient from the company', () => {
    const d = deriveVisit(
      deal(),
      [],
      ctx({ doctor: { source: 'user_field', field: 'UF_CRM_DOC' }, direction: { source: 'user_field', field: 'UF_CRM_DIR' }, patient: 'company' }),
    )!;
    expect([d.visit.doctor_id, d.visit.direction_id, d.visit.patient_id]).toEqual(['11', '46', 900]);
    expect(deriveVisit(deal({ uf: '{}' }), [], ctx({ doctor: { source: 'user_field', field: 'UF_CRM_DOC' } }))!.visit.doctor_id).toBeNull();
    // By product section: each line keeps its section; the visit goes to the section earning most.
    const s = deriveVisit(deal(), [row(1, 1, 1000, 1), row(2, 2, 5000, 1), row(3, null, 9000, 1)], ctx({ direction: { source: 'product_section' } }))!;
    expect(s.lines.map((l) => l.direction_id)).toEqual(['501', '502', null]);
    expect(s.visit.direction_id).toBe('502');
  });

  it('revenue: OPPORTUNITY without rows or when chosen; other currencies converted; bad rows flagged', () => {
    expect(deriveVisit(deal(), [], ctx())!.visit.revenue_minor).toBe(150_000);
    expect(deriveVisit(deal(), [row(1, 1, 1000, 1)], ctx({ revenue: 'opportunity' }))!.visit.revenue_minor).toBe(150_000);
    const usd = deriveVisit(deal({ currency_id: 'USD', opportunity_minor: 5000 }), [], ctx())!;
    expect([usd.visit.revenue_minor, usd.visit.converted]).toEqual([450_000, 1]);
    // Rows: Bitrix24's own account-currency price first, our rate only without it.
    const rows = deriveVisit(deal({ currency_id: 'USD' }), [row(1, 1, 1000, 2, 91_000), row(2, 2, 500, 1, null)], ctx())!;
    expect(rows.visit.revenue_minor).toBe(2 * 91_000 + 45_000);
    const bad = deriveVisit(deal(), [row(1, 1, 0, 1), row(2, 2, -500, 1), row(3, 2, 500, 1)], ctx())!;
    expect([bad.visit.bad_rows, bad.visit.revenue_minor]).toEqual([2, 0]);
    // An unknown currency is not converted (and counted as not converted).
    expect(deriveVisit(deal({ currency_id: 'XYZ' }), [], ctx())!.visit.converted).toBe(0);
  });
});

describe('settings and calendar', () => {
  it('refuses bad settings naming the field', () => {
    expect(() => parseSettings({ ...DEFAULT_SETTINGS, doctor: { source: 'user_field', field: 'TITLE' } })).toThrow(SettingsError);
    expect(() => parseSettings({ ...DEFAULT_SETTINGS, extra: 1 })).toThrow(/extra|additional/i);
    expect(() => parseSettings({ ...DEFAULT_SETTINGS, timeZone: 'Europe/Nowhere' })).toThrow('unknown time zone');
    expect(() => parseSettings({ ...DEFAULT_SETTINGS, schedule: { incremental: 'every ten minutes', reconcile: null } })).toThrow(
      '/schedule/incremental: not a cron expression',
    );
    expect(parseSettings({ ...DEFAULT_SETTINGS, schedule: { incremental: '*/5 * * * *', reconcile: null } }).schedule.incremental).toBe('*/5 * * * *');
    expect(parseSettings(DEFAULT_SETTINGS)).toEqual(DEFAULT_SETTINGS);
  });

  it('weeks start on Monday, months clamp, zones move dates', () => {
    expect(weekStart('2026-01-04')).toBe('2025-12-29');
    expect(weekStart('2026-01-05')).toBe('2026-01-05');
    expect(addMonths('2026-03-31', -1)).toBe('2026-02-28');
    expect(addMonths('2024-03-31', -1)).toBe('2024-02-29');
    expect(addMonths('2026-01-15', -12)).toBe('2025-01-15');
    expect(localDate('2026-06-30T21:30:00Z', 'Europe/Moscow')).toBe('2026-07-01');
    expect(localDate('2026-06-30T21:30:00Z', 'Europe/Kaliningrad')).toBe('2026-06-30');
  });
});
