import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../core/diagnostic.js';
import { ChainsweepError, UserError } from '../core/errors.js';
import type { Finding } from '../core/finding.js';
import type { IntelSet, PackedIndicator } from '../core/intel.js';
import { type HostPath, reportedPath } from '../core/paths.js';
import type { Report } from '../core/report.js';
import { NetworkMatcher } from '../matchers/network-matcher.js';
import { ReportBuilder } from '../scan/build-report.js';
import { CoverageTracker } from '../scan/coverage.js';
import { walkFiles } from '../scan/walk.js';
import { HuntSummary } from './hunt-summary.js';
import type { WireHit, WorkerMessage } from './hunt-worker.js';
import type { LogFormat } from './log-formats.js';
import { type HitSink, type HuntOptions, huntLog, type LogFileResult } from './scan-log.js';

export interface HuntRunOptions extends HuntOptions {
  /** Log files and folders (searched recursively); `-` is standard input. */
  paths: string[];
  intel: IntelSet;
  /** Problems found loading the intel; rejected lines make the hunt partial. */
  intelDiagnostics?: readonly Diagnostic[];
  threads?: number;
  toolVersion: string;
  /** An id kept by the agent, for the report's host when the machine has none of its own. */
  keptHostId?: string;
  /** Most findings listed in the report (the most severe kept); the rest are counted. */
  maxFindings?: number;
  /** Receives every hit as a finding, as found (NDJSON); the hunt waits for it. */
  onFindings?: (findings: Finding[]) => void | Promise<void>;
}

const NETWORK_KINDS = new Set(['domain', 'url', 'ip']);
/** Keeps each hunt thread's heap small: the scan holds a block and a record at a time, no more. */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 160 };

/** Hunts every log for the intel's domain, URL and IP indicators and answers which machines touched them, when. */
export async function hunt(options: HuntRunOptions): Promise<Report> {
  const startedAt = new Date();
  const indicators = options.intel.indicators.filter((i) => NETWORK_KINDS.has(i.kind));
  if (indicators.length === 0) throw new UserError('USAGE', 'hunt: no domain, URL or IP indicators loaded');
  const report = await ReportBuilder.begin({
    command: 'hunt',
    toolVersion: options.toolVersion,
    startedAt,
    ...(options.keptHostId === undefined ? {} : { keptHostId: options.keptHostId }),
  });
  const coverage = new CoverageTracker('logs');
  const intelCoverage = new CoverageTracker('intel');
  for (const d of options.intelDiagnostics ?? []) {
    if (d.level === 'error')
      intelCoverage.add({
        path: d.file,
        code: 'rejected',
        message: `${d.line ? `line ${d.line}: ` : ''}${d.message}`,
      });
  }
  const files = collectFiles(options.paths, coverage);
  const huntOptions: HuntOptions = {
    ...(options.format ? { format: options.format } : {}),
    ...(options.fields ? { fields: options.fields } : {}),
    ...(options.since ? { since: options.since } : {}),
    ...(options.until ? { until: options.until } : {}),
    ...(options.year ? { year: options.year } : {}),
    ...(options.inflate ? { inflate: options.inflate } : {}),
  };
  const summary = new HuntSummary(options.maxFindings ?? 100_000);
  const onFindings = options.onFindings;
  const sinkFor =
    (file: string): HitSink =>
    async (hits, format) => {
      const found = summary.add(file, format, hits, onFindings !== undefined);
      if (onFindings && found.length) await onFindings(found.map((f) => report.finding(f)));
    };
  const results = await runAll(
    files,
    indicators,
    huntOptions,
    Math.max(1, Math.min(options.threads ?? availableParallelism(), files.length)),
    sinkFor,
  );

  for (const result of results) {
    for (const p of result.problems) coverage.add(p);
    if (result.counts['long-lines']) {
      coverage.add({
        path: result.file,
        code: 'line-too-long',
        message: `${result.counts['long-lines']} records over 16 MiB were skipped`,
      });
    }
  }
  const covered = [
    coverage.toCoverage(),
    ...(intelCoverage.problemCount ? [intelCoverage.toCoverage()] : []),
  ];
  return report.finish({
    scope: { paths: files.map((f) => reportedPath(f).path) },
    packs: options.intel.packs,
    coverage: covered,
    inventory: { os: 'unknown', apps: [], verdicts: [] },
    findings: summary.findings(),
    hunt: {
      logs: results.map((r) => ({
        file: r.file,
        format: r.format,
        bytes: r.bytes,
        lines: r.lines,
        hits: r.hits,
        counts: r.counts,
      })),
      clients: summary.clientList(),
      unlistedHits: summary.unlisted,
    },
    stats: { files: results.length, bytes: results.reduce((n, r) => n + r.bytes, 0) },
  });
}

