// Wire typing of Bitrix24 values. Legacy methods (crm.deal.*, crm.contact.*, crm.status.*, ...)
// render nearly everything as strings; controller methods (crm.item.*, crm.category.*,
// crm.item.productrow.*) render ids and amounts as JSON numbers. Dates are ISO 8601 with the
// *portal server's* offset; date-only fields are midnight plus that offset (ConvertDate adds
// date('Z')), e.g. 30 Nov on a +03:00 server is "2025-11-30T03:00:00+03:00".
import { ENTITIES, fieldOf, ufFieldType, type EntityName, type FieldDef, type FieldType, type Row } from './entities.js';

const pad = (n: number, w = 2) => String(Math.trunc(Math.abs(n))).padStart(w, '0');

export function offsetSuffix(offsetMin: number): string {
  const sign = offsetMin < 0 ? '-' : '+';
  return `${sign}${pad(offsetMin / 60)}:${pad(offsetMin % 60)}`;
}

const TWO = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const DAY_MS = 86_400_000;
// Rendering dates is the emulator's hottest path; days repeat, so their text is cached.
const dayText = new Map<number, string>();
const suffixText = new Map<number, string>();

/** Epoch ms → `YYYY-MM-DDTHH:MM:SS+03:00` in the server's offset. */
export function formatDateTime(ms: number, offsetMin: number): string {
  const local = ms + offsetMin * 60_000;
  const dayNum = Math.floor(local / DAY_MS);
  let day = dayText.get(dayNum);
  if (day === undefined) {
    const d = new Date(dayNum * DAY_MS);
    day = `${d.getUTCFullYear()}-${TWO[d.getUTCMonth() + 1]}-${TWO[d.getUTCDate()]}`;
    if (dayText.size > 200_000) dayText.clear();
    dayText.set(dayNum, day);
  }
  let suffix = suffixText.get(offsetMin);
  if (suffix === undefined) suffixText.set(offsetMin, (suffix = offsetSuffix(offsetMin)));
  const sec = Math.floor((local - dayNum * DAY_MS) / 1000);
  return `${day}T${TWO[Math.floor(sec / 3600)]}:${TWO[Math.floor(sec / 60) % 60]}:${TWO[sec % 60]}${suffix}`;
}

/** 'YYYY-MM-DD' → midnight plus the offset, as Bitrix24 renders date-only fields. */
export function formatDate(day: string, offsetMin: number): string {
  const abs = Math.abs(offsetMin);
  return `${day}T${pad(abs / 60)}:${pad(abs % 60)}:00${offsetSuffix(offsetMin)}`;
}

/** Local calendar day of an instant in the server's offset. */
export function localDay(ms: number, offsetMin: number): string {
  return formatDateTime(ms, offsetMin).slice(0, 10);
}

/** Parses what clients send for datetime filters/fields: ISO 8601 (any offset), `YYYY-MM-DD`, or the
 *  portal format `dd.mm.yyyy[ hh:mm[:ss]]`; zone-less values are read in the server's offset. */
export function parseDateTime(raw: unknown, offsetMin: number): number | null {
  if (typeof raw === 'number') return raw;
  if (typeof raw !== 'string' || raw.trim() === '') return null;
  const s = raw.trim();
  let m = /^(\d{2})\.(\d{2})\.(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(s);
  if (m) {
    return Date.UTC(+m[3]!, +m[2]! - 1, +m[1]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)) - offsetMin * 60_000;
  }
  m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (!m) return null;
  const base = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  const zone = m[7];
  if (!zone) return base - offsetMin * 60_000;
  if (zone === 'Z') return base;
  const zm = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
  const off = (zm[1] === '-' ? -1 : 1) * (+zm[2]! * 60 + +zm[3]!);
  return base - off * 60_000;
}

/** A date-only value from ISO or portal format; the calendar day as written. */
export function parseDate(raw: unknown, offsetMin: number): string | null {
  if (typeof raw !== 'string' || raw.trim() === '') return null;
  const s = raw.trim();
  const iso = /^(\d{4}-\d{2}-\d{2})/.exec(s);
  if (iso && !/[T ]\d/.test(s.slice(10))) return iso[1]!;
  const ms = parseDateTime(s, offsetMin);
  return ms === null ? null : localDay(ms, offsetMin);
}

export type Typing = 'legacy' | 'item';

function legacyValue(type: FieldType, v: unknown, offsetMin: number): unknown {
  if (v === null || v === undefined) {
    return type === 'date' || type === 'datetime' ? '' : null;
  }
  switch (type) {
    case 'id':
    case 'int':
    case 'user':
    case 'ufBool':
      return String(v);
    case 'money':
      return (v as number).toFixed(2);
    case 'double':
      return String(v);
    case 'date':
      return formatDate(v as string, offsetMin);
    case 'datetime':
      return formatDateTime(v as number, offsetMin);
    default:
      return v;
  }
}

function itemValue(type: FieldType, v: unknown, offsetMin: number): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'ufBool':
      return v === 1 ? 'Y' : 'N';
    case 'date':
      return formatDate(v as string, offsetMin);
    case 'datetime':
      return formatDateTime(v as number, offsetMin);
    default:
      return v;
  }
}

export function renderValue(typing: Typing, type: FieldType, v: unknown, offsetMin: number): unknown {
  return typing === 'legacy' ? legacyValue(type, v, offsetMin) : itemValue(type, v, offsetMin);
}

