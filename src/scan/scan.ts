import { stat } from 'node:fs/promises';
import { availableParallelism, homedir } from 'node:os';
import { parse, resolve, sep } from 'node:path';
import type { Diagnostic } from '../core/diagnostic.js';
import { UserError } from '../core/errors.js';
import type { Finding } from '../core/finding.js';
import type { IntelSet } from '../core/intel.js';
import { displayPath, type HostPath, isInside, reportedPath } from '../core/paths.js';
import { type FileFact, MAX_FACT_FILES, type Report } from '../core/report.js';
import { severityRank } from '../core/severity.js';
import { globToRegExp } from '../matchers/glob.js';
import type { FileDigests } from '../matchers/hash-matcher.js';
import type { YaraEngineChoice } from '../matchers/yara-types.js';
import { ReportBuilder } from './build-report.js';
import { CoverageTracker } from './coverage.js';
import { imagePathOf } from './image-path.js';
import { takeInventory } from './inventory.js';
import { liveMountSkips, pseudoFilesystemOf } from './mounts.js';
import type { FileOutcome } from './protocol.js';
import { SweepPool } from './sweep-pool.js';
import { walkFiles } from './walk.js';

export interface ScanOptions {
  /** Files and folders to sweep; default: the user's home, or the whole image with `imageRoot`. */
  paths: string[];
  /** Root of a mounted disk image: paths are read under it and reported as the imaged system saw them. */
  imageRoot?: string;
  excludes: string[];
  /** Folders never swept unless a scan path lies inside them (chainsweep's own pack fixtures). */
  ownFolders?: string[];
  allFiles: boolean;
  maxYaraBytes: number;
  crossFilesystems: boolean;
  /** Sweep a root that lies on a pseudo filesystem (/proc, /sys, /dev...), which is refused otherwise. */
  allowPseudoFs?: boolean;
  threads?: number;
  yaraTimeoutMs: number;
  /** Which YARA-X build runs the rules (default: native where it loads). */
  yaraEngine?: YaraEngineChoice;
  intel: IntelSet;
  /** Problems already found in the inputs (IOC lines); they make the intel coverage partial. */
  intelDiagnostics: Diagnostic[];
  /** Refuse to scan when a rule file does not compile. */
  strict: boolean;
  /** List installed applications and judge them against the packs (default true). */
  inventory?: boolean;
  toolVersion: string;
  /** An id kept by the agent, for the report's host when the machine has none of its own. */
  keptHostId?: string;
  signal?: AbortSignal;
  onDiagnostics?: (diagnostics: Diagnostic[]) => void;
  onFinding?: (finding: Finding) => void;
  onProgress?: (progress: ScanProgress) => void;
}

export interface ScanProgress {
  files: number;
  bytes: number;
  /** The folder being swept, as displayPath shows it. */
  currentDir: string;
}

