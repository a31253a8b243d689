// A visit's product rows: the price list of the visit day (not today's), the name of that day,
// the deal's discount, and the deal's currency. Foreign-currency rows are priced in whole units of
// that currency; PRICE_ACCOUNT carries the ruble amount, as Bitrix24 stores it.
import type { Catalog } from './catalog.js';
import type { Line } from './courses.js';
import { rowMoney, type Discount, type RowMoney } from './pricing.js';
import type { Rng } from './random.js';
import { RATES, type ForeignCurrency } from './reference.js';

export interface BuiltRow {
  productId: number;
  name: string;
  originalName: string;
  qty: number;
  m: RowMoney;
  type: 1 | 7;
}

export interface RowOptions {
  currency: 'RUB' | ForeignCurrency;
  discount: Discount;
  /** Replace the first paid row's product by a free-text row (PRODUCT_ID 0). */
  customRow: boolean;
  /** Append a gift-certificate payment as a negative row. */
  negativeRow: boolean;
}

export const CERTIFICATE_ROW = 'Оплата подарочным сертификатом';

export function buildRows(catalog: Catalog, lines: readonly Line[], day: number, o: RowOptions): BuiltRow[] {
  const rate = o.currency === 'RUB' ? 1 : RATES[o.currency];
  const out: BuiltRow[] = [];
  const priced: { key: string; line: Line; gross: number }[] = [];
  for (const line of lines) {
    const key = catalog.resolve(line.key, day);
    // Foreign patients are billed for treatment only: no VAT goods in a foreign currency.
    if (rate !== 1 && catalog.product(key).type === 1) continue;
    const rub = catalog.priceOn(key, day);
    priced.push({
      key,
      line,
      gross: rate === 1 ? rub : rub === 0 ? 0 : Math.max(1, Math.round(rub / 100 / rate)) * 100,
    });
  }
  // A fixed promo amount goes on the most expensive service only; a percentage on every paid row.
  let promoAt = -1;
  if (o.discount.kind === 'absolute') {
    const minor = o.discount.minor;
    priced.forEach((p, i) => {
      if (p.gross >= minor * 3 && (promoAt < 0 || p.gross > priced[promoAt]!.gross)) promoAt = i;
    });
  }
  let custom = o.customRow;
  priced.forEach(({ key, line, gross }, i) => {
    const product = catalog.product(key);
    const name = catalog.nameOn(key, day);
    const isCustom = custom && gross > 0;
    if (isCustom) custom = false;
    const discount: Discount =
      gross <= 0
        ? { kind: 'none' }
        : o.discount.kind === 'absolute'
          ? i === promoAt
            ? o.discount
            : { kind: 'none' }
          : o.discount;
    out.push({
      productId: isCustom ? 0 : catalog.ids.get(key)!,
      name: isCustom ? `${name} (по акции)` : name,
      originalName: isCustom ? `${name} (по акции)` : name,
      qty: line.qty,
      m: rowMoney(gross, product.vat, discount, rate),
      type: product.type,
    });
  });
  if (o.negativeRow) {
    const total = rowsTotal(out);
    const cert = Math.min(300_000, Math.max(50_000, Math.floor(total / 2 / 50_000) * 50_000));
    out.push({
      productId: 0,
      name: CERTIFICATE_ROW,
      originalName: CERTIFICATE_ROW,
      qty: 1,
      m: rowMoney(-cert, 0, { kind: 'none' }, rate),
      type: 7,
    });
  }
  return out;
}

/** Σ PRICE × QUANTITY in the row currency, minor units. */
export function rowsTotal(rows: readonly BuiltRow[]): number {
  let s = 0;
  for (const r of rows) s += r.m.price * r.qty;
  return s;
}

/** Σ PRICE_ACCOUNT × QUANTITY, kopecks. */
export function rowsAccountTotal(rows: readonly BuiltRow[]): number {
  let s = 0;
  for (const r of rows) s += r.m.account * r.qty;
  return s;
}

/** Σ tax part × QUANTITY (deal TAX_VALUE), minor units. */
export function rowsTax(rows: readonly BuiltRow[]): number {
  let s = 0;
  for (const r of rows) s += (r.m.price - r.m.exclusive) * r.qty;
  return s;
}

/** Most deals have no discount; some have a loyalty-card percentage, a few a fixed promo amount. */
export function pickDiscount(rng: Rng): Discount {
  const r = rng.next();
  if (r < 0.85) return { kind: 'none' };
  if (r < 0.95)
    return {
      kind: 'percent',
      rate: rng.choose([
        [5, 0.5],
        [10, 0.4],
        [15, 0.1],
      ]),
    };
  return {
    kind: 'absolute',
    minor: rng.choose([
      [50_000, 0.5],
      [100_000, 0.35],
      [200_000, 0.15],
    ]),
  };
}
