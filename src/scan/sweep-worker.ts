/** @module Worker process: compiles the matchers once, then reads and sweeps the files it is sent. */
import { isExecutableImage } from '../collectors/file-types.js';
import { sweepFile } from '../collectors/signature-sweep.js';
import type { HashAlgorithm } from '../core/indicator.js';
import type { HostPath } from '../core/paths.js';
import { buildMatchers, type MatcherSet } from '../matchers/matcher-set.js';
import type { YaraRules } from '../matchers/yara-types.js';
import { startYaraWatchdog, type YaraWatchdog } from '../matchers/yara-watchdog.js';
import { imagePathOf } from './image-path.js';
import {
  type FileOutcome,
  type FromWorker,
  type Job,
  type OutcomeProblem,
  type PartOutcome,
  type ToWorker,
  WATCHDOG_FD,
  type WorkerInit,
} from './protocol.js';
import { FileProblem, FileReader } from './read-file.js';

if (!process.send) throw new Error('sweep-worker must run as a child process with an IPC channel');
const send = (message: FromWorker) => process.send?.(message);
// The pool closed the channel (done, or gone): nothing more will come.
process.on('disconnect', () => process.exit(0));
process.once('message', (message: ToWorker) => {
  if (message.type === 'init') start(message.init);
});

function start(init: WorkerInit): void {
  try {
    run(init);
  } catch (error) {
    send({ type: 'fatal', message: String((error as Error)?.message ?? error) });
  }
}

function run(init: WorkerInit): void {
  const { matchers, diagnostics } = buildMatchers(init.intel, {
    yaraTimeoutMs: init.yaraTimeoutMs,
    yaraEngine: init.yaraEngine,
  });
  const watchdog = matchers.yara ? startYaraWatchdog(init.yaraTimeoutMs, WATCHDOG_FD) : undefined;
  const algorithms: HashAlgorithm[] = [...matchers.hashes.algorithms];
  if (matchers.yara?.externalsUsed.has('md5')) algorithms.push('md5');
  // Executables' SHA-256 is a fact the report carries, for packs that come later (the hub's retro-hunt).
  if (!algorithms.includes('sha256')) algorithms.push('sha256');
  const reader = new FileReader(init.maxYaraBytes);

  /** The job being swept, for the watchdog. */
  const position = { batch: 0, index: 0 };
  const watchedMatchers: MatcherSet = {
    ...matchers,
    yara: matchers.yara && watchdog && watched(matchers.yara, watchdog, position),
  };
  const noYara: MatcherSet = { ...matchers, yara: undefined };
  const timedOut: OutcomeProblem = {
    code: 'yara-timed-out',
    message: `YARA stopped after ${init.yaraTimeoutMs / 1000} s, the per-file limit (--yara-timeout)`,
  };

  const sweepOne = (path: HostPath, yaraTimedOut: boolean, follow: boolean): FileOutcome => {
    try {
      const read = reader.read(path, algorithms, init.splitAbove, follow);
      if ('deferredSize' in read) return { path, findings: [], deferredSize: read.deferredSize };
      const imagePath = imagePathOf(path, init.imageRoot);
      const input = {
        path,
        size: read.size,
        digests: read.digests,
        head: read.head,
        ...(imagePath ? { imagePath } : {}),
        ...(read.content ? { content: read.content } : {}),
      };
      const swept = sweepFile(input, yaraTimedOut ? noYara : watchedMatchers, { allFiles: init.allFiles });
      const outcome: FileOutcome = { path, size: read.size, findings: swept.findings, yara: swept.yara };
      if (read.changed) outcome.changed = read.changed;
      if (isExecutableImage(read.head)) outcome.digests = read.digests;
      if (yaraTimedOut) {
        outcome.yara = 'timed-out';
        outcome.problem = timedOut;
      } else if (swept.yara === 'timed-out' || swept.yara === 'failed') {
        outcome.problem = { code: `yara-${swept.yara}`, message: swept.yaraError ?? swept.yara };
      }
      return outcome;
    } catch (error) {
      return { path, findings: [], problem: problemOf(error) };
    }
  };

  const hashPart = (job: Job & { algorithms: HashAlgorithm[] }): PartOutcome => {
    try {
      const read = reader.read(job.path, job.algorithms, Number.POSITIVE_INFINITY, job.follow);
      if ('deferredSize' in read) throw new Error('unreachable: parts are never deferred');
      return {
        path: job.path,
        size: read.size,
        digests: read.digests,
        head: read.head,
        ...(read.changed ? { changed: read.changed } : {}),
      };
    } catch (error) {
      return { path: job.path, digests: {}, problem: problemOf(error) };
    }
  };

  process.on('message', (message: ToWorker) => {
    if (message.type !== 'batch') return;
    const outcomes: FileOutcome[] = [];
    const parts: PartOutcome[] = [];
    message.jobs.forEach((job, index) => {
      position.batch = message.id;
      position.index = index;
      if (job.algorithms) parts.push(hashPart({ ...job, algorithms: job.algorithms }));
      else outcomes.push(sweepOne(job.path, job.yaraTimedOut === true, job.follow === true));
    });
    send({ type: 'done', id: message.id, outcomes, parts, retire: matchers.yara?.wantsRecycle() ?? false });
  });
  send({ type: 'ready', diagnostics, engine: matchers.yara?.engine });
}

/** The rules, each scan run under the watchdog as the job at `position`. */
function watched(
  rules: YaraRules,
  watchdog: YaraWatchdog,
  position: { batch: number; index: number },
): YaraRules {
  return {
    engine: rules.engine,
    externalsUsed: rules.externalsUsed,
    scan: (bytes, externals) =>
      watchdog.watch(position.batch, position.index, () => rules.scan(bytes, externals)),
    wantsRecycle: () => rules.wantsRecycle(),
    dispose: () => rules.dispose(),
  };
}

function problemOf(error: unknown): OutcomeProblem {
  if (error instanceof FileProblem) return { code: error.code, message: error.message };
  return { code: 'worker-failed', message: String((error as Error)?.message ?? error) };
}
