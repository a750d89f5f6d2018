import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../core/diagnostic.js';
import { ChainsweepError } from '../core/errors.js';
import type { YaraEngineName } from '../matchers/yara-types.js';
import type { FileOutcome, FromWorker, ToWorker, WorkerInit } from './protocol.js';

const BATCH_FILES = 16;
const BATCHES_IN_FLIGHT = 2;

interface Slot {
  worker: Worker;
  inFlight: Map<number, string[]>;
  /** Asked to be replaced: gets no new batches, ends once its batches are done. */
  retiring: boolean;
}

interface Ready {
  diagnostics: Diagnostic[];
  engine: YaraEngineName | undefined;
}

/** A pool of sweep workers fed in small batches, with backpressure so the walk never runs far ahead. */
export class SweepPool {
  private readonly slots: Slot[] = [];
  private batch: string[] = [];
  private nextId = 0;
  private spawning = 0;
  private waiting: (() => void)[] = [];
  private idle: (() => void)[] = [];
  private closing = false;

  private constructor(
    private readonly init: WorkerInit,
    private readonly onOutcome: (outcome: FileOutcome) => void,
  ) {}

  /** Starts `threads` workers and waits until each has compiled the rules; returns what the first one reported. */
  static async start(
    threads: number,
    init: WorkerInit,
    onOutcome: (outcome: FileOutcome) => void,
  ): Promise<{ pool: SweepPool } & Ready> {
    const pool = new SweepPool(init, onOutcome);
    const ready = await Promise.all(Array.from({ length: threads }, () => pool.spawn()));
    return { pool, diagnostics: ready[0]?.diagnostics ?? [], engine: ready[0]?.engine };
  }

  /** Queues one file; resolves once the pool has room for more. */
  async submit(path: string): Promise<void> {
    this.batch.push(path);
    if (this.batch.length >= BATCH_FILES) await this.dispatch();
  }

  /** Sends what is queued and waits for every outstanding file. */
  async drain(): Promise<void> {
    if (this.batch.length) await this.dispatch();
    while (this.slots.some((s) => s.inFlight.size > 0))
      await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private async dispatch(): Promise<void> {
    let slot = this.freeSlot();
    while (!slot) {
      if (this.slots.length === 0 && this.spawning === 0)
        throw new ChainsweepError('INTERNAL', 'no sweep worker is left');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      slot = this.freeSlot();
    }
    const id = this.nextId++;
    const paths = this.batch;
    this.batch = [];
    slot.inFlight.set(id, paths);
    slot.worker.postMessage({ type: 'batch', id, paths } satisfies ToWorker);
  }

  private freeSlot(): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (slot.retiring || slot.inFlight.size >= BATCHES_IN_FLIGHT) continue;
      if (!best || slot.inFlight.size < best.inFlight.size) best = slot;
    }
    return best;
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
        this.wake();
      };
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          started = true;
          this.spawning--;
          this.slots.push(slot);
          resolve({ diagnostics: message.diagnostics, engine: message.engine });
          this.wake();
        } else if (message.type === 'fatal') {
          fail(message.message);
        } else {
          const paths = slot.inFlight.get(message.id);
          slot.inFlight.delete(message.id);
          if (paths) for (const outcome of message.outcomes) this.onOutcome(outcome);
          if (message.retire) slot.retiring = true;
          if (slot.retiring && slot.inFlight.size === 0) this.retire(slot);
          this.wake();
        }
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
    this.spawn().catch(() => this.wake());
  }

  /** A worker that died takes its batches with it: record them as failed and start a fresh worker. */
  private replaceCrashed(slot: Slot, code: number): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    for (const paths of slot.inFlight.values()) {
      for (const path of paths) {
        this.onOutcome({
          path,
          findings: [],
          problem: { code: 'worker-failed', message: `sweep worker exited with code ${code}` },
        });
      }
    }
    slot.inFlight.clear();
    this.spawn().catch(() => this.wake());
    this.wake();
  }

  private wake(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
    if (!this.slots.some((s) => s.inFlight.size > 0)) for (const resolve of this.idle.splice(0)) resolve();
  }
}