/** Sweeps the paths with the given intel and returns the report; problems with single files never stop it. */
export async function scan(options: ScanOptions): Promise<Report> {
  const startedAt = new Date();
  const imageRoot = options.imageRoot === undefined ? undefined : resolve(options.imageRoot);
  const roots = await resolveRoots(options.paths, imageRoot, options.allowPseudoFs ?? false);
  const report = await ReportBuilder.begin({
    command: 'scan',
    toolVersion: options.toolVersion,
    startedAt,
    ...(imageRoot ? { imageRoot } : {}),
    ...(options.keptHostId === undefined ? {} : { keptHostId: options.keptHostId }),
  });
  const excludedByGlob = compileExcludes(options.excludes);
  const ownFolders = (options.ownFolders ?? [])
    .filter((own) => !roots.some((root) => isInside(root, own)))
    .map((own) => resolve(own));
  // The walk's paths are absolute and normal: a prefix test is enough, and cheap on every entry.
  const isOwn = (path: string) =>
    ownFolders.some(
      (own) => path.startsWith(own) && (path.length === own.length || path[own.length] === sep),
    );

  const walkCoverage = new CoverageTracker('walk');
  const readCoverage = new CoverageTracker('read');
  const yaraCoverage = new CoverageTracker('yara');
  const intelCoverage = new CoverageTracker('intel');
  const inventory =
    options.inventory === false
      ? { os: 'unknown' as const, apps: [], verdicts: [], findings: [], coverage: [] }
      : await takeInventory(
          imageRoot ?? liveRoot(roots[0] ?? homedir()),
          imageRoot === undefined,
          options.intel.apps,
        );
  const skipped: Record<string, number> = {};
  const skip = (reason: string) => {
    skipped[reason] = (skipped[reason] ?? 0) + 1;
  };
  const findings: Finding[] = [...inventory.findings];
  const facts: NonNullable<Report['facts']> = { files: [], filesOmitted: 0 };
  for (const finding of inventory.findings) options.onFinding?.(report.finding(finding));
  const stats = { files: 0, bytes: 0, yaraFiles: 0, yaraBytes: 0 };
  let lastPath: HostPath = roots[0] ?? '';

  const onOutcome = (outcome: FileOutcome) => {
    if (outcome.size !== undefined) {
      stats.files++;
      stats.bytes += outcome.size;
    }
    if (outcome.yara === 'scanned') {
      stats.yaraFiles++;
      stats.yaraBytes += outcome.size ?? 0;
    } else if (outcome.yara === 'not-malware-type') skip('yara-not-malware-type');
    else if (outcome.yara === 'too-large') {
      skip('yara-too-large');
      yaraCoverage.add({
        ...reportedPath(outcome.path),
        code: 'too-large',
        message: `${outcome.size} bytes, above the YARA limit of ${options.maxYaraBytes}`,
      });
    }
    if (outcome.changed) skip(`changed-while-read`);
    const problem = outcome.problem;
    if (problem?.code === 'vanished' || problem?.code === 'special') skip(problem.code);
    else if (problem?.code.startsWith('yara-'))
      yaraCoverage.add({ ...reportedPath(outcome.path), ...problem });
    else if (problem) readCoverage.add({ ...reportedPath(outcome.path), ...problem });
    if (outcome.digests?.sha256 && outcome.size !== undefined) {
      if (facts.files.length >= MAX_FACT_FILES) facts.filesOmitted++;
      else facts.files.push(fileFact(outcome.path, outcome.size, outcome.digests, imageRoot));
    }
    for (const finding of outcome.findings) {
      findings.push(finding);
      options.onFinding?.(report.finding(finding));
    }
  };

  const init = {
    intel: options.intel,
    maxYaraBytes: options.maxYaraBytes,
    allFiles: options.allFiles,
    yaraTimeoutMs: options.yaraTimeoutMs,
    yaraEngine: options.yaraEngine ?? 'auto',
    ...(imageRoot ? { imageRoot } : {}),
  };
  const threads = Math.max(1, options.threads ?? availableParallelism());
  const { pool, diagnostics, engine } = await SweepPool.start(threads, init, onOutcome);
  try {
    const ruleErrors = diagnostics.filter((d) => d.level === 'error');
    if (options.strict && ruleErrors.length > 0) {
      const first = ruleErrors[0] as Diagnostic;
      throw new UserError(
        'YARA_COMPILE',
        `${first.file}:${first.line ?? 0}: ${first.message}${ruleErrors.length > 1 ? ` (and ${ruleErrors.length - 1} more rule files)` : ''}`,
      );
    }
    options.onDiagnostics?.(diagnostics);
    for (const d of [...options.intelDiagnostics, ...diagnostics]) {
      if (d.level === 'error')
        intelCoverage.add({
          path: d.file,
          code: 'rejected',
          message: `${d.line ? `line ${d.line}: ` : ''}${d.message}`,
        });
    }

    const mountSkips = imageRoot ? new Map() : liveMountSkips();
    const progress = options.onProgress
      ? setInterval(
          () =>
            options.onProgress?.({ files: stats.files, bytes: stats.bytes, currentDir: folderOf(lastPath) }),
          250,
        )
      : undefined;
    try {
      for (const root of roots) {
        const files = walkFiles(root, {
          isExcluded: (path) => {
            if (isOwn(path)) {
              skip('chainsweep-own-files');
              return 'silent';
            }
            return excludedByGlob(path);
          },
          crossFilesystems: options.crossFilesystems,
          mountSkips,
          ...(options.signal ? { signal: options.signal } : {}),
          onSkip: skip,
          onUnreadableDir: (path, message) =>
            walkCoverage.add({ ...reportedPath(path), code: 'unreadable-dir', message }),
        });
        for (const path of files) {
          lastPath = path;
          await pool.submit(path, path === root);
        }
      }
      await pool.drain();
    } finally {
      if (progress) clearInterval(progress);
    }
  } finally {
    await pool.close();
  }

  findings.sort(
    (a, b) =>
      severityRank(a.severity) - severityRank(b.severity) ||
      (a.subject.path ?? '').localeCompare(b.subject.path ?? ''),
  );
  const coverage = [
    ...[walkCoverage, readCoverage, yaraCoverage, intelCoverage].map((t) => t.toCoverage()),
    ...inventory.coverage,
  ];
  return report.finish({
    scope: {
      paths: roots,
      ...(imageRoot ? { imageRoot } : {}),
      excludes: options.excludes,
      yaraFiles: options.allFiles ? 'all-files' : 'malware-types',
      yaraEngine: engine ?? 'none',
      maxYaraBytes: options.maxYaraBytes,
      crossFilesystems: options.crossFilesystems,
    },
    packs: options.intel.packs,
    coverage,
    inventory: { os: inventory.os, apps: inventory.apps, verdicts: inventory.verdicts },
    findings,
    facts,
    stats: { ...stats, skipped },
  });
}

