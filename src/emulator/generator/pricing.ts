// Product-row money in integer minor units (kopecks / cents), so every row satisfies the price
// identities of reference §7.3 exactly after rounding to 2 decimals:
//   PRICE_EXCLUSIVE = PRICE_NETTO − DISCOUNT_SUM
//   DISCOUNT_SUM    = PRICE_NETTO × DISCOUNT_RATE / 100          (percent discounts)
//   PRICE           = PRICE_EXCLUSIVE × (1 + TAX_RATE / 100)
//   PRICE_BRUTTO    = PRICE_NETTO × (1 + TAX_RATE / 100)
//   PRICE_ACCOUNT   = PRICE × rate (account currency)
// Inputs are chosen so no intermediate lands on half a kopeck (whole-ruble prices, 5/10/15 %
// discounts, whole-dollar foreign prices), which keeps float re-checks in tests unambiguous.

export type Discount =
  { kind: 'none' } | { kind: 'percent'; rate: number } | { kind: 'absolute'; minor: number };

export interface RowMoney {
  netto: number;
  brutto: number;
  exclusive: number;
  price: number;
  /** PRICE in the account currency, kopecks. */
  account: number;
  discountType: 1 | 2;
  /** Percent, at most 2 decimals. */
  discountRate: number;
  discountSum: number;
  taxRate: number;
}

/**
 * @param gross unit list price including VAT (how the clinic's price list is written), minor units
 * @param taxRate VAT percent (0 for medical services)
 * @param rate rubles per unit of the row's currency (1 for RUB)
 */
export function rowMoney(gross: number, taxRate: number, discount: Discount, rate = 1): RowMoney {
  const netto = taxRate > 0 ? Math.round((gross * 100) / (100 + taxRate)) : gross;
  const brutto = Math.round((netto * (100 + taxRate)) / 100);
  let discountSum = 0;
  let discountRate = 0;
  let discountType: 1 | 2 = 2;
  if (discount.kind === 'percent' && netto > 0) {
    discountRate = discount.rate;
    discountSum = Math.round((netto * discount.rate) / 100);
  } else if (discount.kind === 'absolute' && netto > discount.minor) {
    discountType = 1;
    discountSum = discount.minor;
    discountRate = Math.round((discount.minor / netto) * 10_000) / 100;
  }
  const exclusive = netto - discountSum;
  const price = Math.round((exclusive * (100 + taxRate)) / 100);
  return {
    netto,
    brutto,
    exclusive,
    price,
    account: Math.round(price * rate),
    discountType,
    discountRate,
    discountSum,
    taxRate,
  };
}

/** Minor units → the number stored in rows (2 decimals). */
export const money = (minor: number): number => minor / 100;
