import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InstalledAppSchema } from './app.js';
import { IndicatorKindSchema } from './indicator.js';
import { ConfidenceSchema, SeveritySchema } from './severity.js';

/** Where a finding was seen: a file today; an installed app or a log line in other commands. */
export const SubjectSchema = z.object({
  /**
   * Full path on the scanning machine. When a name in it is not valid UTF-8, this is the path escaped as
   * `displayPath` shows it (`evil\xFF.dll`) and `pathBytes` holds the exact bytes.
   */
  path: z.string().optional(),
  /** The exact bytes of `path`, base64, present only when the path is not valid UTF-8. */
  pathBytes: z.base64().optional(),
  /** Path inside a mounted image (`--root`), as the imaged system saw it (escaped the same way). */
  imagePath: z.string().optional(),
  /** The exact bytes of `imagePath`, base64, present only when it is not valid UTF-8. */
  imagePathBytes: z.base64().optional(),
  /** For application findings: the installed app. */
  app: InstalledAppSchema.optional(),
  /** For log findings: the record that touched the indicator. */
  log: z
    .object({
      file: z.string(),
      line: z.number().int().positive(),
      format: z.string(),
      timestamp: z.string().optional(),
      client: z.string().optional(),
      field: z.string().optional(),
      seen: z.string(),
    })
    .optional(),
});
export type Subject = z.infer<typeof SubjectSchema>;

/** One indicator that matched one subject. */
export const FindingSchema = z.object({
  /** In a report: `hostFingerprint(host.hostId, fingerprint(packId, indicatorId, subject))`. */
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  kind: IndicatorKindSchema,
  indicatorId: z.string(),
  packId: z.string(),
  severity: SeveritySchema,
  confidence: ConfidenceSchema,
  title: z.string(),
  subject: SubjectSchema,
  evidence: z.record(z.string(), z.unknown()),
  references: z.array(z.string()),
});
export type Finding = z.infer<typeof FindingSchema>;

/**
 * "This indicator on this subject", the same across scans; not yet tied to a host. Collectors and matchers make
 * it; a report carries `hostFingerprint(host.hostId, it)` so the same path on two machines never collides.
 */
export function fingerprint(packId: string, indicatorId: string, subjectKey: string): string {
  return createHash('sha256').update(`${packId}\0${indicatorId}\0${subjectKey}`).digest('hex');
}

/** A finding's fingerprint on one host: "this indicator on this subject on this machine", stable across scans. */
export function hostFingerprint(hostId: string, subjectFingerprint: string): string {
  return createHash('sha256').update(`host\0${hostId}\0${subjectFingerprint}`).digest('hex');
}

/** The finding as a report of host `hostId` carries it: its fingerprint tied to the host. */
export function findingOnHost(finding: Finding, hostId: string): Finding {
  return { ...finding, fingerprint: hostFingerprint(hostId, finding.fingerprint) };
}
