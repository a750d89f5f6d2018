/** @module Worker thread: hunts the logs it is sent with matchers compiled once, handing hits back a block at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import type { PackedIndicator } from '../core/intel.js';
import type { HostPath } from '../core/paths.js';
import { NetworkMatcher } from '../matchers/network-matcher.js';
import type { LogFormat } from './log-formats.js';
import { type HuntOptions, huntLog, type LogFileResult, type LogHit } from './scan-log.js';

/** A hit as it crosses threads: its indicator by index into the indicators the worker was given. */
export type WireHit = Omit<LogHit, 'indicator'> & { indicator: number };

/** Messages between the hunt and a worker: a file to hunt, a block of hits (answered by `ack`), the file's result. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'file'; file: HostPath }
  | { type: 'hits'; hits: WireHit[]; format: LogFormat }
  | { type: 'ack' }
  | { type: 'done'; result: LogFileResult };

const { indicators, options } = workerData as { indicators: PackedIndicator[]; options: HuntOptions };
const matcher = new NetworkMatcher(indicators);
const index = new Map(indicators.map((indicator, i) => [indicator, i]));
const port = parentPort;
if (!port) throw new Error('hunt-worker must run in a worker thread');
const send = (message: WorkerMessage) => port.postMessage(message);
let acked: () => void = () => {};
port.on('message', async (message: WorkerMessage) => {
  if (message.type === 'ack') acked();
  if (message.type !== 'file') return;
  const result = await huntLog(message.file, matcher, options, (hits, format) => {
    const wire = hits.map((h) => ({ ...h, indicator: index.get(h.indicator) as number }));
    return new Promise<void>((resolve) => {
      acked = resolve;
      send({ type: 'hits', hits: wire, format });
    });
  });
  send({ type: 'done', result });
});
send({ type: 'ready' });
