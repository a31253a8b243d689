// Reference data every CRM record points at: currencies, deal pipelines and their stages, the
// status directories (sources, deal types, lead statuses, contact types) and the user fields.
// Stage ids follow Bitrix24's own scheme (NEW / C<n>:NEW …) so code written against a real portal
// works here unchanged; names are what a Russian clinic would type into the pipeline editor.
import type { PortalData } from '../store.js';
import { DIRECTIONS } from './catalog.js';

export const ACCOUNT_CURRENCY = 'RUB';
/** Rubles per unit. Foreign amounts in the generated data are whole units, so conversions are exact. */
export const RATES = { USD: 92.5, EUR: 100.2 } as const;
export type ForeignCurrency = keyof typeof RATES;

export const GENERAL_CATEGORY_ID = 0;
export const APPOINTMENT_CATEGORY_ID = 7;

type Semantics = 'process' | 'success' | 'failure' | 'apology';

interface StageDef {
  suffix: string;
  name: string;
  sem: Semantics;
  color: string;
  system: boolean;
}

/** Direction pipelines: the visit deal moves through diagnostics and the treatment plan to payment. */
const DIRECTION_STAGES: readonly StageDef[] = [
  { suffix: 'NEW', name: 'Записан', sem: 'process', color: '#39A8EF', system: true },
  { suffix: 'PREPARATION', name: 'Диагностика', sem: 'process', color: '#2FC6F6', system: false },
  {
    suffix: 'PREPAYMENT_INVOICE',
    name: 'План лечения предложен',
    sem: 'process',
    color: '#55D0E0',
    system: false,
  },
  { suffix: 'EXECUTING', name: 'План лечения принят', sem: 'process', color: '#47E4C2', system: false },
  { suffix: 'FINAL_INVOICE', name: 'Лечение', sem: 'process', color: '#FFA900', system: false },
  { suffix: 'WON', name: 'Визит состоялся / Оплачено', sem: 'success', color: '#7BD500', system: true },
  { suffix: 'LOSE', name: 'Не пришел', sem: 'failure', color: '#FF5752', system: true },
  { suffix: 'APOLOGY', name: 'Отказ от лечения', sem: 'apology', color: '#FF5752', system: false },
];

const GENERAL_STAGES: readonly StageDef[] = [
  { suffix: 'NEW', name: 'Новое обращение', sem: 'process', color: '#39A8EF', system: true },
  {
    suffix: 'PREPARATION',
    name: 'Консультация по телефону',
    sem: 'process',
    color: '#2FC6F6',
    system: false,
  },
  { suffix: 'EXECUTING', name: 'В работе', sem: 'process', color: '#FFA900', system: false },
  { suffix: 'WON', name: 'Сделка успешна', sem: 'success', color: '#7BD500', system: true },
  { suffix: 'LOSE', name: 'Сделка провалена', sem: 'failure', color: '#FF5752', system: true },
  { suffix: 'APOLOGY', name: 'Анализ причины провала', sem: 'apology', color: '#FF5752', system: false },
];

const APPOINTMENT_STAGES: readonly StageDef[] = [
  { suffix: 'NEW', name: 'Записан', sem: 'process', color: '#39A8EF', system: true },
  { suffix: 'PREPARATION', name: 'Подтвержден', sem: 'process', color: '#2FC6F6', system: false },
  { suffix: 'WON', name: 'Пришел', sem: 'success', color: '#7BD500', system: true },
  { suffix: 'LOSE', name: 'Не пришел', sem: 'failure', color: '#FF5752', system: true },
];

const LEAD_STATUSES: readonly StageDef[] = [
  { suffix: 'NEW', name: 'Не обработан', sem: 'process', color: '#39A8EF', system: true },
  { suffix: 'IN_PROCESS', name: 'В работе', sem: 'process', color: '#2FC6F6', system: false },
  { suffix: 'PROCESSED', name: 'Обработан', sem: 'process', color: '#FFA900', system: false },
  { suffix: 'CONVERTED', name: 'Качественный лид', sem: 'success', color: '#7BD500', system: true },
  { suffix: 'JUNK', name: 'Некачественный лид', sem: 'failure', color: '#FF5752', system: true },
];

