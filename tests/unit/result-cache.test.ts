import { describe, expect, it } from 'vitest';
import { ResultCache } from '../../src/kpi/result-cache.js';

describe('KPI result cache', () => {
  it('answers only the same portal and facts version', () => {
    const c = new ResultCache<number>(10);
    c.set('a', 'v1', 'revenue', 1);
    expect(c.get('a', 'v1', 'revenue')).toBe(1);
    expect(c.get('b', 'v1', 'revenue')).toBeUndefined();
    expect(c.get('a', 'v2', 'revenue')).toBeUndefined();
    expect(c.get('a', 'v1', 'visits')).toBeUndefined();
  });

  it('drops the least recently used entry beyond its capacity', () => {
    const c = new ResultCache<string>(2);
    c.set('a', 'v', 'x', 'X');
    c.set('a', 'v', 'y', 'Y');
    expect(c.get('a', 'v', 'x')).toBe('X'); // x is now the most recent
    c.set('a', 'v', 'z', 'Z');
    expect([c.get('a', 'v', 'x'), c.get('a', 'v', 'y'), c.get('a', 'v', 'z')]).toEqual(['X', undefined, 'Z']);
  });

  it('keeps nothing with capacity 0', () => {
    const c = new ResultCache<number>(0);
    c.set('a', 'v', 'x', 1);
    expect(c.get('a', 'v', 'x')).toBeUndefined();
  });
});
