// The clinic's directions and its price list. Prices are current (as of `asOf`); history is
// derived backwards (yearly indexation, one targeted revision, one rename, one discontinued
// service) because real product rows keep the price and name of the day they were written,
// and KPI code must read revenue from the row, never from today's catalog.
import type { PortalData } from '../store.js';
import type { Rng } from './random.js';
import { at, dayOfMonth, monthOf } from './time.js';

export type DirectionKey = 'therapy' | 'orthopedics' | 'surgery' | 'orthodontics' | 'pediatric' | 'hygiene';

export interface Direction {
  key: DirectionKey;
  name: string;
  /** Deal pipeline (crm.category) of the direction. */
  categoryId: number;
  /** Item ID in the "Направление" enumeration user field (enum ids are portal-global in Bitrix24). */
  enumId: number;
  position: string;
  positionFemale: string;
}

export const DIRECTIONS: readonly Direction[] = [
  {
    key: 'therapy',
    name: 'Терапия',
    categoryId: 1,
    enumId: 45,
    position: 'Стоматолог-терапевт',
    positionFemale: 'Стоматолог-терапевт',
  },
  {
    key: 'orthopedics',
    name: 'Ортопедия',
    categoryId: 2,
    enumId: 46,
    position: 'Стоматолог-ортопед',
    positionFemale: 'Стоматолог-ортопед',
  },
  {
    key: 'surgery',
    name: 'Хирургия и имплантация',
    categoryId: 3,
    enumId: 47,
    position: 'Хирург-имплантолог',
    positionFemale: 'Хирург-имплантолог',
  },
  {
    key: 'orthodontics',
    name: 'Ортодонтия',
    categoryId: 4,
    enumId: 48,
    position: 'Ортодонт',
    positionFemale: 'Ортодонт',
  },
  {
    key: 'pediatric',
    name: 'Детская стоматология',
    categoryId: 5,
    enumId: 49,
    position: 'Детский стоматолог',
    positionFemale: 'Детский стоматолог',
  },
  {
    key: 'hygiene',
    name: 'Гигиена',
    categoryId: 6,
    enumId: 50,
    position: 'Гигиенист',
    positionFemale: 'Гигиенист стоматологический',
  },
];

export const DIRECTION_BY_KEY = Object.fromEntries(DIRECTIONS.map((d) => [d.key, d])) as Record<
  DirectionKey,
  Direction
>;

/** Product sections: one per direction, plus diagnostics and general items shared by all directions
 *  (as in real price lists — so "direction by product section" must cope with a non-direction section). */
export type SectionKey = DirectionKey | 'common';

export interface Product {
  key: string;
  section: SectionKey;
  name: string;
  /** Current price, kopecks, VAT included where VAT applies. */
  kop: number;
  /** 7 service (VAT-free medical service), 1 simple product (goods sold at the front desk, VAT 20 %). */
  type: 1 | 7;
  vat: number;
}

