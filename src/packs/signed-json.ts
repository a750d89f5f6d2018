import type { z } from 'zod';
import { type ErrorCode, UserError } from '../core/errors.js';
import { keyValidityProblem } from './keyring.js';
import { type TrustedKey, verifyBytes } from './keys.js';
import { SignatureFileSchema } from './manifest.js';
import { parseJson } from './user-files.js';

/** The largest signature file read: `{"keyId", "signature"}` is about 150 bytes. */
export const MAX_SIGNATURE_BYTES = 4096;

/** How to check one signed JSON document (a pack manifest, a feed index, a key list). */
export interface SignedJsonOptions<T> {
  /** The keys that may sign it. */
  keyring: readonly TrustedKey[];
  /** The moment the signing key must be valid at. */
  now: Date;
  schema: z.ZodType<T>;
  /** The document in messages: `pack DIR: manifest.json`, `https://feed/latest.json`. */
  what: string;
  /** The signature file in messages; `${what}.sig` by default. */
  signatureWhat?: string;
  /** What a key must be to sign it, in messages; "a trusted key" by default. */
  trustedAs?: string;
  /** The code of a document that verifies but is not valid JSON of `schema`; PACK_INVALID by default. */
  invalidCode?: ErrorCode;
}

/**
 * Verifies a detached Ed25519 signature file (`{"keyId", "signature"}`) over the exact `bytes`: the key must be
 * in the keyring and inside its validity window at `now`; only then are the bytes parsed, with `schema`. Every
 * refusal is a one-line UserError naming the document and what is wrong.
 */
export function verifySignedJson<T>(
  bytes: Uint8Array,
  signatureBytes: Uint8Array,
  options: SignedJsonOptions<T>,
): { value: T; key: TrustedKey } {
  const { what } = options;
  const signatureWhat = options.signatureWhat ?? `${what}.sig`;
  if (signatureBytes.length > MAX_SIGNATURE_BYTES)
    throw new UserError(
      'PACK_SIGNATURE',
      `${signatureWhat} is ${signatureBytes.length} bytes, over the ${MAX_SIGNATURE_BYTES}-byte limit for a signature file`,
    );
  const sig = SignatureFileSchema.safeParse(
    parseJson(asBuffer(signatureBytes), signatureWhat, 'PACK_SIGNATURE'),
  );
  if (!sig.success)
    throw new UserError(
      'PACK_SIGNATURE',
      `${signatureWhat} is malformed (expected {"keyId": 64 hex digits, "signature": base64})`,
    );
  const { keyId, signature } = sig.data;
  const key = options.keyring.find((k) => k.keyId === keyId);
  if (!key)
    throw new UserError(
      'PACK_UNKNOWN_KEY',
      `${what}: signed by unknown key ${keyId.slice(0, 16)}…, which is not ${options.trustedAs ?? 'a trusted key'}`,
    );
  const keyProblem = keyValidityProblem(key, options.now);
  if (keyProblem) throw new UserError('PACK_UNKNOWN_KEY', `${what}: ${keyProblem}`);
  if (!verifyBytes(bytes, signature, key))
    throw new UserError(
      'PACK_SIGNATURE',
      `${what} does not match its signature by key ${key.name} (tampered or wrong key)`,
    );
  const code = options.invalidCode ?? 'PACK_INVALID';
  const parsed = options.schema.safeParse(parseJson(asBuffer(bytes), what, code));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(code, `${what}: ${issue?.path.join('.') || 'document'}: ${issue?.message}`);
  }
  return { value: parsed.data, key };
}

/** A Buffer view of `bytes`, without a copy. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
