// Numbers, money, shares and dates as the portal's locale writes them (ru-RU by default: "1 234 567 ₽",
// "12,5 %"). Values the API gives as null are "нет данных", never 0.

export type Unit = 'money' | 'count' | 'percent' | 'days' | 'hours' | string;

export interface Formatter {
  locale: string;
  value(v: number | null | undefined, unit: Unit): string;
  money(v: number | null | undefined): string;
  count(v: number | null | undefined): string;
  percent(v: number | null | undefined, digits?: number): string;
  /** A change: money/count as a signed number, percent units as percentage points. */
  delta(v: number | null | undefined, unit: Unit): string;
  /** A relative change (deltaPct is a share): "+12,3 %". */
  deltaPct(v: number | null | undefined): string;
  date(isoDate: string): string;
  /** "1 окт." — chart axes, where the year is in the period. */
  shortDate(isoDate: string): string;
  month(isoDate: string): string;
  time(isoInstant: string): string;
  dateTime(isoInstant: string): string;
  none: string;
}

export function createFormatter(locale: string, none: string, pp: string, currency = 'RUB'): Formatter {
  const money = new Intl.NumberFormat(locale, { style: 'currency', currency, maximumFractionDigits: 0 });
  const count = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const dec = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const pct = (digits: number) => new Intl.NumberFormat(locale, { style: 'percent', minimumFractionDigits: 0, maximumFractionDigits: digits });
  const signed = (s: string, v: number) => (v > 0 ? `+${s}` : v < 0 ? `−${s.replace(/^[-−]/, '')}` : s);
  const isNum = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
  const f: Formatter = {
    locale,
    none,
    money: (v) => (isNum(v) ? money.format(v) : none),
    count: (v) => (isNum(v) ? count.format(v) : none),
    percent: (v, digits = 1) => (isNum(v) ? pct(digits).format(v) : none),
    value(v, unit) {
      if (!isNum(v)) return none;
      if (unit === 'money') return f.money(v);
      if (unit === 'percent') return f.percent(v);
      if (unit === 'count') return f.count(v);
      return dec.format(v);
    },
    delta(v, unit) {
      if (!isNum(v)) return none;
      if (unit === 'percent') return `${signed(dec.format(Math.abs(v * 100)), v)} ${pp}`;
      if (unit === 'money') return signed(money.format(Math.abs(v)), v);
      return signed(unit === 'count' ? count.format(Math.abs(v)) : dec.format(Math.abs(v)), v);
    },
    deltaPct: (v) => (isNum(v) ? signed(pct(1).format(Math.abs(v)), v) : none),
    date: (d) => new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${d}T00:00:00Z`)),
    shortDate: (d) => new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date(`${d}T00:00:00Z`)),
    month: (d) => new Intl.DateTimeFormat(locale, { month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${d.slice(0, 7)}-01T00:00:00Z`)),
    time: (t) => new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(new Date(t)),
    dateTime: (t) => new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'short' }).format(new Date(t)),
  };
  return f;
}