// [key, section, name, current price RUB, goods?]
const PRICE_LIST: readonly (readonly [string, SectionKey, string, number, boolean?])[] = [
  ['th.consult', 'therapy', 'Консультация стоматолога-терапевта', 1500],
  ['th.control', 'therapy', 'Контрольный осмотр стоматолога-терапевта', 0],
  ['th.anest_inf', 'therapy', 'Анестезия инфильтрационная', 900],
  ['th.anest_cond', 'therapy', 'Анестезия проводниковая', 1200],
  ['th.caries_light', 'therapy', 'Лечение кариеса (пломба светового отверждения)', 6500],
  ['th.caries_chem', 'therapy', 'Лечение кариеса (пломба химического отверждения)', 4200],
  ['th.restoration', 'therapy', 'Художественная реставрация зуба', 11000],
  ['th.pulpitis1', 'therapy', 'Лечение пульпита (1 канал)', 7500],
  ['th.pulpitis2', 'therapy', 'Лечение пульпита (2 канала)', 11500],
  ['th.pulpitis3', 'therapy', 'Лечение пульпита (3 канала)', 15000],
  ['th.periodont', 'therapy', 'Лечение периодонтита (1 канал, с временным пломбированием)', 9000],
  ['th.retreat', 'therapy', 'Перелечивание канала (распломбировка)', 5500],
  ['th.temp_fill', 'therapy', 'Временная пломба', 1200],
  ['th.dam', 'therapy', 'Изоляция коффердамом', 800],
  ['th.microscope', 'therapy', 'Лечение канала под микроскопом (доплата)', 4000],
  ['th.whitening', 'therapy', 'Отбеливание зубов ZOOM 4', 32000],
  ['th.polish', 'therapy', 'Полировка реставрации', 700],
  ['th.medical', 'therapy', 'Медикаментозная обработка кариозной полости', 500],
  ['th.pad', 'therapy', 'Изолирующая прокладка', 900],
  ['th.canal_fill', 'therapy', 'Пломбирование канала гуттаперчей (1 канал)', 2500],

  ['or.consult', 'orthopedics', 'Консультация стоматолога-ортопеда', 1500],
  ['or.alginate', 'orthopedics', 'Снятие оттиска альгинатной массой', 1000],
  ['or.silicone', 'orthopedics', 'Снятие оттиска силиконовой массой', 2500],
  ['or.post', 'orthopedics', 'Культевая вкладка', 7000],
  ['or.temp_crown', 'orthopedics', 'Временная коронка', 4500],
  ['or.crown_mc', 'orthopedics', 'Металлокерамическая коронка', 18000],
  ['or.crown_zr', 'orthopedics', 'Коронка из диоксида циркония', 32000],
  ['or.crown_emax', 'orthopedics', 'Коронка E.max (безметалловая керамика)', 35000],
  ['or.inlay', 'orthopedics', 'Керамическая вкладка', 25000],
  ['or.veneer', 'orthopedics', 'Винир керамический', 38000],
  ['or.crown_impl_mc', 'orthopedics', 'Коронка на имплантат (металлокерамика)', 30000],
  ['or.crown_impl_zr', 'orthopedics', 'Коронка на имплантат (цирконий)', 42000],
  ['or.abutment', 'orthopedics', 'Абатмент индивидуальный', 15000],
  ['or.denture_part', 'orthopedics', 'Частичный съемный протез (акриловый)', 35000],
  ['or.denture_full', 'orthopedics', 'Полный съемный протез', 45000],
  ['or.bugel', 'orthopedics', 'Бюгельный протез на кламмерах', 65000],
  ['or.fitting', 'orthopedics', 'Примерка конструкции', 0],
  ['or.fixation', 'orthopedics', 'Фиксация коронки на постоянный цемент', 1500],
  ['or.crown_removal', 'orthopedics', 'Снятие коронки', 1500],
  ['or.correction', 'orthopedics', 'Коррекция съемного протеза', 1000],
  ['or.repair', 'orthopedics', 'Починка протеза', 4500],

  ['su.consult', 'surgery', 'Консультация хирурга-имплантолога', 0],
  ['su.anest', 'surgery', 'Анестезия при хирургическом вмешательстве', 1200],
  ['su.extract', 'surgery', 'Удаление зуба простое', 3500],
  ['su.extract_hard', 'surgery', 'Удаление зуба сложное', 6500],
  ['su.wisdom', 'surgery', 'Удаление ретинированного зуба мудрости', 12000],
  ['su.resection', 'surgery', 'Резекция верхушки корня', 14000],
  ['su.cyst', 'surgery', 'Цистэктомия', 15000],
  ['su.implant_osstem', 'surgery', 'Имплантат Osstem (Корея)', 45000],
  ['su.implant_straumann', 'surgery', 'Имплантат Straumann (Швейцария)', 85000],
  ['su.healing', 'surgery', 'Установка формирователя десны', 5000],
  ['su.sinus_closed', 'surgery', 'Синус-лифтинг закрытый', 25000],
  ['su.sinus_open', 'surgery', 'Синус-лифтинг открытый', 55000],
  ['su.graft', 'surgery', 'Костная пластика (остеопластика)', 30000],
  ['su.sutures', 'surgery', 'Снятие швов', 800],
  ['su.control', 'surgery', 'Контрольный осмотр после операции', 0],

  ['od.consult', 'orthodontics', 'Консультация ортодонта', 2000],
  ['od.diag', 'orthodontics', 'Ортодонтическая диагностика (модели, расчет ТРГ)', 9000],
  ['od.braces_metal', 'orthodontics', 'Брекет-система металлическая (1 челюсть)', 55000],
  ['od.braces_ceramic', 'orthodontics', 'Брекет-система керамическая (1 челюсть)', 85000],
  ['od.braces_sapphire', 'orthodontics', 'Брекет-система сапфировая (1 челюсть)', 95000],
  ['od.aligners', 'orthodontics', 'Элайнеры (курс лечения)', 250000],
  ['od.correction', 'orthodontics', 'Плановая коррекция брекет-системы', 3500],
  ['od.aligner_check', 'orthodontics', 'Контрольный осмотр ортодонта', 1500],
  ['od.removal', 'orthodontics', 'Снятие брекет-системы (1 челюсть)', 6000],
  ['od.retainer', 'orthodontics', 'Ретейнер несъемный (1 челюсть)', 9000],
  ['od.plate', 'orthodontics', 'Пластинка ортодонтическая (детская)', 18000],
  ['od.plate_adjust', 'orthodontics', 'Активация ортодонтической пластинки', 2000],
  ['od.mouthguard', 'orthodontics', 'Каппа-ретейнер', 12000],

  ['pe.consult', 'pediatric', 'Консультация детского стоматолога', 0],
  ['pe.adapt', 'pediatric', 'Адаптационный визит', 1500],
  ['pe.baby_caries', 'pediatric', 'Лечение молочного зуба', 3500],
  ['pe.baby_pulpitis', 'pediatric', 'Лечение пульпита молочного зуба', 5500],
  ['pe.perm_caries', 'pediatric', 'Лечение кариеса постоянного зуба у ребенка', 5000],
  ['pe.extract', 'pediatric', 'Удаление молочного зуба', 2500],
  ['pe.sealant', 'pediatric', 'Герметизация фиссур (1 зуб)', 2500],
  ['pe.silver', 'pediatric', 'Серебрение молочного зуба', 800],
  ['pe.hygiene', 'pediatric', 'Профессиональная гигиена (детская)', 3500],
  ['pe.fluoride', 'pediatric', 'Фторирование зубов (детское)', 1500],
  ['pe.anest_app', 'pediatric', 'Аппликационная анестезия', 400],
  ['pe.anest', 'pediatric', 'Анестезия детская (инфильтрационная)', 800],
  ['pe.sedation', 'pediatric', 'Лечение под седацией (закись азота)', 6000],
  ['pe.crown', 'pediatric', 'Детская коронка металлическая', 6500],
  ['pe.training', 'pediatric', 'Обучение гигиене полости рта (детское)', 500],

  ['hy.prof', 'hygiene', 'Профессиональная гигиена полости рта', 5500],
  ['hy.ultrasound', 'hygiene', 'Ультразвуковая чистка (1 челюсть)', 2500],
  ['hy.airflow', 'hygiene', 'Air Flow (1 челюсть)', 2000],
  ['hy.scaling_tooth', 'hygiene', 'Снятие зубных отложений (1 зуб)', 250],
  ['hy.fluoride', 'hygiene', 'Фторирование зубов', 1500],
  ['hy.remin', 'hygiene', 'Реминерализующая терапия', 2500],
  ['hy.training', 'hygiene', 'Обучение гигиене полости рта', 500],
  ['hy.curettage', 'hygiene', 'Кюретаж пародонтального кармана (1 зуб)', 1200],
  ['hy.polish', 'hygiene', 'Полировка зубов пастой', 1000],
  ['hy.vector', 'hygiene', 'Vector-терапия (1 челюсть)', 9000],
  ['hy.brush', 'hygiene', 'Зубная щетка Curaprox CS 5460', 990, true],
  ['hy.irrigator', 'hygiene', 'Ирригатор Waterpik WP-100', 12900, true],
  ['hy.paste', 'hygiene', 'Зубная паста Splat Professional', 390, true],

  ['co.kit', 'common', 'Индивидуальный стерильный набор инструментов', 350],
  ['xr.sight', 'common', 'Прицельный рентгеновский снимок (радиовизиограф)', 700],
  ['xr.optg', 'common', 'Ортопантомограмма (ОПТГ)', 2000],
  ['xr.ct', 'common', 'Компьютерная томография (КЛКТ, 1 челюсть)', 4500],
];

