import { describe, expect, it } from 'vitest';
import { splitFilterKey } from '../../src/emulator/list.js';
import { formatDate, formatDateTime, parseDate, parseDateTime, ufItemName } from '../../src/emulator/wire.js';

describe('wire typing', () => {
  it('renders datetimes in the server offset and dates as midnight plus the offset', () => {
    expect(formatDateTime(Date.UTC(2025, 10, 3, 11, 22, 5), 180)).toBe('2025-11-03T14:22:05+03:00');
    expect(formatDateTime(Date.UTC(2025, 10, 3, 23, 0, 0), 180)).toBe('2025-11-04T02:00:00+03:00');
    expect(formatDate('2025-11-30', 180)).toBe('2025-11-30T03:00:00+03:00');
    expect(formatDate('2025-11-30', 120)).toBe('2025-11-30T02:00:00+02:00');
    expect(formatDate('2025-11-30', -330)).toBe('2025-11-30T05:30:00-05:30');
  });

  it('parses ISO with any offset, zone-less values in the server offset, and the portal format', () => {
    const t = Date.UTC(2025, 4, 31, 14, 1, 55);
    expect(parseDateTime('2025-05-31T17:01:55+03:00', 180)).toBe(t);
    expect(parseDateTime('2025-05-31T14:01:55Z', 180)).toBe(t);
    expect(parseDateTime('2025-05-31T16:01:55+0200', 180)).toBe(t);
    expect(parseDateTime('2025-05-31 17:01:55', 180)).toBe(t);
    expect(parseDateTime('31.05.2025 17:01:55', 180)).toBe(t);
    expect(parseDateTime('31.05.2025', 180)).toBe(Date.UTC(2025, 4, 30, 21));
    expect(parseDateTime('yesterday', 180)).toBeNull();
    expect(parseDate('2025-11-30T03:00:00+03:00', 180)).toBe('2025-11-30');
    expect(parseDate('30.11.2025', 180)).toBe('2025-11-30');
    expect(parseDate('2025-11-30', 180)).toBe('2025-11-30');
  });

  it('camel-cases user field names as crm.item does', () => {
    expect(ufItemName('UF_CRM_1712000000')).toBe('ufCrm_1712000000');
    expect(ufItemName('UF_CRM_DOCTOR')).toBe('ufCrmDoctor');
    expect(ufItemName('UF_CRM_44_1712000000')).toBe('ufCrm44_1712000000');
  });

  it('reads the operator off a filter key, longest prefix first', () => {
    expect(splitFilterKey('>=DATE_MODIFY')).toEqual({ op: 'ge', name: 'DATE_MODIFY' });
    expect(splitFilterKey('!@ID')).toEqual({ op: 'nin', name: 'ID' });
    expect(splitFilterKey('!><ID')).toEqual({ op: 'nbetween', name: 'ID' });
    expect(splitFilterKey('=%TITLE')).toEqual({ op: 'wild', name: 'TITLE' });
    expect(splitFilterKey('!TITLE')).toEqual({ op: 'ne', name: 'TITLE' });
    expect(splitFilterKey('TITLE')).toEqual({ op: 'eq', name: 'TITLE' });
  });
});
