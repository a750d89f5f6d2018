import { z } from 'zod';
import { UserError } from '../core/errors.js';
import type { TrustedKey } from './keys.js';
import { verifySignedJson } from './signed-json.js';

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

/**
 * Verifies a key list against the pinned roots; refuses a bad signature, an unknown root, a root outside its
 * validity window or an expired list. Returns the list and the root that signed it.
 */
export function verifyKeyList(
  bytes: Uint8Array,
  signature: Uint8Array,
  roots: readonly TrustedKey[],
  now = new Date(),
): { list: KeyList; root: TrustedKey } {
  const { value: list, key: root } = verifySignedJson(bytes, signature, {
    keyring: roots,
    now,
    schema: KeyListSchema,
    what: 'keys.json',
    trustedAs: 'a pinned root key',
  });
  if (new Date(list.expires) < now)
    throw new UserError('PACK_EXPIRED', `keys.json version ${list.version} expired on ${list.expires}`);
  return { list, root };
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