export const PRODUCTS: readonly Product[] = PRICE_LIST.map(([key, section, name, rub, goods]) => ({
  key,
  section,
  name,
  kop: rub * 100,
  type: goods ? 1 : 7,
  vat: goods ? 20 : 0,
}));

export const SECTION_NAMES: Record<SectionKey, string> = {
  therapy: 'Терапия',
  orthopedics: 'Ортопедия',
  surgery: 'Хирургия и имплантация',
  orthodontics: 'Ортодонтия',
  pediatric: 'Детская стоматология',
  hygiene: 'Гигиена',
  common: 'Диагностика и общие услуги',
};

const SECTION_ORDER: readonly SectionKey[] = [
  'therapy',
  'orthopedics',
  'surgery',
  'orthodontics',
  'pediatric',
  'hygiene',
  'common',
];

/** The service whose price the owner revised (seed 000, "точечное ценообразование"): cheap and slow. */
export const REVISED_PRODUCT = 'hy.scaling_tooth';
/** Renamed in the catalog; older rows keep the old name. */
export const RENAMED_PRODUCT = 'su.implant_osstem';
const OLD_NAME = 'Имплантат Osstem TS III';
/** Taken out of use (ACTIVE = N) half-way through the history; old rows still point at it. */
export const DISCONTINUED_PRODUCT = 'th.caries_chem';
export const DISCONTINUED_REPLACEMENT = 'th.caries_light';

