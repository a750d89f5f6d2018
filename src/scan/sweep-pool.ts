import { type ChildProcess, fork, type StdioOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Diagnostic } from '../core/diagnostic.js';
import { ChainsweepError } from '../core/errors.js';
import { type HostPath, pathKey } from '../core/paths.js';
import type { YaraEngineName } from '../matchers/yara-types.js';
import type { YaraTimeoutRecord } from '../matchers/yara-watchdog.js';
import {
  type FileOutcome,
  type FromWorker,
  type Job,
  type ToWorker,
  WATCHDOG_FD,
  type WorkerInit,
} from './protocol.js';
import { SplitFiles } from './split-files.js';

/** Files per message: a round trip to a worker process costs ~0.1 ms, so batches are larger than for threads. */
const BATCH_FILES = 16;
const BATCHES_IN_FLIGHT = 3;

interface Slot {
  worker: ChildProcess;
  inFlight: Map<number, Job[]>;
  /** Asked to be replaced: gets no new batches, ends once its batches are done. */
  retiring: boolean;
}

interface Ready {
  diagnostics: Diagnostic[];
  engine: YaraEngineName | undefined;
}

/**
 * A pool of sweep workers fed in small batches. The walk waits while the queue is full, so it never runs far
 * ahead; parts of large files jump the queue. Workers are child processes, not threads: a native YARA scan that
 * never returns to JavaScript cannot be stopped in a thread (`terminate()` waits for it, and so does exit), but a
 * process can be killed. A worker killed by its YARA watchdog is replaced, and its files go to the others.
 */
export class SweepPool {
  private readonly slots: Slot[] = [];
  /** Every worker process alive, including those still starting: close() stops them all. */
  private readonly children = new Set<ChildProcess>();
  private batch: Job[] = [];
  /** The files submitted with `follow` (the roots), so that their parts are read the same way. */
  private readonly followed = new Set<string>();
  private readonly queued: Job[][] = [];
  private readonly urgent: Job[][] = [];
  private nextId = 0;
  private spawning = 0;
  private listeners: (() => void)[] = [];
  private closing = false;
  private engine: YaraEngineName | undefined;
  private readonly split: SplitFiles;
  private readonly init: WorkerInit;

  private constructor(
    init: Omit<WorkerInit, 'splitAbove'>,
    threads: number,
    private readonly onOutcome: (outcome: FileOutcome) => void,
  ) {
    this.split = new SplitFiles(init.intel, threads, {
      allFiles: init.allFiles,
      imageRoot: init.imageRoot,
      hasYaraRules: () => this.engine !== undefined,
    });
    this.init = { ...init, splitAbove: this.split.worthwhile ? init.maxYaraBytes : Number.POSITIVE_INFINITY };
  }

  /** Starts `threads` workers and waits until each has compiled the rules; returns what the first one reported. */
  static async start(
    threads: number,
    init: Omit<WorkerInit, 'splitAbove'>,
    onOutcome: (outcome: FileOutcome) => void,
  ): Promise<{ pool: SweepPool } & Ready> {
    const pool = new SweepPool(init, threads, onOutcome);
    const ready = await Promise.all(Array.from({ length: threads }, () => pool.spawn()));
    pool.engine = ready[0]?.engine;
    return { pool, diagnostics: ready[0]?.diagnostics ?? [], engine: pool.engine };
  }

  /** Queues one file (`follow`: one the user named, read through a symlink); resolves once the pool has room. */
  async submit(path: HostPath, follow = false): Promise<void> {
    if (follow) this.followed.add(pathKey(path));
    this.batch.push(follow ? { path, follow } : { path });
    if (this.batch.length >= BATCH_FILES) {
      this.queued.push(this.batch);
      this.batch = [];
      this.pump();
    }
    while (this.queued.length > this.slots.length) await this.change();
  }

