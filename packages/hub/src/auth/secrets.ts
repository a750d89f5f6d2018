import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The prefixes of the secrets the hub hands out; the prefix says which table holds its hash. */
export const SECRET_PREFIX = {
  api: 'csw_api_',
  enrol: 'csw_enrol_',
  agent: 'csw_agent_',
  session: '',
} as const;

/** A new secret: 32 random bytes, base64url, after the kind's prefix. Shown once; only its hash is stored. */
export function newSecret(kind: keyof typeof SECRET_PREFIX): string {
  return `${SECRET_PREFIX[kind]}${randomBytes(32).toString('base64url')}`;
}

/** The stored form of a secret: SHA-256, hex. A 256-bit random secret needs no salt or slow hash. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares two strings in time independent of where they differ. */
export function equalSecrets(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
