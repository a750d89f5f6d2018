import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { arch, availableParallelism, hostname, platform, release } from 'node:os';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { UserError } from '../core/errors.js';
import { type Finding, fingerprint } from '../core/finding.js';
import type { Report } from '../core/report.js';
import { severityRank } from '../core/severity.js';
import { NetworkMatcher } from '../matchers/network-matcher.js';
import type { IntelSet, PackedIndicator } from '../packs/intel.js';
import { CoverageTracker } from '../scan/coverage.js';
import { walkFiles } from '../scan/walk.js';
import { type HuntOptions, huntLog, type LogFileResult, type LogHit } from './scan-log.js';

export interface HuntRunOptions extends HuntOptions {
  /** Log files and folders (searched recursively); `-` is standard input. */
  paths: string[];
  intel: IntelSet;
  threads?: number;
  toolVersion: string;
  /** Most findings listed in the report; the rest are counted. */
  maxFindings?: number;
}

const NETWORK_KINDS = new Set(['domain', 'url', 'ip']);
/** Keeps each hunt thread's heap small: the scan holds a block and a record at a time, no more. */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 160 };

/** Hunts every log for the intel's domain, URL and IP indicators and answers which machines touched them, when. */
export async function hunt(options: HuntRunOptions): Promise<Report> {
  const startedAt = new Date();
  const indicators = options.intel.indicators.filter((i) => NETWORK_KINDS.has(i.kind));
  if (indicators.length === 0) throw new UserError('USAGE', 'hunt: no domain, URL or IP indicators loaded');
  const files = collectFiles(options.paths);
  const huntOptions: HuntOptions = {
    ...(options.format ? { format: options.format } : {}),
    ...(options.fields ? { fields: options.fields } : {}),
    ...(options.since ? { since: options.since } : {}),
    ...(options.until ? { until: options.until } : {}),
  };
  const results = await runAll(
    files,
    indicators,
    huntOptions,
    Math.max(1, Math.min(options.threads ?? availableParallelism(), files.length)),
  );

  const coverage = new CoverageTracker('logs');
  const findings: Finding[] = [];
  let unlisted = 0;
  const limit = options.maxFindings ?? 100_000;
  const clients = new Map<
    string,
    { firstSeen?: string; lastSeen?: string; hits: number; indicators: Set<string> }
  >();
  for (const result of results) {
    for (const p of result.problems) coverage.add(p);
    if (result.counts['long-lines']) {
      coverage.add({
        path: result.file,
        code: 'line-too-long',
        message: `${result.counts['long-lines']} records over 16 MiB were skipped`,
      });
    }
    for (const hit of result.hits) {
      const client = clients.get(hit.client ?? '(unknown)') ?? { hits: 0, indicators: new Set<string>() };
      client.hits++;
      client.indicators.add(hit.indicator.value);
      if (hit.timestamp) {
        if (!client.firstSeen || hit.timestamp < client.firstSeen) client.firstSeen = hit.timestamp;
        if (!client.lastSeen || hit.timestamp > client.lastSeen) client.lastSeen = hit.timestamp;
      }
      clients.set(hit.client ?? '(unknown)', client);
      if (findings.length < limit) findings.push(toFinding(hit));
      else unlisted++;
    }
  }
  findings.sort(
    (a, b) =>
      severityRank(a.severity) - severityRank(b.severity) ||
      (a.subject.log?.timestamp ?? '').localeCompare(b.subject.log?.timestamp ?? '') ||
      (a.subject.log?.file ?? '').localeCompare(b.subject.log?.file ?? '') ||
      (a.subject.log?.line ?? 0) - (b.subject.log?.line ?? 0),
  );
  const finishedAt = new Date();
  const cov = coverage.toCoverage();
  return {
    schemaVersion: 1,
    reportId: randomUUID(),
    tool: { name: 'chainsweep', version: options.toolVersion },
    command: 'hunt',
    host: { hostname: hostname(), os: platform(), osRelease: release(), arch: arch() },
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    outcome: cov.outcome === 'partial' ? 'partial' : 'complete',
    scope: { paths: files },
    packs: options.intel.packs,
    coverage: [cov],
    inventory: { os: 'unknown', apps: [], verdicts: [] },
    findings,
    hunt: {
      logs: results.map((r) => ({
        file: r.file,
        format: r.format,
        bytes: r.bytes,
        lines: r.lines,
        hits: r.hits.length,
        counts: r.counts,
      })),
      clients: [...clients]
        .map(([client, c]) => ({
          client,
          ...(c.firstSeen ? { firstSeen: c.firstSeen } : {}),
          ...(c.lastSeen ? { lastSeen: c.lastSeen } : {}),
          hits: c.hits,
          indicators: [...c.indicators].sort(),
        }))
        .sort(
          (a, b) =>
            (a.firstSeen ?? '~').localeCompare(b.firstSeen ?? '~') || a.client.localeCompare(b.client),
        ),
      unlistedHits: unlisted,
    },
    stats: {
      files: results.length,
      bytes: results.reduce((n, r) => n + r.bytes, 0),
      yaraFiles: 0,
      yaraBytes: 0,
      skipped: {},
      durationMs: finishedAt.getTime() - startedAt.getTime(),
    },
  };
}

