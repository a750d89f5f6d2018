import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../core/diagnostic.js';
import { ChainsweepError } from '../core/errors.js';
import type { YaraEngineName } from '../matchers/yara-types.js';
import type { FileOutcome, FromWorker, Job, ToWorker, WorkerInit } from './protocol.js';
import { SplitFiles } from './split-files.js';

const BATCH_FILES = 8;
const BATCHES_IN_FLIGHT = 3;

interface Slot {
  worker: Worker;
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
 * ahead; parts of large files jump the queue.
 */
export class SweepPool {
  private readonly slots: Slot[] = [];
  private batch: Job[] = [];
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

  /** Queues one file; resolves once the pool has room for more. */
  async submit(path: string): Promise<void> {
    this.batch.push({ path });
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
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  /** Hands queued work to every worker with room. */
  private pump(): void {
    for (let slot = this.freeSlot(); slot; slot = this.freeSlot()) {
      const jobs = this.urgent.shift() ?? this.queued.shift();
      if (!jobs) return;
      const id = this.nextId++;
      slot.inFlight.set(id, jobs);
      slot.worker.postMessage({ type: 'batch', id, jobs } satisfies ToWorker);
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
      else for (const part of this.split.plan(outcome.path)) this.urgent.push([part]);
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
    this.spawning++;
    const worker = import.meta.url.endsWith('.ts')
      ? // Tests run the TypeScript sources: load the worker through tsx. The built package runs plain JavaScript.
        new Worker(
          `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./sweep-worker.ts', import.meta.url).href)}); })`,
          { eval: true, workerData: this.init },
        )
      : new Worker(new URL('./sweep-worker.js', import.meta.url), { workerData: this.init });
    const slot: Slot = { worker, inFlight: new Map(), retiring: false };
    return new Promise<Ready>((resolve, reject) => {
      let started = false;
      const fail = (message: string) => {
        this.spawning--;
        reject(new ChainsweepError('INTERNAL', `sweep worker failed to start: ${message}`));
        this.notify();
      };
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          started = true;
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
      worker.on('error', (error) => {
        if (!started) fail(error.message);
      });
      worker.on('exit', (code) => {
        if (started && !this.closing && !slot.retiring) this.replaceCrashed(slot, code);
      });
    });
  }

  /** A worker whose engine grew too large is swapped for a fresh one between batches. */
  private retire(slot: Slot): void {
    this.slots.splice(this.slots.indexOf(slot), 1);
    void slot.worker.terminate();
    this.spawn().catch(() => this.notify());
  }

  /** A worker that died takes its batches with it: record their files as failed and start a fresh worker. */
  private replaceCrashed(slot: Slot, code: number): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    const problem = { code: 'worker-failed' as const, message: `sweep worker exited with code ${code}` };
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