/** `UF_CRM_1712000000` → `ufCrm_1712000000`, `UF_CRM_DIRECTION` → `ufCrmDirection`, smart-process
 *  `UF_CRM_44_1712` → `ufCrm44_1712`: segments are camel-cased and an underscore is kept before a
 *  segment that starts with a digit, except the entity-type number right after `CRM`. */
export function ufItemName(fieldName: string): string {
  const parts = fieldName.toLowerCase().split('_').filter(Boolean);
  let out = parts[0] ?? '';
  parts.slice(1).forEach((p, i, rest) => {
    const typeNumber = i === 1 && rest[0] === 'crm' && /^\d+$/.test(p) && i < rest.length - 1;
    out += /^\d/.test(p) ? (typeNumber ? p : `_${p}`) : p[0]!.toUpperCase() + p.slice(1);
  });
  return out;
}

export interface UserFieldInfo {
  fieldName: string;
  userTypeId: string;
  multiple: boolean;
}

/** Field definitions of an entity including its user fields (from the userfield table). */
export function entityFields(entity: EntityName, userFields: UserFieldInfo[]): FieldDef[] {
  const std = ENTITIES[entity].fields;
  const ufs = userFields.map<FieldDef>((u) => ({
    name: u.fieldName,
    type: ufFieldType(u.userTypeId),
    item: ufItemName(u.fieldName),
  }));
  return [...std, ...ufs];
}

type Convert = (v: unknown) => unknown;

/** A converter specialised for one field: the generic `renderValue` switch per value is too slow here. */
function scalarConverter(typing: Typing, type: FieldType, offsetMin: number): Convert {
  const legacy = typing === 'legacy';
  switch (type) {
    case 'id':
    case 'int':
    case 'user':
    case 'double':
      return legacy ? (v) => (v === null || v === undefined ? null : String(v)) : (v) => v ?? null;
    case 'money':
      return legacy ? (v) => (v === null || v === undefined ? null : (v as number).toFixed(2)) : (v) => v ?? null;
    case 'ufBool':
      return (v) => (v === null || v === undefined ? null : legacy ? String(v) : v === 1 ? 'Y' : 'N');
    case 'datetime':
      return (v) => (v === null || v === undefined ? (legacy ? '' : null) : formatDateTime(v as number, offsetMin));
    case 'date': {
      // Few distinct days, many rows: memoise.
      const memo = new Map<string, string>();
      return (v) => {
        if (v === null || v === undefined) return legacy ? '' : null;
        let out = memo.get(v as string);
        if (out === undefined) memo.set(v as string, (out = formatDate(v as string, offsetMin)));
        return out;
      };
    }
    default:
      return (v) => v ?? null;
  }
}

function converter(typing: Typing, fd: FieldDef, offsetMin: number): Convert {
  if (fd.type === 'json' || fd.type === 'intList') return (v) => v ?? null;
  const one = scalarConverter(typing, fd.type, offsetMin);
  // Only user fields can hold several values (MULTIPLE = Y): they render element-wise.
  return fd.name.startsWith('UF_') ? (v) => (Array.isArray(v) ? v.map(one) : one(v)) : one;
}

interface Renderer {
  keys: string[];
  names: string[];
  convert: Convert[];
  /** Multi-fields are absent (not null) in legacy output when the row has none. */
  skipEmpty: boolean[];
}

// Compiled renderers per select signature: rendering is the emulator's hot path.
const renderers = new Map<string, Renderer>();

// A page renders all its rows with one `fields` array: look that up by identity first.
const byArray = new WeakMap<FieldDef[], { typing: Typing; offsetMin: number; r: Renderer }>();

function compile(fields: FieldDef[], typing: Typing, offsetMin: number): Renderer {
  const hit = byArray.get(fields);
  if (hit && hit.typing === typing && hit.offsetMin === offsetMin) return hit.r;
  const r = compileBySignature(fields, typing, offsetMin);
  byArray.set(fields, { typing, offsetMin, r });
  return r;
}

function compileBySignature(fields: FieldDef[], typing: Typing, offsetMin: number): Renderer {
  const sig = `${typing}|${offsetMin}|${fields.map((f) => `${f.name}:${f.type}:${f.item ?? ''}:${f.multi ? 1 : 0}`).join(',')}`;
  let r = renderers.get(sig);
  if (r) return r;
  r = { keys: [], names: [], convert: [], skipEmpty: [] };
  for (const fd of fields) {
    const key = typing === 'item' ? fd.item : fd.name;
    if (!key) continue;
    r.keys.push(key);
    r.names.push(fd.name);
    r.convert.push(converter(typing, fd, offsetMin));
    r.skipEmpty.push(fd.multi === true && typing === 'legacy');
  }
  if (renderers.size > 500) renderers.clear();
  renderers.set(sig, r);
  return r;
}

/** Renders one row with the given fields. UF values that are arrays (multiple) render element-wise. */
export function renderRow(
  row: Row,
  fields: FieldDef[],
  typing: Typing,
  offsetMin: number,
): Record<string, unknown> {
  const r = compile(fields, typing, offsetMin);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < r.keys.length; i++) {
    const v = row[r.names[i]!];
    if (r.skipEmpty[i] && (v === undefined || v === null)) continue;
    out[r.keys[i]!] = r.convert[i]!(v);
  }
  return out;
}

export { fieldOf };
