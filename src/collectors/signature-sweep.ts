import { type Finding, fingerprint } from '../core/finding.js';
import type { PackedIndicator } from '../core/intel.js';
import { type HostPath, pathText, reportedPath } from '../core/paths.js';
import { ConfidenceSchema, type Severity, SeveritySchema } from '../core/severity.js';
import type { FilenameMatcher } from '../matchers/filename-matcher.js';
import type { FileDigests, HashMatcher } from '../matchers/hash-matcher.js';
import type { MatcherSet } from '../matchers/matcher-set.js';
import { type YaraExternalValues, type YaraMatch, YaraTimeoutError } from '../matchers/yara-types.js';
import { severityFromScore } from '../packs/ioc-list.js';
import { isMalwareFileType } from './file-types.js';
import { bufferSource } from './parsers/byte-source.js';
import { checkCertificateTable, parsePeHeaders } from './parsers/pe.js';

/** A file as the sweep sees it: where it is, what was read, and (when small enough) its bytes. */
export interface SweepInput {
  /** Full path on this machine: text, or bytes when a name in it is not UTF-8. */
  path: HostPath;
  /** Path inside a mounted image, when scanning one. */
  imagePath?: HostPath;
  size: number;
  digests: FileDigests;
  head: Uint8Array;
  content?: Uint8Array;
}

export interface SweepOptions {
  /** Run YARA on every file, not just the types malware hides in. */
  allFiles: boolean;
}

/** Whether YARA looked at the file, and if not, why. */
export type YaraStatus = 'scanned' | 'no-rules' | 'not-malware-type' | 'too-large' | 'timed-out' | 'failed';

/** True when YARA should see this file at all (before size limits). */
export function wantsYara(input: Pick<SweepInput, 'path' | 'head'>, options: SweepOptions): boolean {
  return options.allFiles || isMalwareFileType(input.head, baseName(pathText(input.path)));
}

/** Matches one file against hashes, names and YARA; a YARA failure is reported in `yara`, never thrown. */
export function sweepFile(
  input: SweepInput,
  matchers: MatcherSet,
  options: SweepOptions,
): { findings: Finding[]; yara: YaraStatus; yaraError?: string } {
  const findings = [...matchFacts(input, matchers.hashes, matchers.names), ...builtInChecks(input)];
  if (!matchers.yara) return { findings, yara: 'no-rules' };
  if (!wantsYara(input, options)) return { findings, yara: 'not-malware-type' };
  if (!input.content) return { findings, yara: 'too-large' };
  const fileFacts = { size: input.size, ...input.digests };
  try {
    for (const match of matchers.yara.scan(input.content, yaraExternals(input, namePathOf(input)))) {
      findings.push(yaraFinding(match, input, fileFacts));
    }
    return { findings, yara: 'scanned' };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { findings, yara: error instanceof YaraTimeoutError ? 'timed-out' : 'failed', yaraError: message };
  }
}

/** Hash and file-name findings for one file: what needs no content beyond the digests. */
export function matchFacts(input: SweepInput, hashes: HashMatcher, names: FilenameMatcher): Finding[] {
  const findings: Finding[] = [];
  const namePath = namePathOf(input);
  const file = { size: input.size, ...input.digests };
  for (const indicator of hashes.match(input.digests)) {
    findings.push(
      indicatorFinding(indicator, input, {
        algorithm: indicator.kind,
        value: indicator.value,
        ...(indicator.fileName ? { knownAs: indicator.fileName } : {}),
        ...(indicator.role ? { role: indicator.role } : {}),
        file,
      }),
    );
  }
  for (const indicator of names.match(namePath)) {
    findings.push(indicatorFinding(indicator, input, { pattern: indicator.value, matched: namePath, file }));
  }
  return findings;
}

/** The pack id of chainsweep's built-in checks. */
export const BUILT_IN = 'chainsweep';

/** Checks that need no pack: today, data hidden after a PE's Authenticode signature (CVE-2013-3900). */
export function builtInChecks(input: SweepInput): Finding[] {
  if (!input.content || input.head[0] !== 0x4d || input.head[1] !== 0x5a) return [];
  let check: ReturnType<typeof checkCertificateTable>;
  try {
    const source = bufferSource(
      Buffer.from(input.content.buffer, input.content.byteOffset, input.content.byteLength),
    );
    check = checkCertificateTable(source, parsePeHeaders(source));
  } catch {
    return []; // not a well-formed PE: nothing to say about its signature
  }
  if (!check || check.extraBytes === 0) return [];
  const marker = check.feedfaceOffset !== undefined;
  const id = 'pe-authenticode-appended-data';
  return [
    {
      fingerprint: fingerprint(BUILT_IN, id, subjectKey(input)),
      kind: 'check',
      indicatorId: id,
      packId: BUILT_IN,
      severity: marker ? 'critical' : 'medium',
      confidence: marker ? 'high' : 'medium',
      title: marker
        ? `Data hidden after the Authenticode signature, with the FE ED FA CE marker of the 3CX d3dcompiler_47.dll payload (${check.extraBytes} bytes)`
        : `Data hidden after the Authenticode signature, which signature checks ignore (CVE-2013-3900; ${check.extraBytes} bytes)`,
      subject: subjectOf(input),
      evidence: {
        extraBytes: check.extraBytes,
        extraOffset: check.extraOffset,
        certificateTable: { offset: check.tableOffset, size: check.tableSize },
        ...(marker ? { feedfaceOffset: check.feedfaceOffset } : {}),
        file: { size: input.size, ...input.digests },
      },
      references: ['https://msrc.microsoft.com/update-guide/vulnerability/CVE-2013-3900'],
    },
  ];
}