/** A swept executable as a fact: its path as the imaged system saw it, and the digests the sweep computed. */
function fileFact(
  path: HostPath,
  size: number,
  digests: FileDigests,
  imageRoot: string | undefined,
): FileFact {
  return {
    path: reportedPath(imagePathOf(path, imageRoot) ?? path).path,
    size,
    sha256: digests.sha256 as string,
    ...(digests.sha1 ? { sha1: digests.sha1 } : {}),
    ...(digests.md5 ? { md5: digests.md5 } : {}),
  };
}

/** The root of the filesystem `path` is on: `/`, or its drive on Windows. */
function liveRoot(path: string): string {
  return parse(resolve(path)).root;
}

/** The folder part of a path, for progress. */
function folderOf(path: HostPath): string {
  const shown = displayPath(path);
  return shown.slice(0, shown.lastIndexOf(sep) + 1);
}

/**
 * The absolute roots to sweep. Each must exist (a symlink is followed, as `find -H`), lie inside the image root,
 * and not lie on a pseudo filesystem unless `allowPseudoFs`.
 */
async function resolveRoots(
  paths: string[],
  imageRoot: string | undefined,
  allowPseudoFs: boolean,
): Promise<string[]> {
  const wanted = paths.length > 0 ? paths : [imageRoot ?? homedir()];
  const roots: string[] = [];
  for (const path of wanted) {
    const full = imageRoot && !paths.length ? imageRoot : resolve(path);
    let device: number;
    try {
      device = (await stat(full)).dev;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UserError(
        'PATH_NOT_FOUND',
        `${displayPath(path)}: ${code === 'ENOENT' ? 'no such file or directory' : code}`,
      );
    }
    if (imageRoot && !isInside(full, imageRoot)) {
      throw new UserError(
        'USAGE',
        `${displayPath(path)}: is outside the image root ${displayPath(imageRoot)}`,
      );
    }
    const pseudo = allowPseudoFs ? undefined : pseudoFilesystemOf(device);
    if (pseudo) {
      throw new UserError(
        'USAGE',
        `${displayPath(path)}: is on a pseudo filesystem (${pseudo}); pass --allow-pseudo-fs to sweep it`,
      );
    }
    roots.push(full);
  }
  return roots;
}

/** `--exclude` globs: without a `/` they match any file or folder name; with one, the end of the path. */
function compileExcludes(globs: string[]): (path: string) => boolean {
  if (globs.length === 0) return () => false;
  const byName = globs.filter((g) => !g.includes('/')).map(globToRegExp);
  const byPath = globs
    .filter((g) => g.includes('/'))
    .map((g) => globToRegExp(g.startsWith('/') || g.startsWith('**') ? g : `**/${g}`));
  return (path) => {
    const normalised = path.replaceAll('\\', '/');
    const name = normalised.slice(normalised.lastIndexOf('/') + 1);
    return byName.some((r) => r.test(name)) || byPath.some((r) => r.test(normalised));
  };
}
