import { Worker } from 'node:worker_threads';

/** What the watchdog writes (one JSON line) before it kills its process: the job whose scan ran too long. */
export interface YaraTimeoutRecord {
  batch: number;
  index: number;
}

/** Runs each YARA scan of this process under the per-file time limit. */
export interface YaraWatchdog {
  /** Runs `scan` for job `index` of batch `batch`; if it outlives the limit, the whole process is killed. */
  watch<T>(batch: number, index: number, scan: () => T): T;
}

/** Shared state: [0] a counter, odd while a scan runs; [1] its batch; [2] its index; [3] its start (ms). */
const SEQ = 0;
const BATCH = 1;
const INDEX = 2;
const STARTED = 3;

/**
 * The watchdog thread. Neither engine stops a scan itself (the native binding has no time limit, the WebAssembly
 * one never fires) and a native call cannot be interrupted from JavaScript, so this thread, which shares nothing
 * with the scan but the state above, writes the stuck job to `fd` and kills the process with SIGKILL; the pool
 * records the file as timed-out and starts a fresh process. It also kills the process when its parent is gone,
 * so a scan stuck in native code never outlives chainsweep. Plain CommonJS: it runs as `eval` code.
 */
const THREAD = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { state, limitMs, base, fd, pollMs } = workerData;
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
  const seq = Atomics.load(state, ${SEQ});
  if (seq % 2 === 0) return;
  const batch = Atomics.load(state, ${BATCH});
  const index = Atomics.load(state, ${INDEX});
  const started = Atomics.load(state, ${STARTED});
  if (Atomics.load(state, ${SEQ}) !== seq || Date.now() - base - started < limitMs) return;
  writeSync(fd, JSON.stringify({ batch, index }) + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, pollMs);
`;

/** Starts the watchdog thread of this process; the scan is stopped within `limitMs` plus one poll (≤ 250 ms). */
export function startYaraWatchdog(limitMs: number, fd: number): YaraWatchdog {
  const state = new Int32Array(new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT));
  const base = Date.now();
  const pollMs = Math.min(250, Math.max(10, Math.floor(limitMs / 20)));
  new Worker(THREAD, { eval: true, workerData: { state, limitMs, base, fd, pollMs } }).unref();
  return {
    watch(batch, index, scan) {
      state[BATCH] = batch;
      state[INDEX] = index;
      state[STARTED] = Date.now() - base;
      Atomics.add(state, SEQ, 1);
      try {
        return scan();
      } finally {
        Atomics.add(state, SEQ, 1);
      }
    },
  };
}