  /** Sends what is queued and waits for every outstanding file, including the parts of large ones. */
  async drain(): Promise<void> {
    if (this.batch.length) this.queued.push(this.batch);
    this.batch = [];
    this.pump();
    while (
      this.queued.length ||
      this.urgent.length ||
      this.split.inProgress ||
      this.slots.some((s) => s.inFlight.size)
    ) {
      await this.change();
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.children].map(stopWorker));
  }

  /** Hands queued work to every worker with room. */
  private pump(): void {
    for (let slot = this.freeSlot(); slot; slot = this.freeSlot()) {
      const jobs = this.urgent.shift() ?? this.queued.shift();
      if (!jobs) return;
      const id = this.nextId++;
      slot.inFlight.set(id, jobs);
      slot.worker.send({ type: 'batch', id, jobs } satisfies ToWorker);
    }
  }

  /** Resolves at the next worker event; fails when no worker is left to wait for. */
  private change(): Promise<void> {
    if (this.slots.length === 0 && this.spawning === 0) {
      return Promise.reject(new ChainsweepError('INTERNAL', 'no sweep worker is left'));
    }
    return new Promise<void>((resolve) => this.listeners.push(resolve));
  }

  private notify(): void {
    for (const resolve of this.listeners.splice(0)) resolve();
  }

  private freeSlot(): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (slot.retiring || slot.inFlight.size >= BATCHES_IN_FLIGHT) continue;
      if (!best || slot.inFlight.size < best.inFlight.size) best = slot;
    }
    return best;
  }

  private handleDone(slot: Slot, message: Extract<FromWorker, { type: 'done' }>): void {
    slot.inFlight.delete(message.id);
    for (const outcome of message.outcomes) {
      if (outcome.deferredSize === undefined) this.onOutcome(outcome);
      else {
        const follow = this.followed.has(pathKey(outcome.path)) || undefined;
        for (const part of this.split.plan(outcome.path, follow)) this.urgent.push([part]);
      }
    }
    for (const part of message.parts) {
      const outcome = this.split.add(part);
      if (outcome) this.onOutcome(outcome);
    }
    if (message.retire) slot.retiring = true;
    if (slot.retiring && slot.inFlight.size === 0) this.retire(slot);
    this.pump();
  }

  private spawn(): Promise<Ready> {
    if (this.closing) return Promise.reject(new ChainsweepError('INTERNAL', 'the sweep pool is closed'));
    this.spawning++;
    const worker = forkWorker();
    this.children.add(worker);
    worker.once('exit', () => this.children.delete(worker));
    worker.send({ type: 'init', init: this.init } satisfies ToWorker);
    const slot: Slot = { worker, inFlight: new Map(), retiring: false };
    let watchdogRecord = '';
    worker.stdio[WATCHDOG_FD]?.on('data', (chunk: Buffer) => {
      watchdogRecord += chunk.toString('utf8');
    });
    return new Promise<Ready>((resolve, reject) => {
      let settled = false;
      const fail = (message: string) => {
        if (settled) return;
        settled = true;
        this.spawning--;
        void stopWorker(worker);
        reject(new ChainsweepError('INTERNAL', `sweep worker failed to start: ${message}`));
        this.notify();
      };
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          settled = true;
          this.spawning--;
          this.slots.push(slot);
          resolve({ diagnostics: message.diagnostics, engine: message.engine });
          this.pump();
        } else if (message.type === 'fatal') {
          fail(message.message);
        } else {
          this.handleDone(slot, message);
        }
        this.notify();
      });
      worker.on('error', (error) => fail(error.message));
      // 'close' comes after the exit and after the watchdog's pipe is drained, so its record is complete.
      worker.on('close', (code, signal) => {
        fail(`exited with ${code ?? signal}`);
        if (this.closing || !this.slots.includes(slot)) return;
        const timedOut = parseTimeoutRecord(watchdogRecord);
        if (timedOut && slot.inFlight.has(timedOut.batch)) this.replaceTimedOut(slot, timedOut);
        else this.replaceCrashed(slot, code ?? signal);
      });
    });
  }

  /** A worker whose engine grew too large is swapped for a fresh one between batches. */
  private retire(slot: Slot): void {
    this.slots.splice(this.slots.indexOf(slot), 1);
    void stopWorker(slot.worker);
    this.spawn().catch(() => this.notify());
  }

  /**
   * A worker killed by its watchdog: the file whose YARA scan ran too long is swept again without YARA (hashes,
   * names and built-in checks still count) and recorded as timed-out; every other file it held goes back to the
   * queue, and a fresh worker takes its place.
   */
  private replaceTimedOut(slot: Slot, record: YaraTimeoutRecord): void {
    this.slots.splice(this.slots.indexOf(slot), 1);
    for (const [id, jobs] of slot.inFlight) {
      this.urgent.push(
        jobs.map((job, index) =>
          id === record.batch && index === record.index ? { ...job, yaraTimedOut: true } : job,
        ),
      );
    }
    slot.inFlight.clear();
    this.spawn().catch(() => this.notify());
    this.pump();
    this.notify();
  }

  /** A worker that died takes its batches with it: record their files as failed and start a fresh worker. */
  private replaceCrashed(slot: Slot, code: number | string | null): void {
    this.slots.splice(this.slots.indexOf(slot), 1);
    const problem = { code: 'worker-failed' as const, message: `sweep worker exited with ${code}` };
    for (const jobs of slot.inFlight.values()) {
      for (const job of jobs) {
        if (job.algorithms) {
          const outcome = this.split.add({ path: job.path, digests: {}, problem });
          if (outcome) this.onOutcome(outcome);
        } else this.onOutcome({ path: job.path, findings: [], problem });
      }
    }
    slot.inFlight.clear();
    this.spawn().catch(() => this.notify());
    this.notify();
  }
}

/** Starts a worker process; when the tests run the TypeScript sources, through tsx. */
function forkWorker(): ChildProcess {
  const fromSource = import.meta.url.endsWith('.ts');
  const stdio: StdioOptions = ['ignore', 'ignore', 'inherit', 'ipc'];
  stdio[WATCHDOG_FD] = 'pipe';
  return fork(fileURLToPath(new URL(`./sweep-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url)), [], {
    serialization: 'advanced',
    stdio,
    ...(fromSource
      ? { execArgv: ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] }
      : {}),
  });
}

/** How long a worker asked to stop may take to exit on its own before it is killed. */
const STOP_GRACE_MS = 2000;

/**
 * Stops a worker process and waits until it is gone: closing its channel lets an idle one exit cleanly (and
 * write a `--cpu-prof` profile); one that is still busy, maybe in a native call that never returns, is killed.
 */
function stopWorker(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => worker.kill('SIGKILL'), STOP_GRACE_MS);
    worker.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    if (worker.connected) worker.disconnect();
    else worker.kill('SIGKILL');
  });
}

function parseTimeoutRecord(text: string): YaraTimeoutRecord | undefined {
  try {
    const record = JSON.parse(text) as Partial<YaraTimeoutRecord>;
    return Number.isInteger(record.batch) && Number.isInteger(record.index)
      ? (record as YaraTimeoutRecord)
      : undefined;
  } catch {
    return undefined;
  }
}
