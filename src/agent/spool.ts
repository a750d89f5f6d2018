import { lstatSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { syncFolder, TEMP_PREFIX, writeFileAtomic } from './atomic-file.js';
import type { StateFolder } from './state-folder.js';

/** How much the spool may hold; past either bound the oldest reports are dropped (and counted). */
export interface SpoolLimits {
  maxReports: number;
  maxBytes: number;
}

/** One report waiting in the spool: its gzipped JSON, named by when it was spooled and its reportId. */
export interface SpoolEntry {
  name: string;
  path: string;
  reportId: string;
  command: string;
  bytes: number;
}

/** What the agent has given up on, over its whole life: reports dropped from a full spool, reports the hub refused. */
export interface SpoolCounters {
  dropped: number;
  rejected: number;
}

const ENTRY_NAME =
  /^(\d{15})-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([a-z]+)\.json\.gz$/;
const CountersSchema = z.object({
  dropped: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
});

/**
 * Reports on disk between their making and the hub's 202. Each is written whole (temp + fsync + rename) before
 * any upload, so a crash at any point loses nothing that was spooled; it is removed only when the hub has taken
 * it, or moved to `rejected/` when the hub refuses it for good.
 */
export class Spool {
  private lastStamp = 0;

  constructor(
    private readonly folder: StateFolder,
    private readonly limits: SpoolLimits,
  ) {
    // A file still named as temporary was never spooled: its writer died before the rename.
    for (const dir of [folder.spool, folder.rejected, folder.dir])
      for (const name of readdirSync(dir))
        if (name.startsWith(TEMP_PREFIX)) rmSync(join(dir, name), { force: true });
  }

  /** Spooled reports, oldest first. */
  entries(): SpoolEntry[] {
    return entriesIn(this.folder.spool);
  }

  /** Total bytes spooled. */
  bytes(): number {
    return this.entries().reduce((sum, e) => sum + e.bytes, 0);
  }

  /**
   * Writes a report into the spool, then drops the oldest others until both bounds hold. A report larger than
   * the whole byte bound is not spooled (undefined).
   */
  add(reportId: string, command: string, gzipped: Buffer): { entry?: SpoolEntry; dropped: SpoolEntry[] } {
    if (gzipped.length > this.limits.maxBytes) return { dropped: [] };
    // Names sort in spooling order: a millisecond stamp that never repeats within this process.
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    const name = `${String(this.lastStamp).padStart(15, '0')}-${reportId}.${command}.json.gz`;
    const path = join(this.folder.spool, name);
    writeFileAtomic(path, gzipped);
    const entry: SpoolEntry = { name, path, reportId, command, bytes: gzipped.length };
    const others = this.entries().filter((e) => e.name !== name);
    let count = others.length + 1;
    let bytes = others.reduce((sum, e) => sum + e.bytes, gzipped.length);
    const dropped: SpoolEntry[] = [];
    for (const oldest of others) {
      if (count <= this.limits.maxReports && bytes <= this.limits.maxBytes) break;
      try {
        rmSync(oldest.path, { force: true });
        rmSync(failuresPath(oldest), { force: true });
      } catch {
        break; // the new report is spooled all the same; the bound holds again once the folder can be written
      }
      dropped.push(oldest);
      count--;
      bytes -= oldest.bytes;
    }
    if (dropped.length) {
      syncFolder(this.folder.spool);
      this.count('dropped', dropped.length);
    }
    return { entry, dropped };
  }

  /** The bytes to upload. */
  read(entry: SpoolEntry): Buffer {
    return readFileSync(entry.path);
  }

  /** The hub has the report: it leaves the spool. */
  remove(entry: SpoolEntry): void {
    unlinkSync(entry.path);
    rmSync(failuresPath(entry), { force: true });
    syncFolder(this.folder.spool);
  }

  /** Counts one more cycle in which the hub failed (5xx) on this report while taking others; returns the count. */
  recordServerFailure(entry: SpoolEntry): number {
    let count = 0;
    try {
      const parsed = z
        .object({ cycles: z.number().int().nonnegative() })
        .safeParse(JSON.parse(readFileSync(failuresPath(entry), 'utf8')));
      if (parsed.success) count = parsed.data.cycles;
    } catch {
      // none counted yet, or a damaged count: counting starts again
    }
    count++;
    writeFileAtomic(failuresPath(entry), Buffer.from(`${JSON.stringify({ cycles: count })}\n`));
    return count;
  }

  /** The hub refused the report for good: it moves to `rejected/` beside the hub's answer, and is counted. */
  reject(entry: SpoolEntry, status: number, message: string): void {
    const reason = { reportId: entry.reportId, status, message, rejectedAt: new Date().toISOString() };
    writeFileAtomic(
      join(this.folder.rejected, entry.name.replace(/\.json\.gz$/, '.reason.json')),
      Buffer.from(`${JSON.stringify(reason, null, 2)}\n`),
    );
    renameSync(entry.path, join(this.folder.rejected, entry.name));
    rmSync(failuresPath(entry), { force: true });
    syncFolder(this.folder.rejected);
    syncFolder(this.folder.spool);
    this.count('rejected', 1);
    // rejected/ is kept for people to look at, within the same count bound as the spool.
    for (const old of entriesIn(this.folder.rejected).slice(0, -this.limits.maxReports)) {
      rmSync(old.path, { force: true });
      rmSync(old.path.replace(/\.json\.gz$/, '.reason.json'), { force: true });
    }
  }

  /** The life-long counts of dropped and rejected reports. */
  counters(): SpoolCounters {
    try {
      const parsed = CountersSchema.safeParse(JSON.parse(readFileSync(this.folder.counters, 'utf8')));
      if (parsed.success) return parsed.data;
    } catch {
      // absent, or damaged: counting starts again
    }
    return { dropped: 0, rejected: 0 };
  }

  /** Adds to a counter; a counter that cannot be written never stops a delivery (the stderr line still says it). */
  private count(what: keyof SpoolCounters, n: number): void {
    const counters = this.counters();
    counters[what] += n;
    try {
      writeFileAtomic(this.folder.counters, Buffer.from(`${JSON.stringify(counters)}\n`));
    } catch {
      // the state folder cannot be written: the events are on stderr
    }
  }
}

/** Beside a spooled report: in how many cycles the hub failed on it (not a report name, so never listed). */
function failuresPath(entry: SpoolEntry): string {
  return entry.path.replace(/\.json\.gz$/, '.failures.json');
}

function entriesIn(dir: string): SpoolEntry[] {
  const entries: SpoolEntry[] = [];
  for (const name of readdirSync(dir).sort()) {
    const match = ENTRY_NAME.exec(name);
    if (!match) continue;
    const path = join(dir, name);
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat?.isFile()) continue;
    entries.push({ name, path, reportId: match[2] as string, command: match[3] as string, bytes: stat.size });
  }
  return entries;
}