export const CATALOG_ID = 25;

/** Clinics price in round numbers: to 100 RUB above 2 000 RUB, to 10 RUB below. */
function roundPrice(kop: number): number {
  const step = kop >= 200_000 ? 10_000 : 1_000;
  return Math.max(step, Math.round(kop / step) * step);
}

interface PricePoint {
  from: number;
  kop: number;
}

/** The price list over time. */
export class Catalog {
  readonly ids = new Map<string, number>();
  readonly sectionIds = new Map<SectionKey, number>();
  private readonly byKey = new Map<string, Product>();
  private readonly history = new Map<string, PricePoint[]>();
  readonly renameDay: number;
  readonly discontinueDay: number;
  readonly revisionDay: number;
  /** Products whose current catalog price differs from an earlier price. */
  readonly changedKeys: string[] = [];

  constructor(
    rng: Rng,
    readonly startDay: number,
    readonly endDay: number,
  ) {
    const span = endDay - startDay;
    this.renameDay = startDay + Math.floor(span * 0.55);
    this.discontinueDay = startDay + Math.floor(span * 0.5);
    this.revisionDay = startDay + Math.floor(span * 0.7);
    for (const p of PRODUCTS) this.byKey.set(p.key, p);
    // Yearly indexation on 10 January inside the history; walking backwards from today's price.
    const indexDays: number[] = [];
    for (let d = endDay - 1; d > startDay; d--)
      if (monthOf(d) === 1 && dayOfMonth(d) === 10) indexDays.push(d);
    for (const p of PRODUCTS) {
      const points: PricePoint[] = [{ from: -Infinity, kop: p.kop }];
      if (p.kop > 0 && p.type === 7) {
        let cur = p.kop;
        const changes: PricePoint[] = [];
        if (p.key === REVISED_PRODUCT) {
          changes.push({ from: this.revisionDay, kop: cur });
          cur = 150 * 100;
        }
        for (const d of indexDays) {
          if (d >= this.revisionDay && p.key === REVISED_PRODUCT) continue;
          if (!rng.chance(0.6)) continue;
          const pct = rng.pick([5, 7, 10]);
          const before = roundPrice(cur / (1 + pct / 100));
          if (before === cur) continue;
          changes.push({ from: d, kop: cur });
          cur = before;
        }
        if (changes.length > 0) {
          changes.sort((a, b) => a.from - b.from);
          points.length = 0;
          points.push({ from: -Infinity, kop: cur });
          points.push(...changes);
          this.changedKeys.push(p.key);
        }
      }
      this.history.set(p.key, points);
    }
  }