/** What hunt says of a path inside a folder that it does not read. */
const NOT_READ: Partial<Record<string, string>> = {
  symlink: 'a symbolic link inside a folder is not followed; name it on the command line to hunt it',
  special: 'a FIFO, socket or device inside a folder is not opened; name it on the command line to hunt it',
  vanished: 'vanished while the folder was listed',
};

/**
 * The logs named: files, FIFOs and character devices as given (a symlink named is followed), folders searched
 * recursively (symlinks and special files below them not followed, but reported), `-` for stdin. What cannot be
 * read goes to `coverage`.
 */
function collectFiles(paths: string[], coverage: CoverageTracker): HostPath[] {
  if (paths.length === 0)
    throw new UserError('USAGE', 'hunt: give log files or folders, or - for standard input');
  const files: HostPath[] = [];
  const report = (path: HostPath, code: string, message: string) =>
    coverage.add({ path: reportedPath(path).path, code, message });
  for (const path of paths) {
    if (path === '-') {
      files.push('-');
      continue;
    }
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR')
        throw new UserError('PATH_NOT_FOUND', `${path}: no such file or directory`);
      report(path, 'unreadable', `cannot look at it: ${code}`);
      continue;
    }
    if (stat.isFile() || stat.isFIFO() || stat.isCharacterDevice()) files.push(path);
    else if (!stat.isDirectory()) report(path, 'special', 'a socket or block device is not read as a log');
    else {
      // A symlink named is followed (the walk follows its root), nothing below it is.
      for (const file of walkFiles(path, {
        isExcluded: () => false,
        crossFilesystems: true,
        mountSkips: new Map(),
        onSkip: (reason, skipped) => {
          const message = NOT_READ[reason];
          if (message) report(skipped, reason, message);
        },
        onUnreadableDir: (dir, message) => report(dir, 'unreadable', message),
      })) {
        files.push(file);
      }
    }
  }
  return files;
}

/**
 * Hunts the files on `threads` worker threads (one file at a time each; stdin is read on this thread), handing
 * each file's hits to `sinkFor(file)` a block at a time: a thread waits for its block to be taken before reading on.
 */
async function runAll(
  files: HostPath[],
  indicators: PackedIndicator[],
  options: HuntOptions,
  threads: number,
  sinkFor: (file: string) => HitSink,
): Promise<LogFileResult[]> {
  const sink = (path: HostPath) => sinkFor(reportedPath(path).path);
  const fromStdin: LogFileResult[] = [];
  if (files.includes('-'))
    fromStdin.push(await huntLog('-', new NetworkMatcher(indicators), options, sink('-')));
  const onDisk = files.filter((f) => f !== '-');
  const results: LogFileResult[] = [];
  if (threads <= 1 || onDisk.length <= 1) {
    const matcher = new NetworkMatcher(indicators);
    for (const file of onDisk) results.push(await huntLog(file, matcher, options, sink(file)));
    return [...fromStdin, ...results];
  }
  const queue = onDisk.map((file, index) => ({ file, index }));
  const workerUrl = new URL(
    `./hunt-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
    import.meta.url,
  );
  const workers: Worker[] = [];
  const running = Promise.all(
    Array.from({ length: threads }, async () => {
      const worker = import.meta.url.endsWith('.ts')
        ? new Worker(
            `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl.href)}); })`,
            { eval: true, workerData: { indicators, options }, resourceLimits: WORKER_LIMITS },
          )
        : new Worker(workerUrl, { workerData: { indicators, options }, resourceLimits: WORKER_LIMITS });
      workers.push(worker);
      let pending: { sink: HitSink; done: (r: LogFileResult) => void; fail: (e: Error) => void } | undefined;
      let ready: () => void = () => {};
      const take = async (hits: WireHit[], format: LogFormat) => {
        try {
          await pending?.sink(
            hits.map((h) => ({ ...h, indicator: indicators[h.indicator] as PackedIndicator })),
            format,
          );
          worker.postMessage({ type: 'ack' } satisfies WorkerMessage);
        } catch (error) {
          pending?.fail(error as Error);
        }
      };
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') ready();
        else if (message.type === 'hits') void take(message.hits, message.format);
        else if (message.type === 'done') pending?.done(message.result);
      });
      worker.on('error', (error) =>
        pending?.fail(new ChainsweepError('INTERNAL', `hunting failed: ${error.message}`)),
      );
      try {
        await new Promise<void>((resolveReady, reject) => {
          ready = resolveReady;
          worker.once('error', reject);
        });
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
          const { file, index } = next;
          results[index] = await new Promise<LogFileResult>((done, fail) => {
            pending = { sink: sink(file), done, fail };
            worker.postMessage({ type: 'file', file } satisfies WorkerMessage);
          });
        }
      } finally {
        await worker.terminate();
      }
    }),
  );
  try {
    await running;
  } catch (error) {
    // One failure (a dead worker, an output that cannot be written) stops every thread.
    queue.length = 0;
    await Promise.all(workers.map((w) => w.terminate()));
    throw error;
  }
  return [...fromStdin, ...results];
}
