/** @module Worker thread: compiles the matchers once, then reads and sweeps the files it is sent. */
import { relative, sep } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { sweepFile } from '../collectors/signature-sweep.js';
import { buildMatchers } from '../matchers/matcher-set.js';
import type { FileOutcome, FromWorker, ToWorker, WorkerInit } from './protocol.js';
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
  const extra = matchers.yara?.externalsUsed.has('md5') ? (['md5'] as const) : [];
  const reader = new FileReader([...matchers.hashes.algorithms], init.maxYaraBytes);
  const imagePathOf = (path: string) =>
    init.imageRoot === undefined ? undefined : `/${relative(init.imageRoot, path).split(sep).join('/')}`;

  const sweepOne = (path: string): FileOutcome => {
    try {
      const read = reader.read(path, extra);
      const imagePath = imagePathOf(path);
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
      if (error instanceof FileProblem)
        return { path, findings: [], problem: { code: error.code, message: error.message } };
      return {
        path,
        findings: [],
        problem: { code: 'worker-failed', message: String((error as Error)?.message ?? error) },
      };
    }
  };

  port.on('message', (message: ToWorker) => {
    if (message.type !== 'batch') return;
    const outcomes = message.paths.map(sweepOne);
    send({ type: 'done', id: message.id, outcomes, retire: matchers.yara?.wantsRecycle() ?? false });
  });
  send({ type: 'ready', diagnostics, engine: matchers.yara?.engine });
} catch (error) {
  send({ type: 'fatal', message: String((error as Error)?.message ?? error) });
}