export const SOURCES: readonly (readonly [string, string])[] = [
  ['CALL', 'Звонок'],
  ['EMAIL', 'Электронная почта'],
  ['WEB', 'Веб-сайт'],
  ['ADVERTISING', 'Реклама'],
  ['RECOMMENDATION', 'По рекомендации'],
  ['REPEAT_SALE', 'Повторные продажи'],
  ['UC_PRODOC', 'ПроДокторов'],
  ['OTHER', 'Другое'],
];

const DEAL_TYPES: readonly (readonly [string, string])[] = [
  ['SALE', 'Продажа'],
  ['COMPLEX', 'Комплексная продажа'],
  ['GOODS', 'Продажа товара'],
  ['SERVICES', 'Продажа услуги'],
  ['SERVICE', 'Сервисное обслуживание'],
  // The clinic's own types: what the administrator *thinks* the visit is. It marks the first visit
  // in a direction, not the first visit to the clinic, so it must not be trusted for new patients.
  ['UC_PRIMARY', 'Первичный прием'],
  ['UC_REPEAT', 'Повторный прием'],
];

const CONTACT_TYPES: readonly (readonly [string, string])[] = [
  ['CLIENT', 'Клиенты'],
  ['SUPPLIER', 'Поставщики'],
  ['PARTNER', 'Партнеры'],
  ['OTHER', 'Другое'],
];

const SEMANTICS_LETTER: Record<Semantics, 'S' | 'F' | null> = {
  process: null,
  success: 'S',
  failure: 'F',
  apology: 'F',
};

/** Stage id → semantic letter P/S/F for every deal stage and lead status written here. */
export const STAGE_SEMANTIC = new Map<string, 'P' | 'S' | 'F'>();

export interface StageRef {
  id: string;
  semantic: 'P' | 'S' | 'F';
}
const STAGE_REFS = new Map<number, Map<string, StageRef>>();

/** Stage id and semantic of a deal pipeline's stage, without building strings in hot loops. */
export function stageRef(categoryId: number, suffix: string): StageRef {
  const ref = STAGE_REFS.get(categoryId)?.get(suffix);
  if (!ref) throw new Error(`unknown stage ${suffix} of category ${categoryId}`);
  return ref;
}

export function stageId(categoryId: number, suffix: string): string {
  return categoryId === 0 ? suffix : `C${categoryId}:${suffix}`;
}

export function semanticOf(stage: string): 'P' | 'S' | 'F' {
  const s = STAGE_SEMANTIC.get(stage);
  if (!s) throw new Error(`unknown stage ${stage}`);
  return s;
}

export interface PipelineLayout {
  categoryId: number;
  name: string;
  entityId: string;
  /** suffix → STATUS_ID, e.g. WON → 'C3:WON' */
  stages: Record<string, string>;
}

function writeStages(
  data: PortalData,
  entityId: string,
  categoryId: number | null,
  defs: readonly StageDef[],
  lead = false,
): Record<string, string> {
  const out: Record<string, string> = {};
  const table = data.table('status');
  defs.forEach((d, i) => {
    const id = lead ? d.suffix : stageId(categoryId ?? 0, d.suffix);
    out[d.suffix] = id;
    const letter = SEMANTICS_LETTER[d.sem];
    STAGE_SEMANTIC.set(lead ? `LEAD:${id}` : id, letter ?? 'P');
    if (!lead) {
      let refs = STAGE_REFS.get(categoryId ?? 0);
      if (!refs) STAGE_REFS.set(categoryId ?? 0, (refs = new Map()));
      refs.set(d.suffix, { id, semantic: letter ?? 'P' });
    }
    table.insert({
      ENTITY_ID: entityId,
      STATUS_ID: id,
      NAME: d.name,
      NAME_INIT: d.system ? d.name : '',
      SORT: (i + 1) * 10,
      SYSTEM: d.system ? 'Y' : 'N',
      CATEGORY_ID: categoryId,
      COLOR: d.color,
      SEMANTICS: letter,
      EXTRA: { SEMANTICS: d.sem, COLOR: d.color },
    });
  });
  return out;
}

