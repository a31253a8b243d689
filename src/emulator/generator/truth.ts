// What the generator knows it generated, computed from its own plans (not by reading the tables
// back), so tests can hold any KPI implementation against an independent answer.
import type { EntityName } from '../entities.js';

export interface TruthVisit {
  dealId: number;
  contactId: number | null;
  /** ASSIGNED_BY_ID of the deal (the default doctor mapping of kpi.md §1). */
  doctorId: number;
  categoryId: number;
  directionName: string;
  /** Local 'YYYY-MM-DD' of CLOSEDATE. */
  visitDate: string;
  /** Account currency (RUB): Σ PRICE_ACCOUNT × QUANTITY over rows, or OPPORTUNITY × rate without rows. */
  revenue: number;
}

export interface DirectionTotals {
  visits: number;
  /** Distinct contacts with at least one visit in the direction. */
  patients: number;
  revenue: number;
}

export interface GroundTruth {
  accountCurrency: 'RUB';
  timeZone: 'Europe/Moscow';
  utcOffsetMinutes: 180;
  /** First local day of the history and the (exclusive) last one. */
  historyStart: string;
  asOf: string;
  /** One entry per visit deal (direction pipeline, stage semantics S), ascending dealId. */
  visits: TruthVisit[];
  /** contactId → dealId of the patient's first-ever visit (same day: the lower deal id). */
  firstVisitDealByContact: Map<number, number>;
  deletedDealIds: number[];
  deletedContactIds: number[];
  /** Rows per table after generation. */
  counts: Record<EntityName, number>;
  noContactVisitDealIds: number[];
  foreignCurrencyDealIds: number[];
  /** Visits without product rows (revenue = OPPORTUNITY, IS_MANUAL_OPPORTUNITY = Y). */
  noRowsVisitDealIds: number[];
  /** Treated and billed (rows present) but never moved to the success stage: not visits. */
  stuckOpenDealIds: number[];
  /** Visits whose ASSIGNED_BY_ID is an administrator while the "Врач" field holds the doctor. */
  doctorFieldDiffersDealIds: number[];
  negativeRowDealIds: number[];
  /** Visits with a row that has no catalog product (PRODUCT_ID 0, free-text name). */
  customRowDealIds: number[];
  /** Visits of a patient on a day they already had a visit (lower deal id): not returns. */
  sameDayRepeatDealIds: number[];
  /** Products whose catalog PRICE now differs from the price in older rows. */
  priceChangedProductIds: number[];
  /** Users who left (ACTIVE false) and have visits. */
  leftDoctorIds: number[];
  byDirection: Record<string, DirectionTotals>;
  totals: { visits: number; patients: number; revenue: number };
}
