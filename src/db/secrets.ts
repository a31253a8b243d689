// Tokens and webhook URLs are encrypted at rest with AES-256-GCM under a key derived from APP_SECRET.
// Format: `v1.<iv>.<tag>.<ciphertext>` (base64url). A wrong key or a tampered value fails loudly.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export class SecretBox {
  private readonly key: Buffer;

  constructor(appSecret: string) {
    if (appSecret.length < 32) throw new Error('APP_SECRET must be at least 32 characters');
    this.key = Buffer.from(hkdfSync('sha256', appSecret, 'clinic-analytics', 'token-encryption-v1', 32));
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
  }

  open(sealed: string): string {
    const [v, iv, tag, ct] = sealed.split('.');
    if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('stored secret has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('stored secret cannot be decrypted: APP_SECRET differs from the one it was sealed with, or the value was altered');
    }
  }
}
