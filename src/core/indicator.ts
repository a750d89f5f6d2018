import { z } from 'zod';
import { ConfidenceSchema, SeveritySchema } from './severity.js';

export const IndicatorKindSchema = z.enum([
  'sha256',
  'sha1',
  'md5',
  'filename',
  'yara',
  'domain',
  'url',
  'ip',
  'app',
  'check',
]);
/** What an indicator's value is; `check` marks chainsweep's built-in structural checks, which need no pack. */
export type IndicatorKind = z.infer<typeof IndicatorKindSchema>;

export const HASH_KINDS = ['md5', 'sha1', 'sha256'] as const;
/** A digest algorithm an indicator can name. */
export type HashAlgorithm = (typeof HASH_KINDS)[number];
export const HASH_LENGTHS: Record<HashAlgorithm, number> = { md5: 32, sha1: 40, sha256: 64 };

export const PlatformSchema = z.enum(['windows', 'macos', 'linux']);
export type Platform = z.infer<typeof PlatformSchema>;

const HEX = /^[0-9a-f]+$/;

/** One thing to look for, with where the knowledge came from. */
export const IndicatorSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits and . _ : - only'),
    kind: IndicatorKindSchema,
    value: z.string().min(1),
    title: z.string().min(1),
    severity: SeveritySchema,
    confidence: ConfidenceSchema,
    references: z.array(z.string()).default([]),
    /** Short source codes resolved by the pack's `sources` table. */
    sources: z.array(z.string()).optional(),
    /** For hashes: the file name the sample is known by. */
    fileName: z.string().optional(),
    /** What the object is in the incident (loader, installer, stealer...). */
    role: z.string().optional(),
    platforms: z.array(PlatformSchema).optional(),
    /** For filename indicators: glob (default) or a regular expression over the full path. */
    syntax: z.enum(['glob', 'regex']).optional(),
    /** For filename indicators: a regular expression of paths that are known false positives. */
    falsePositive: z.string().optional(),
  })
  .superRefine((indicator, ctx) => {
    const expected = HASH_KINDS.find((k) => k === indicator.kind);
    if (expected && (indicator.value.length !== HASH_LENGTHS[expected] || !HEX.test(indicator.value))) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: `${expected} must be ${HASH_LENGTHS[expected]} lowercase hex digits`,
      });
    }
  });
export type Indicator = z.infer<typeof IndicatorSchema>;

/** An application (product) a pack knows versions of: which are affected, which fixed. */
export const AffectedAppSchema = z.object({
  id: z.string().min(1),
  product: z.string().min(1),
  vendor: z.string().optional(),
  platforms: z.array(PlatformSchema).min(1),
  match: z.object({
    names: z.array(z.string()).optional(),
    bundleIds: z.array(z.string()).optional(),
    publishers: z.array(z.string()).optional(),
    paths: z.array(z.string()).optional(),
    /** Inventory sources the entry applies to (dpkg, rpm, pacman, apk, homebrew, windows-uninstall, ...). */
    sources: z.array(z.string()).optional(),
  }),
  /** Affected versions: exact versions or ranges such as ">=18.12.402 <=18.12.416". */
  affected: z.array(z.string().min(1)).min(1),
  /** Fixed versions: a bare version means that version or any later one; ranges are taken as written. */
  fixed: z.array(z.string().min(1)).optional(),
  severity: SeveritySchema,
  title: z.string().min(1),
  /**
   * What removal takes besides the install itself: paths with {home} (each user profile, or the app's user) and
   * {install} (the install folder or bundle), `/`-separated and relative to the system root; `*` globs a name.
   */
  remove: z.array(z.string().min(1)).optional(),
  advisory: z.string().optional(),
  references: z.array(z.string()).default([]),
  sources: z.array(z.string()).optional(),
  notes: z.string().optional(),
});
export type AffectedApp = z.infer<typeof AffectedAppSchema>;
