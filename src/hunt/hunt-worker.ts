/** @module Worker thread: hunts the logs it is sent with matchers compiled once. */
import { parentPort, workerData } from 'node:worker_threads';
import { NetworkMatcher } from '../matchers/network-matcher.js';
import type { PackedIndicator } from '../packs/intel.js';
import { type HuntOptions, huntLog } from './scan-log.js';

const { indicators, options } = workerData as { indicators: PackedIndicator[]; options: HuntOptions };
const matcher = new NetworkMatcher(indicators);
const port = parentPort;
if (!port) throw new Error('hunt-worker must run in a worker thread');
port.on('message', async (file: string) => {
  port.postMessage(await huntLog(file, matcher, options));
});
port.postMessage('ready');
