import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { errorMessage, UserError } from '../core/errors.js';
import type { TrustedKey } from './keys.js';

const TrustedKeySchema = z.object({
  keyId: z.string().regex(/^[0-9a-f]{64}$/),
  publicKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'base64 of 32 bytes'),
  name: z.string().min(1),
  notBefore: z.string().datetime({ offset: true }).optional(),
  notAfter: z.string().datetime({ offset: true }).optional(),
});
const KeyringFileSchema = z.object({ keys: z.array(TrustedKeySchema) });

/** The keys this build of chainsweep trusts out of the box: the project's pack-signing keys. */
export const DEFAULT_KEYRING: readonly TrustedKey[] = [
  {
    keyId: '8dbc07acd7677da0d3fecfba87e4da9e634881c74ad85b3a6cd7c2c0036e16aa',
    publicKey: 'uxNxBx2UtGo3AmbDvTnVQCr1YkkOuOSKt0jj2HLJnmo=',
    name: 'chainsweep packs 2026',
    notBefore: '2026-11-01T00:00:00Z',
    notAfter: '2029-01-01T00:00:00Z',
  },
];

/** Reads a keyring file (`{"keys": [...]}`, the format `packs keygen` writes entries for). */
export async function readKeyringFile(path: string): Promise<TrustedKey[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UserError('KEY_INVALID', `keyring ${path}: ${errorMessage(error)}`);
  }
  const parsed = KeyringFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError('KEY_INVALID', `keyring ${path}: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data.keys.map(({ notBefore, notAfter, ...rest }) => ({
    ...rest,
    ...(notBefore ? { notBefore } : {}),
    ...(notAfter ? { notAfter } : {}),
  }));
}

/** Why `key` may not sign at `at`, or undefined when it may. */
export function keyValidityProblem(key: TrustedKey, at: Date): string | undefined {
  const unreadable = [key.notBefore, key.notAfter].find(
    (d) => d !== undefined && Number.isNaN(Date.parse(d)),
  );
  if (unreadable !== undefined)
    return `key ${key.name} has an unreadable validity window (${JSON.stringify(unreadable)} is not a date)`;
  if (key.notBefore && at < new Date(key.notBefore))
    return `key ${key.name} is not valid before ${key.notBefore}`;
  if (key.notAfter && at > new Date(key.notAfter)) return `key ${key.name} expired on ${key.notAfter}`;
  return undefined;
}
