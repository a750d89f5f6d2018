import { z } from 'zod';
import { isSafePath } from './archive.js';

const SHA256 = /^[0-9a-f]{64}$/;

/** One file of a pack: its path inside the pack folder, SHA-256 and size in bytes. */
export const ManifestFileSchema = z.object({
  path: z.string().min(1).refine(isSafePath, 'must be a relative path that stays inside the pack'),
  sha256: z.string().regex(SHA256),
  size: z.number().int().nonnegative(),
});
export type ManifestFile = z.infer<typeof ManifestFileSchema>;

/** `manifest.json`: what a pack is and every file it holds. Signed as exact bytes. */
export const PackManifestSchema = z.object({
  schemaVersion: z.literal(1),
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'lowercase letters, digits, dots and dashes'),
  title: z.string().min(1),
  /** Grows with every release of this pack; a lower one is a rollback. */
  sequence: z.number().int().nonnegative(),
  published: z.string().datetime({ offset: true }),
  expires: z.string().datetime({ offset: true }),
  references: z.array(z.string()).default([]),
  files: z.array(ManifestFileSchema),
});
export type PackManifest = z.infer<typeof PackManifestSchema>;

/** `manifest.sig`: a detached Ed25519 signature over the exact bytes of `manifest.json`. */
export const SignatureFileSchema = z.object({
  keyId: z.string().regex(SHA256),
  signature: z.string().min(1),
});
export type SignatureFile = z.infer<typeof SignatureFileSchema>;

export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
