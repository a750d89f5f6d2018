import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/** A new signing secret: 32 random bytes, base64url, after `csw_whsec_`. Receivers use its UTF-8 bytes as the HMAC key. */
export function newSigningSecret(): string {
  return `csw_whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * Seals a signing secret for the store with AES-256-GCM under the hub's webhook key, bound to its webhook id
 * (associated data), so a database dump alone cannot sign, and a sealed secret moved to another row does not open.
 */
export function sealSecret(key: Buffer, webhookId: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(webhookId, 'utf8'));
  const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [VERSION, iv, cipher.getAuthTag(), sealed]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/** The signing secret `sealSecret` sealed; throws when the key or the webhook id is not the one it was sealed with. */
export function openSecret(key: Buffer, webhookId: string, sealed: string): string {
  const [version, iv, tag, data] = sealed.split('.');
  if (version !== VERSION || iv === undefined || tag === undefined || data === undefined)
    throw new Error('the sealed secret has an unknown form');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(webhookId, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new Error('the signing secret does not open with this hub webhook key');
  }
}
