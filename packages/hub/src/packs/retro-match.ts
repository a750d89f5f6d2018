import type { InstalledApp, OsFamily } from 'chainsweep/core/app.js';
import { type Finding, fingerprint, hostFingerprint } from 'chainsweep/core/finding.js';
import { HASH_KINDS, type HashAlgorithm } from 'chainsweep/core/indicator.js';
import type { IntelSet, PackedApp } from 'chainsweep/core/intel.js';
import { judgeApps } from 'chainsweep/matchers/app-verdicts.js';
import { FilenameMatcher } from 'chainsweep/matchers/filename-matcher.js';
import { type FileDigests, HashMatcher } from 'chainsweep/matchers/hash-matcher.js';

/** One file a host's latest report described: its reported path and the digests the agent computed. */
export interface FileFact {
  path: string;
  size?: number | null;
  sha256?: string | null;
  sha1?: string | null;
  md5?: string | null;
}

/** What the hub knows of one host from its latest report: enough to judge it again without a rescan. */
export interface HostFacts {
  hostId: string;
  os: OsFamily;
  apps: readonly InstalledApp[];
  files: readonly FileFact[];
}

/** One pack's intel compiled once for a retro-hunt, with the scanner's own matchers. */
export interface PackMatchers {
  packId: string;
  sequence: number;
  hashes: HashMatcher;
  names: FilenameMatcher;
  apps: readonly PackedApp[];
  /** Lowercase digests the pack names, by algorithm: the only file facts a pack without name rules needs. */
  digests: ReadonlyMap<HashAlgorithm, readonly string[]>;
}

/** Compiles the matchers of one pack (its IntelSet as `readPackContent` gives it). */
export function compilePackMatchers(intel: IntelSet, pack: { id: string; sequence: number }): PackMatchers {
  const digests = new Map<HashAlgorithm, string[]>();
  for (const indicator of intel.indicators) {
    const algorithm = HASH_KINDS.find((k) => k === indicator.kind);
    if (!algorithm) continue;
    const list = digests.get(algorithm) ?? [];
    list.push(indicator.value.toLowerCase());
    digests.set(algorithm, list);
  }
  return {
    packId: pack.id,
    sequence: pack.sequence,
    hashes: new HashMatcher(intel.indicators),
    names: new FilenameMatcher(intel.indicators),
    apps: intel.apps,
    digests: new Map([...digests].map(([k, v]) => [k, [...new Set(v)]])),
  };
}

/**
 * The lowercase names a host's apps must have for the pack to judge them, when every entry matches by name
 * only (bundle ids and paths can describe an app of any name): the stored apps worth reading. Undefined when
 * every app must be read.
 */
export function appNameKeys(matchers: PackMatchers): string[] | undefined {
  if (matchers.apps.some((e) => e.match.bundleIds?.length || e.match.paths?.length || !e.match.names?.length))
    return undefined;
  return [...new Set(matchers.apps.flatMap((e) => (e.match.names ?? []).map((n) => n.toLowerCase())))];
}

/** True when judging a host needs every stored file (the pack has name rules), not only digest hits. */
export function needsEveryFile(matchers: PackMatchers): boolean {
  return matchers.names.size > 0;
}

/**
 * Judges one host's stored facts with one pack, as a scan with that pack would have: installed apps by the
 * app-verdict matcher, file digests by the hash matcher, file paths by the file-name matcher. Each finding's
 * fingerprint is tied to the host exactly as the agent's own report would tie it, and its evidence names the
 * stored fact that matched and the pack sequence that judged it.
 */
export function judgeHostFacts(facts: HostFacts, matchers: PackMatchers): Finding[] {
  const origin = { origin: 'retro-hunt', packSequence: matchers.sequence };
  const findings: Finding[] = [];
  for (const finding of judgeApps(facts.apps, matchers.apps, facts.os).findings) {
    findings.push({
      ...finding,
      fingerprint: hostFingerprint(facts.hostId, finding.fingerprint),
      evidence: { ...finding.evidence, ...origin, matched: { fact: 'app', app: finding.subject.app } },
    });
  }
  for (const file of facts.files) {
    const digests: FileDigests = {};
    for (const algorithm of HASH_KINDS) {
      const value = file[algorithm];
      if (value) digests[algorithm] = value.toLowerCase();
    }
    const fact = {
      fact: 'file',
      path: file.path,
      ...(file.size != null ? { size: file.size } : {}),
      ...digests,
    };
    const hits = [
      ...matchers.hashes
        .match(digests)
        .map((indicator) => ({ indicator, evidence: { algorithm: indicator.kind, value: indicator.value } })),
      ...matchers.names
        .match(file.path.replaceAll('\\', '/'))
        .map((indicator) => ({ indicator, evidence: { pattern: indicator.value, matched: file.path } })),
    ];
    for (const { indicator, evidence } of hits) {
      findings.push({
        fingerprint: hostFingerprint(facts.hostId, fingerprint(indicator.packId, indicator.id, file.path)),
        kind: indicator.kind,
        indicatorId: indicator.id,
        packId: indicator.packId,
        severity: indicator.severity,
        confidence: indicator.confidence,
        title: indicator.title,
        subject: { path: file.path },
        evidence: {
          ...evidence,
          ...(indicator.fileName ? { knownAs: indicator.fileName } : {}),
          ...(indicator.role ? { role: indicator.role } : {}),
          ...origin,
          matched: fact,
        },
        references: indicator.references,
      });
    }
  }
  return findings;
}
