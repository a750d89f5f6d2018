import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { keyValidityProblem } from './keyring.js';
import { type TrustedKey, verifyBytes } from './keys.js';
import { SignatureFileSchema } from './manifest.js';
import { parseJson } from './user-files.js';

/** The root keys this build pins: they sign only key lists (`keys.json`), never packs. */
export const ROOT_KEYS: readonly TrustedKey[] = [
  {
    keyId: 'b5affa50f3ef294835abfcdd3db7c9efcd5dc74973204c092770f232c28b9326',
    publicKey: 'tDPVFFIRto4QwAnsuKONYuctf87LPaFNob++221I+RY=',
    name: 'chainsweep root 2026',
  },
];

const ListedKeySchema = z.object({
  keyId: z.string().regex(/^[0-9a-f]{64}$/),
  publicKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
  name: z.string().min(1),
  notBefore: z.string().datetime({ offset: true }).optional(),
  notAfter: z.string().datetime({ offset: true }).optional(),
});

/** `keys.json`: the pack-signing keys a root vouches for, and the ones it revokes. Signed by a root key. */
export const KeyListSchema = z.object({
  schemaVersion: z.literal(1),
  /** Grows with every list; a lower one is a rollback. */
  version: z.number().int().positive(),
  expires: z.string().datetime({ offset: true }),
  keys: z.array(ListedKeySchema),
  revoked: z.array(z.string().regex(/^[0-9a-f]{64}$/)).default([]),
});
export type KeyList = z.infer<typeof KeyListSchema>;

/** Verifies a key list against the pinned roots; refuses a bad signature, an unknown root or an expired list. */
export function verifyKeyList(
  bytes: Buffer,
  signature: Buffer,
  roots: readonly TrustedKey[],
  now = new Date(),
): KeyList {
  let sig: z.infer<typeof SignatureFileSchema>;
  try {
    sig = SignatureFileSchema.parse(JSON.parse(signature.toString('utf8')));
  } catch {
    throw new UserError('PACK_SIGNATURE', 'keys.json.sig is malformed');
  }
  const root = roots.find((r) => r.keyId === sig.keyId);
  if (!root)
    throw new UserError(
      'PACK_UNKNOWN_KEY',
      `keys.json is signed by ${sig.keyId.slice(0, 16)}…, which is not a pinned root key`,
    );
  const keyProblem = keyValidityProblem(root, now);
  if (keyProblem) throw new UserError('PACK_UNKNOWN_KEY', `keys.json: ${keyProblem}`);
  if (!verifyBytes(bytes, sig.signature, root))
    throw new UserError('PACK_SIGNATURE', 'keys.json does not match its signature');
  const parsed = KeyListSchema.safeParse(parseJson(bytes, 'keys.json'));
  if (!parsed.success)
    throw new UserError(
      'PACK_INVALID',
      `keys.json: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
    );
  if (new Date(parsed.data.expires) < now)
    throw new UserError(
      'PACK_EXPIRED',
      `keys.json version ${parsed.data.version} expired on ${parsed.data.expires}`,
    );
  return parsed.data;
}

/** The keys to trust: the base keyring plus the list's keys, less every revoked key. */
export function applyKeyList(base: readonly TrustedKey[], list: KeyList | undefined): TrustedKey[] {
  if (!list) return [...base];
  const revoked = new Set(list.revoked);
  const listed = list.keys.map(({ notBefore, notAfter, ...k }) => ({
    ...k,
    ...(notBefore ? { notBefore } : {}),
    ...(notAfter ? { notAfter } : {}),
  }));
  const byId = new Map([...base, ...listed].map((k) => [k.keyId, k]));
  return [...byId.values()].filter((k) => !revoked.has(k.keyId));
}
