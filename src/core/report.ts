import { z } from 'zod';
import { AppVerdictSchema, InstalledAppSchema, OsFamilySchema } from './app.js';
import { FindingSchema } from './finding.js';
import { HostIdSchema, HostIdSourceSchema } from './host-id.js';

/** Most addresses a report lists for its host. */
export const MAX_HOST_ADDRESSES = 64;

/** A signature source the run used: a signed pack, or the user's local unsigned files. */
export const PackRefSchema = z.object({
  id: z.string(),
  title: z.string(),
  sequence: z.number().int().nonnegative().optional(),
  signed: z.boolean(),
  keyId: z.string().optional(),
  /** SHA-256 of the exact manifest bytes. */
  digest: z.string().optional(),
  expiresAt: z.string().optional(),
  stale: z.boolean().optional(),
  /** Local inputs only: the files that were loaded. */
  files: z.array(z.string()).optional(),
  counts: z.record(z.string(), z.number().int().nonnegative()),
});
export type PackRef = z.infer<typeof PackRefSchema>;

export const FileProblemSchema = z.object({
  /** The path, escaped as in a finding's subject when it is not valid UTF-8. */
  path: z.string(),
  /** The exact bytes of `path`, base64, present only when the path is not valid UTF-8. */
  pathBytes: z.base64().optional(),
  code: z.string(),
  message: z.string(),
});
/** A file or input that a part of the scan could not cover, and why. */
export type FileProblem = z.infer<typeof FileProblemSchema>;

/** What one part of the scan covered. */
export const CoverageSchema = z.object({
  name: z.string(),
  outcome: z.enum(['complete', 'partial', 'skipped']),
  reason: z.string().optional(),
  /** How many problems there were; `problems` holds at most the first few hundred. */
  problemCount: z.number().int().nonnegative(),
  problems: z.array(FileProblemSchema),
});
export type Coverage = z.infer<typeof CoverageSchema>;

/**
 * The machine a report describes: the live host, or with `--root` the imaged system (everything then read from
 * the image). Every field is a claim from a machine an attacker may control, so each is bounded.
 */
export const HostInfoSchema = z.object({
  /** The machine's own stable id (see HostIdSourceSchema), lowercase; what the hub knows a host by. */
  hostId: HostIdSchema,
  hostIdSource: HostIdSourceSchema,
  /** Why the machine's own id could not be used, when `hostIdSource` is `hostname-digest`, or a doubt about it. */
  hostIdProblem: z.string().max(500).optional(),
  /** The host's name; never a control character (C0 or DEL), which would forge lines in a terminal or a log. */
  hostname: z
    .string()
    .max(255)
    .refine((name) => !hasControlCharacter(name), 'control characters are not allowed in a hostname'),
  /** `linux`, `darwin`, `win32`, ... as Node names them; `unknown` for an image of no known system. */
  os: z.string().max(32),
  /** Live: the kernel's release (`os.release()`). Image: the version the image records, or `unknown`. */
  osRelease: z.string().max(64),
  /** `x64`, `arm64`, `ia32`, ... as Node names them; `unknown` when an image does not say. */
  arch: z.string().max(32),
  /** The host's non-loopback, non-link-local IP addresses: live, or as a Windows image's TCP/IP settings record. */
  addresses: z.array(z.union([z.ipv4(), z.ipv6()])).max(MAX_HOST_ADDRESSES),
});
export type HostInfo = z.infer<typeof HostInfoSchema>;

/** At most this many files in a report's facts; the rest are counted in `facts.filesOmitted`. */
export const MAX_FACT_FILES = 5000;

/** An executable or library the sweep read, with its digests: a fact a later pack can be matched against. */
export const FileFactSchema = z.object({
  path: z.string().max(32 * 1024),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  sha1: z
    .string()
    .regex(/^[0-9a-f]{40}$/)
    .optional(),
  md5: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .optional(),
});
export type FileFact = z.infer<typeof FileFactSchema>;

/** The outcome of one run: what was looked at, with what, what was found, what was missed. Schema v1. */
export const ReportSchema = z.object({
  schemaVersion: z.literal(1),
  reportId: z.string().uuid(),
  tool: z.object({ name: z.literal('chainsweep'), version: z.string() }),
  command: z.enum(['scan', 'inventory', 'hunt']),
  host: HostInfoSchema,
  startedAt: z.string().datetime(),
  finishedAt: z.string().datetime(),
  outcome: z.enum(['complete', 'partial']),
  scope: z.object({
    paths: z.array(z.string()),
    imageRoot: z.string().optional(),
    /** The file sweep's settings (scan only). */
    excludes: z.array(z.string()).optional(),
    yaraFiles: z.enum(['malware-types', 'all-files']).optional(),
    /** The YARA-X build that ran the rules, or none when no rules were loaded. */
    yaraEngine: z.enum(['native', 'wasm', 'none']).optional(),
    maxYaraBytes: z.number().int().positive().optional(),
    crossFilesystems: z.boolean().optional(),
  }),
  packs: z.array(PackRefSchema),
  coverage: z.array(CoverageSchema),
  inventory: z.object({
    /** The operating system of the swept root (live host or image). */
    os: OsFamilySchema,
    apps: z.array(InstalledAppSchema),
    verdicts: z.array(AppVerdictSchema),
  }),
  findings: z.array(FindingSchema),
  /** Scan only: the executables and libraries swept, with digests, so the hub can judge them against later packs. */
  facts: z
    .object({
      files: z.array(FileFactSchema).max(MAX_FACT_FILES),
      filesOmitted: z.number().int().nonnegative(),
    })
    .optional(),
  /** Log hunting only: what each log was, and which machines touched indicators, when. */
  hunt: z
    .object({
      logs: z.array(
        z.object({
          file: z.string(),
          format: z.string(),
          bytes: z.number().int().nonnegative(),
          lines: z.number().int().nonnegative(),
          hits: z.number().int().nonnegative(),
          counts: z.record(z.string(), z.number().int().nonnegative()),
        }),
      ),
      clients: z.array(
        z.object({
          client: z.string(),
          firstSeen: z.string().optional(),
          lastSeen: z.string().optional(),
          hits: z.number().int().nonnegative(),
          indicators: z.array(z.string()),
        }),
      ),
      /** Hits beyond the report's limit, counted but not listed. */
      unlistedHits: z.number().int().nonnegative(),
    })
    .optional(),
  stats: z.object({
    files: z.number().int().nonnegative(),
    bytes: z.number().int().nonnegative(),
    yaraFiles: z.number().int().nonnegative(),
    yaraBytes: z.number().int().nonnegative(),
    /** Files not (fully) examined, by reason: `special`, `excluded`, `other-filesystem`, `yara-too-large`, ... */
    skipped: z.record(z.string(), z.number().int().nonnegative()),
    durationMs: z.number().nonnegative(),
  }),
});
export type Report = z.infer<typeof ReportSchema>;

/** Whether `text` holds a C0 control character or DEL. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