function writeDirectory(
  data: PortalData,
  entityId: string,
  items: readonly (readonly [string, string])[],
): void {
  const table = data.table('status');
  items.forEach(([id, name], i) => {
    const system = !id.startsWith('UC_');
    table.insert({
      ENTITY_ID: entityId,
      STATUS_ID: id,
      NAME: name,
      NAME_INIT: system ? name : '',
      SORT: (i + 1) * 10,
      SYSTEM: system ? 'Y' : 'N',
      CATEGORY_ID: null,
      COLOR: null,
      SEMANTICS: null,
    });
  });
}

export interface ReferenceLayout {
  general: PipelineLayout;
  appointments: PipelineLayout;
  /** direction key → pipeline */
  directions: Record<string, PipelineLayout>;
  leadStatuses: Record<string, string>;
}

export function writeCurrencies(data: PortalData, updatedAt: number): void {
  const t = data.table('currency');
  t.insert({
    CURRENCY: 'RUB',
    AMOUNT_CNT: 1,
    AMOUNT: 1,
    SORT: 100,
    BASE: 'Y',
    FULL_NAME: 'Российский рубль',
    LID: 'ru',
    FORMAT_STRING: '# ₽',
    DATE_UPDATE: updatedAt,
  });
  t.insert({
    CURRENCY: 'USD',
    AMOUNT_CNT: 1,
    AMOUNT: RATES.USD,
    SORT: 200,
    BASE: 'N',
    FULL_NAME: 'Доллар США',
    LID: 'ru',
    FORMAT_STRING: '$#',
    DATE_UPDATE: updatedAt,
  });
  t.insert({
    CURRENCY: 'EUR',
    AMOUNT_CNT: 1,
    AMOUNT: RATES.EUR,
    SORT: 300,
    BASE: 'N',
    FULL_NAME: 'Евро',
    LID: 'ru',
    FORMAT_STRING: '€#',
    DATE_UPDATE: updatedAt,
  });
}

export function writePipelines(data: PortalData): ReferenceLayout {
  const cats = data.table('category');
  const cat = (id: number, name: string, sort: number, isDefault: boolean) =>
    cats.insert({
      ID: id,
      NAME: name,
      SORT: sort,
      ENTITY_TYPE_ID: 2,
      IS_DEFAULT: isDefault ? 'Y' : 'N',
      ORIGIN_ID: '',
      ORIGINATOR_ID: '',
    });

  cat(GENERAL_CATEGORY_ID, 'Общая', 100, true);
  for (const d of DIRECTIONS) cat(d.categoryId, d.name, 100 + d.categoryId * 100, false);
  cat(APPOINTMENT_CATEGORY_ID, 'Записи на прием', 50, false);

  const general: PipelineLayout = {
    categoryId: 0,
    name: 'Общая',
    entityId: 'DEAL_STAGE',
    stages: writeStages(data, 'DEAL_STAGE', null, GENERAL_STAGES),
  };
  const directions: Record<string, PipelineLayout> = {};
  for (const d of DIRECTIONS) {
    const entityId = `DEAL_STAGE_${d.categoryId}`;
    directions[d.key] = {
      categoryId: d.categoryId,
      name: d.name,
      entityId,
      stages: writeStages(data, entityId, d.categoryId, DIRECTION_STAGES),
    };
  }
  const apEntity = `DEAL_STAGE_${APPOINTMENT_CATEGORY_ID}`;
  const appointments: PipelineLayout = {
    categoryId: APPOINTMENT_CATEGORY_ID,
    name: 'Записи на прием',
    entityId: apEntity,
    stages: writeStages(data, apEntity, APPOINTMENT_CATEGORY_ID, APPOINTMENT_STAGES),
  };
  const leadStatuses = writeStages(data, 'STATUS', null, LEAD_STATUSES, true);
  writeDirectory(data, 'SOURCE', SOURCES);
  writeDirectory(data, 'DEAL_TYPE', DEAL_TYPES);
  writeDirectory(data, 'CONTACT_TYPE', CONTACT_TYPES);
  return { general, appointments, directions, leadStatuses };
}

