// The PHP form parser and the filter date literals of the BI Builder connector, against bodies made by
// the emulator's PHP http_build_query (what Bitrix24 sends) and hand-written literals.
import { describe, expect, it } from 'vitest';
import { parseBiDate } from '../../src/bi/filter.js';
import { FormError, parsePhpForm, type FormMap, type FormValue } from '../../src/bi/form.js';
import { phpBuildQuery } from '../../src/emulator/bi-client.js';

/** FormMap → plain JSON for comparison. */
const plain = (v: FormValue): unknown => (typeof v === 'string' ? v : Object.fromEntries([...v].map(([k, x]) => [k, plain(x)])));

describe('parsePhpForm', () => {
  it('reads what http_build_query writes: nested brackets, encoded keys, order kept', () => {
    const body = phpBuildQuery({
      select: ['VISIT_DATE', 'REVENUE'],
      filter: new Map<string | number, never>([
        ['>=VISIT_DATE', '01.01.2025 00:00:00' as never],
        [0, new Map<string | number, unknown>([['LOGIC', 'OR'], [0, { '=ASSIGNED_BY_ID': ['10', '12'] }], [1, { '%DOCTOR_NAME': 'Пет & ров=а' }]]) as never],
      ]),
      limit: 0,
      connection: { token: 'a+b/c=' },
      table: 'clinic_visits',
      mapFields: { VISIT_DATE: 'VISIT_DATE' },
    });
    const m = parsePhpForm(body);
    expect(plain(m)).toEqual({
      select: { 0: 'VISIT_DATE', 1: 'REVENUE' },
      filter: { '>=VISIT_DATE': '01.01.2025 00:00:00', 0: { LOGIC: 'OR', 0: { '=ASSIGNED_BY_ID': { 0: '10', 1: '12' } }, 1: { '%DOCTOR_NAME': 'Пет & ров=а' } } },
      limit: '0',
      connection: { token: 'a+b/c=' },
      table: 'clinic_visits',
      mapFields: { VISIT_DATE: 'VISIT_DATE' },
    });
    // PHP order: LOGIC before the numbered conditions.
    expect([...((m.get('filter') as FormMap).get('0') as FormMap).keys()]).toEqual(['LOGIC', '0', '1']);
  });

  it('PHP details: [] appends, a later key wins, a key without = is empty, + is a space', () => {
    expect(plain(parsePhpForm('a[]=x&a[]=y&b=1&b=2&c&d=e+f'))).toEqual({ a: { 0: 'x', 1: 'y' }, b: '2', c: '', d: 'e f' });
  });

  it('no prototype is reachable through keys', () => {
    const m = parsePhpForm('__proto__[polluted]=1&constructor[prototype][x]=2');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(plain(m)).toEqual({ ['__proto__']: { polluted: '1' }, constructor: { prototype: { x: '2' } } });
  });

  it('malformed bodies are FormErrors naming the problem', () => {
    expect(() => parsePhpForm('a=%E0%A4%A')).toThrow(FormError);
    expect(() => parsePhpForm('a%5Bb=1')).toThrow(/malformed key/);
    expect(() => parsePhpForm('%5Bx%5D=1')).toThrow(/malformed key/);
    expect(() => parsePhpForm(`a${'[x]'.repeat(9)}=1`)).toThrow(/deeper than 8/);
    expect(() => parsePhpForm(Array.from({ length: 5001 }, (_, i) => `k${i}=1`).join('&'))).toThrow(/too many parameters/);
    expect(parsePhpForm('').size).toBe(0);
  });
});

describe('parseBiDate', () => {
  it('the portal cultures and ISO', () => {
    expect(parseBiDate('31.05.2025 17:01:55')).toEqual({ day: '2025-05-31', time: '17:01:55' });
    expect(parseBiDate('31.05.2025')).toEqual({ day: '2025-05-31', time: '00:00:00' });
    expect(parseBiDate('05/31/2025 05:01:55 pm')).toEqual({ day: '2025-05-31', time: '17:01:55' });
    expect(parseBiDate('05/31/2025 12:00:00 am')).toEqual({ day: '2025-05-31', time: '00:00:00' });
    expect(parseBiDate('05/31/2025 12:30:00 PM')).toEqual({ day: '2025-05-31', time: '12:30:00' });
    expect(parseBiDate('2025-05-31')).toEqual({ day: '2025-05-31', time: '00:00:00' });
    expect(parseBiDate('2025-05-31T17:01:55.123+03:00')).toEqual({ day: '2025-05-31', time: '17:01:55' });
    expect(parseBiDate('9999-12-31 23:59:59')).toEqual({ day: '9999-12-31', time: '23:59:59' });
  });

  it('anything else is null: impossible days and times, other shapes, injection text', () => {
    for (const s of ['31.02.2025', '2025-02-29', '2025-13-01', '24.05.2025 24:00:00', '05/31/2025 13:00:00 pm', '2025/05/31', '1', '', "2025-01-01' OR '1'='1", '0000-01-01'])
      expect([s, parseBiDate(s)]).toEqual([s, null]);
  });
});