  product(key: string): Product {
    const p = this.byKey.get(key);
    if (!p) throw new Error(`unknown product ${key}`);
    return p;
  }

  /** Price (kopecks) on a local day. */
  priceOn(key: string, day: number): number {
    const points = this.history.get(key)!;
    let kop = points[0]!.kop;
    for (const pt of points) if (pt.from <= day) kop = pt.kop;
    return kop;
  }

  nameOn(key: string, day: number): string {
    if (key === RENAMED_PRODUCT && day < this.renameDay) return OLD_NAME;
    return this.product(key).name;
  }

  /** The product actually sold on `day` (a discontinued service is replaced by its successor). */
  resolve(key: string, day: number): string {
    return key === DISCONTINUED_PRODUCT && day >= this.discontinueDay ? DISCONTINUED_REPLACEMENT : key;
  }

  lastChangeDay(key: string): number | null {
    const pts = this.history.get(key)!;
    const last = pts[pts.length - 1]!;
    return Number.isFinite(last.from) ? last.from : null;
  }

  /** Writes sections and products (IDs in price-list order, as a clinic would have entered them). */
  insert(data: PortalData, createdAt: number): void {
    const sections = data.table('productsection');
    for (const key of SECTION_ORDER) {
      const row = sections.insert({
        CATALOG_ID: CATALOG_ID,
        SECTION_ID: null,
        NAME: SECTION_NAMES[key],
        XML_ID: `section-${key}`,
      });
      this.sectionIds.set(key, row.ID);
    }
    const products = data.table('product');
    PRODUCTS.forEach((p, i) => {
      const changed = this.lastChangeDay(p.key);
      const touched = Math.max(
        changed ?? -Infinity,
        p.key === RENAMED_PRODUCT ? this.renameDay : -Infinity,
        p.key === DISCONTINUED_PRODUCT ? this.discontinueDay : -Infinity,
      );
      const row = products.insert({
        NAME: p.name,
        ACTIVE: p.key === DISCONTINUED_PRODUCT ? 'N' : 'Y',
        CATALOG_ID: CATALOG_ID,
        SECTION_ID: this.sectionIds.get(p.section)!,
        PRICE: p.kop / 100,
        CURRENCY_ID: 'RUB',
        MEASURE: 5,
        VAT_ID: p.vat > 0 ? 3 : 1,
        VAT_INCLUDED: 'Y',
        XML_ID: p.key,
        SORT: (i + 1) * 10,
        DESCRIPTION: null,
        DATE_CREATE: createdAt + i * 47_000,
        TIMESTAMP_X: Number.isFinite(touched) ? at(touched, 9 * 60 + 5) + i * 1000 : createdAt + i * 47_000,
        CREATED_BY: 1,
        MODIFIED_BY: 1,
      });
      this.ids.set(p.key, row.ID);
    });
  }
}