function toFinding(hit: LogHit): Finding {
  const i: PackedIndicator = hit.indicator;
  return {
    fingerprint: fingerprint(i.packId, i.id, `${hit.file}:${hit.line}`),
    kind: i.kind,
    indicatorId: i.id,
    packId: i.packId,
    severity: i.severity,
    confidence: i.confidence,
    title: i.title,
    subject: {
      log: {
        file: hit.file,
        line: hit.line,
        format: hit.format,
        seen: hit.seen,
        ...(hit.timestamp ? { timestamp: hit.timestamp } : {}),
        ...(hit.client ? { client: hit.client } : {}),
        ...(hit.field ? { field: hit.field } : {}),
      },
    },
    evidence: { indicator: i.value, seen: hit.seen, ...(hit.field ? { field: hit.field } : {}) },
    references: i.references,
  };
}

/** The log files named: files as given, folders searched recursively (symlinks not followed), `-` for stdin. */
function collectFiles(paths: string[]): string[] {
  if (paths.length === 0)
    throw new UserError('USAGE', 'hunt: give log files or folders, or - for standard input');
  const files: string[] = [];
  for (const path of paths) {
    if (path === '-') {
      files.push('-');
      continue;
    }
    const full = resolve(path);
    try {
      statSync(full);
    } catch {
      throw new UserError('PATH_NOT_FOUND', `${path}: no such file or directory`);
    }
    for (const file of walkFiles(full, {
      isExcluded: () => false,
      crossFilesystems: true,
      mountSkips: new Map(),
      onSkip: () => {},
      onUnreadableDir: () => {},
    })) {
      files.push(file);
    }
  }
  return files;
}

/** Hunts the files on `threads` worker threads (one file at a time each); stdin is read on this thread. */
async function runAll(
  files: string[],
  indicators: PackedIndicator[],
  options: HuntOptions,
  threads: number,
): Promise<LogFileResult[]> {
  const results: LogFileResult[] = [];
  const onDisk = files.filter((f) => f !== '-');
  if (files.includes('-')) results.push(await huntLog('-', new NetworkMatcher(indicators), options));
  if (onDisk.length === 0) return results;
  if (threads <= 1 || onDisk.length === 1) {
    const matcher = new NetworkMatcher(indicators);
    for (const file of onDisk) results.push(await huntLog(file, matcher, options));
    return results;
  }
  const queue = [...onDisk];
  const workerUrl = new URL(
    `./hunt-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
    import.meta.url,
  );
  await Promise.all(
    Array.from({ length: threads }, async () => {
      const worker = import.meta.url.endsWith('.ts')
        ? new Worker(
            `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl.href)}); })`,
            { eval: true, workerData: { indicators, options }, resourceLimits: WORKER_LIMITS },
          )
        : new Worker(workerUrl, { workerData: { indicators, options }, resourceLimits: WORKER_LIMITS });
      let pending: { done: (r: LogFileResult) => void; fail: (e: Error) => void } | undefined;
      let ready: () => void = () => {};
      worker.on('message', (message: LogFileResult | 'ready') =>
        message === 'ready' ? ready() : pending?.done(message),
      );
      worker.on('error', (error) => pending?.fail(error));
      try {
        await new Promise<void>((resolveReady, reject) => {
          ready = resolveReady;
          worker.once('error', reject);
        });
        for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
          const current = file;
          results.push(
            await new Promise<LogFileResult>((done, fail) => {
              pending = {
                done,
                fail: (error) =>
                  fail(new UserError('INTERNAL', `hunting ${current} failed: ${error.message}`)),
              };
              worker.postMessage(current);
            }),
          );
        }
      } finally {
        await worker.terminate();
      }
    }),
  );
  return results.sort((a, b) => onDisk.indexOf(a.file) - onDisk.indexOf(b.file));
}