export function leadSemantic(status: string): 'P' | 'S' | 'F' {
  return semanticOf(`LEAD:${status}`);
}

export interface UserFieldLayout {
  /** Deal enumeration "Направление": FIELD_NAME and direction key → enum item ID. */
  direction: { fieldName: string; items: Record<string, number> };
  /** Deal employee field "Врач". */
  doctor: { fieldName: string };
  /** Deal enumeration "Филиал" (network scale only). */
  branch: { fieldName: string; items: number[] } | null;
  /** Contact string field "Номер медкарты". */
  cardNumber: { fieldName: string };
}

export function writeUserFields(data: PortalData, branchNames: string[]): UserFieldLayout {
  const t = data.table('userfield');
  const base = (
    entityId: string,
    fieldName: string,
    type: string,
    label: string,
    sort: number,
    settings: unknown,
    extra: Record<string, unknown> = {},
  ) =>
    t.insert({
      ENTITY_ID: entityId,
      FIELD_NAME: fieldName,
      USER_TYPE_ID: type,
      XML_ID: null,
      SORT: sort,
      MULTIPLE: 'N',
      MANDATORY: 'N',
      SHOW_FILTER: 'E',
      SHOW_IN_LIST: 'Y',
      EDIT_IN_LIST: 'Y',
      IS_SEARCHABLE: 'N',
      SETTINGS: settings,
      EDIT_FORM_LABEL: label,
      LIST_COLUMN_LABEL: label,
      LIST_FILTER_LABEL: label,
      ...extra,
    });
  const enumSettings = { DISPLAY: 'LIST', LIST_HEIGHT: 1, CAPTION_NO_VALUE: '', SHOW_NO_VALUE: 'Y' };
  const direction = {
    fieldName: 'UF_CRM_1712000001',
    items: Object.fromEntries(DIRECTIONS.map((d) => [d.key, d.enumId])),
  };
  base('CRM_DEAL', direction.fieldName, 'enumeration', 'Направление', 100, enumSettings, {
    LIST: DIRECTIONS.map((d, i) => ({
      ID: d.enumId,
      SORT: (i + 1) * 10,
      VALUE: d.name,
      DEF: 'N',
      XML_ID: d.key,
    })),
  });
  const doctor = { fieldName: 'UF_CRM_1712000002' };
  base('CRM_DEAL', doctor.fieldName, 'employee', 'Врач', 110, {});
  let branch: UserFieldLayout['branch'] = null;
  if (branchNames.length > 1) {
    const items = branchNames.map((_, i) => 61 + i);
    branch = { fieldName: 'UF_CRM_1712000003', items };
    base('CRM_DEAL', branch.fieldName, 'enumeration', 'Филиал', 120, enumSettings, {
      LIST: branchNames.map((name, i) => ({
        ID: items[i]!,
        SORT: (i + 1) * 10,
        VALUE: name,
        DEF: i === 0 ? 'Y' : 'N',
        XML_ID: `branch${i + 1}`,
      })),
    });
  }
  const cardNumber = { fieldName: 'UF_CRM_1712000010' };
  base('CRM_CONTACT', cardNumber.fieldName, 'string', 'Номер медкарты', 100, {
    SIZE: 20,
    ROWS: 1,
    REGEXP: '',
    MIN_LENGTH: 0,
    MAX_LENGTH: 0,
    DEFAULT_VALUE: '',
  });
  return { direction, doctor, branch, cardNumber };
}
