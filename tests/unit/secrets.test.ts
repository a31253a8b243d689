import { describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/db/secrets.js';

describe('SecretBox', () => {
  const box = new SecretBox('k'.repeat(32));
  it('round-trips and never stores the plain text', () => {
    const sealed = box.seal('refresh-token-123');
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('refresh-token-123');
    expect(box.seal('refresh-token-123')).not.toBe(sealed); // random IV
    expect(box.open(sealed)).toBe('refresh-token-123');
  });
  it('refuses another key, a tampered value, a short secret', () => {
    const sealed = box.seal('x');
    expect(() => new SecretBox('z'.repeat(32)).open(sealed)).toThrow(/cannot be decrypted/);
    const [v, iv, tag] = sealed.split('.');
    expect(() => box.open([v, iv, tag, 'AAAA'].join('.'))).toThrow(/cannot be decrypted/);
    expect(() => box.open('plain')).toThrow(/unknown format/);
    expect(() => new SecretBox('short')).toThrow(/32/);
  });
});