/**
 * The path file-name indicators see: inside the image when there is one, always with forward slashes, as text
 * (bytes that are not UTF-8 read as U+FFFD, so `*.dll` still matches `evil\xFF.dll`).
 */
function namePathOf(input: SweepInput): string {
  return pathText(input.imagePath ?? input.path).replaceAll('\\', '/');
}

function indicatorFinding(
  indicator: PackedIndicator,
  input: SweepInput,
  evidence: Record<string, unknown>,
): Finding {
  return {
    fingerprint: fingerprint(indicator.packId, indicator.id, subjectKey(input)),
    kind: indicator.kind,
    indicatorId: indicator.id,
    packId: indicator.packId,
    severity: indicator.severity,
    confidence: indicator.confidence,
    title: indicator.title,
    subject: subjectOf(input),
    evidence,
    references: indicator.references,
  };
}

function yaraFinding(match: YaraMatch, input: SweepInput, file: Record<string, unknown>): Finding {
  const packId = match.namespace.startsWith('local/') ? 'local' : (match.namespace.split('/')[0] ?? 'local');
  const meta = match.meta;
  const references = ['reference', 'references', 'url']
    .map((k) => meta[k])
    .filter((v): v is string => typeof v === 'string' && v.length > 0);
  return {
    fingerprint: fingerprint(packId, match.rule, subjectKey(input)),
    kind: 'yara',
    indicatorId: match.rule,
    packId,
    severity: yaraSeverity(meta),
    confidence: ConfidenceSchema.safeParse(meta.confidence).data ?? 'medium',
    title:
      typeof meta.description === 'string'
        ? meta.description
        : typeof meta.title === 'string'
          ? meta.title
          : match.rule,
    subject: subjectOf(input),
    evidence: {
      rule: match.rule,
      namespace: match.namespace,
      tags: match.tags,
      strings: match.strings.slice(0, 20).map((s) => ({ id: s.id, offsets: s.offsets.slice(0, 8) })),
      file,
    },
    references,
  };
}

/** Severity from rule meta: `severity`, else a Loki/THOR `score`, else high. */
function yaraSeverity(meta: YaraMatch['meta']): Severity {
  const named = SeveritySchema.safeParse(
    typeof meta.severity === 'string' ? meta.severity.toLowerCase() : undefined,
  );
  if (named.success) return named.data;
  const score = typeof meta.score === 'number' ? meta.score : Number.parseInt(String(meta.score ?? ''), 10);
  return severityFromScore(Number.isFinite(score) ? score : undefined, 'high');
}

function yaraExternals(input: SweepInput, namePath: string): YaraExternalValues {
  const name = baseName(namePath);
  const dot = name.lastIndexOf('.');
  return {
    filename: name,
    filepath: namePath.slice(0, Math.max(0, namePath.length - name.length - 1)),
    extension: dot > 0 ? name.slice(dot).toLowerCase() : '',
    filetype: fileTypeLabel(input.head),
    owner: '',
    md5: input.digests.md5 ?? '',
  };
}

/** Loki's `filetype` labels for the common magics. */
function fileTypeLabel(head: Uint8Array): string {
  if (head[0] === 0x4d && head[1] === 0x5a) return 'EXE';
  if (head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) return 'ELF';
  if ((head[0] === 0xcf || head[0] === 0xce) && head[1] === 0xfa && head[2] === 0xed && head[3] === 0xfe)
    return 'MACH-O';
  if (head[0] === 0x50 && head[1] === 0x4b) return 'ZIP';
  if (head[0] === 0xd0 && head[1] === 0xcf) return 'MS-OFFICE';
  return '';
}

function subjectOf(input: SweepInput): Finding['subject'] {
  const { path, pathBytes } = reportedPath(input.path);
  const image = input.imagePath === undefined ? undefined : reportedPath(input.imagePath);
  return {
    path,
    ...(pathBytes ? { pathBytes } : {}),
    ...(image ? { imagePath: image.path } : {}),
    ...(image?.pathBytes ? { imagePathBytes: image.pathBytes } : {}),
  };
}

/** What a finding's fingerprint is keyed on: the reported path (escaped paths are unambiguous). */
function subjectKey(input: SweepInput): string {
  return reportedPath(input.path).path;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
