/** @module Worker thread: compiles the matchers once, then reads and sweeps the files it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { sweepFile } from '../collectors/signature-sweep.js';
import type { HashAlgorithm } from '../core/indicator.js';
import { buildMatchers } from '../matchers/matcher-set.js';
import { imagePathOf } from './image-path.js';
import type {
  FileOutcome,
  FromWorker,
  Job,
  OutcomeProblem,
  PartOutcome,
  ToWorker,
  WorkerInit,
} from './protocol.js';
import { FileProblem, FileReader } from './read-file.js';

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('sweep-worker must run in a worker thread');
const send = (message: FromWorker) => port.postMessage(message);

try {
  const { matchers, diagnostics } = buildMatchers(init.intel, {
    yaraTimeoutMs: init.yaraTimeoutMs,
    yaraEngine: init.yaraEngine,
  });
  const algorithms: HashAlgorithm[] = [...matchers.hashes.algorithms];
  if (matchers.yara?.externalsUsed.has('md5')) algorithms.push('md5');
  const reader = new FileReader(init.maxYaraBytes);

  const sweepOne = (path: string): FileOutcome => {
    try {
      const read = reader.read(path, algorithms, init.splitAbove);
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
      const swept = sweepFile(input, matchers, { allFiles: init.allFiles });
      const outcome: FileOutcome = { path, size: read.size, findings: swept.findings, yara: swept.yara };
      if (read.changed) outcome.changed = read.changed;
      if (swept.yara === 'timed-out' || swept.yara === 'failed') {
        outcome.problem = { code: `yara-${swept.yara}`, message: swept.yaraError ?? swept.yara };
      }
      return outcome;
    } catch (error) {
      return { path, findings: [], problem: problemOf(error) };
    }
  };

  const hashPart = (job: Job & { algorithms: HashAlgorithm[] }): PartOutcome => {
    try {
      const read = reader.read(job.path, job.algorithms);
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

  port.on('message', (message: ToWorker) => {
    if (message.type !== 'batch') return;
    const outcomes: FileOutcome[] = [];
    const parts: PartOutcome[] = [];
    for (const job of message.jobs) {
      if (job.algorithms) parts.push(hashPart({ ...job, algorithms: job.algorithms }));
      else outcomes.push(sweepOne(job.path));
    }
    send({ type: 'done', id: message.id, outcomes, parts, retire: matchers.yara?.wantsRecycle() ?? false });
  });
  send({ type: 'ready', diagnostics, engine: matchers.yara?.engine });
} catch (error) {
  send({ type: 'fatal', message: String((error as Error)?.message ?? error) });
}

function problemOf(error: unknown): OutcomeProblem {
  if (error instanceof FileProblem) return { code: error.code, message: error.message };
  return { code: 'worker-failed', message: String((error as Error)?.message ?? error) };
}
