import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { stateDir } from '../packs/state-dir.js';
import { type Journal, JournalWriter, type QuarantineItem, readJournal } from './quarantine-journal.js';
import { defaultKeyFile, loadKey } from './quarantine-key.js';
import { type RestoreResult, restoreEntry } from './quarantine-restore.js';
import { describe, QuarantineWriter, type WriterOptions } from './quarantine-writer.js';

export type { QuarantineItem } from './quarantine-journal.js';
export { QuarantineWriter } from './quarantine-writer.js';

/**
 * complete: every planned path is in; partial: the run ended with some left in place (see `left`); incomplete:
 * the run stopped part-way after moving something; empty: nothing was moved; restored: put back.
 */
export type QuarantineStatus = 'complete' | 'partial' | 'incomplete' | 'empty' | 'restored';

/** One quarantine entry, as its authenticated journal tells it. */
export interface QuarantineEntry {
  id: string;
  createdAt: string;
  reason: string;
  status: QuarantineStatus;
  /** The root the paths were reached from. */
  root: string;
  items: QuarantineItem[];
  left: { path: string; message: string }[];
  /** Journal lines that do not authenticate (never restored). */
  refused: { line: number; path?: string | undefined; reason: string }[];
}

const ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/** The quarantine folder: $CHAINSWEEP_QUARANTINE, else `quarantine` in chainsweep's state folder. */
export function defaultQuarantineDir(): string {
  return process.env.CHAINSWEEP_QUARANTINE ?? join(stateDir(), 'quarantine');
}

/**
 * A folder of quarantine entries, each a journal and stored copies, authenticated with the key in `keyFile`
 * (made on first use). Moving in copies each file, syncs the copy and its journal line, and only then takes the
 * file out of its path, so a crash at any point leaves each file in place, in quarantine, or both, never neither.
 */
export class QuarantineStore {
  constructor(
    readonly dir: string,
    readonly keyFile: string = defaultKeyFile(),
  ) {}

  /**
   * Starts a new entry for the paths `roots` under `root`: call `add` on the writer for each, then `finish`.
   */
  begin(reason: string, root: string, roots: string[], options?: WriterOptions): QuarantineWriter {
    const id = `${new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;
    const entryDir = join(this.dir, id);
    try {
      const key = loadKey(this.keyFile, true);
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      mkdirSync(join(entryDir, 'payload'), { recursive: true, mode: 0o700 });
      const journal = new JournalWriter(join(entryDir, 'journal.ndjson'), key, id);
      journal.append({ t: 'begin', id, createdAt: idToDate(id), reason, root, roots });
      return new QuarantineWriter(id, entryDir, key, journal, root, options);
    } catch (error) {
      if (error instanceof UserError) throw error;
      const where = (error as NodeJS.ErrnoException).path?.startsWith(this.dir) ? this.dir : this.keyFile;
      throw new UserError('USAGE', `quarantine: cannot write ${where}: ${describe(error)}; nothing moved`);
    }
  }

  /** Every entry, newest first. */
  list(): QuarantineEntry[] {
    if (!existsSync(this.dir)) return [];
    const ids = readdirSync(this.dir).filter((name) => ID_PATTERN.test(name));
    if (ids.length === 0) return [];
    const key = loadKey(this.keyFile, false, 'cannot read the quarantine');
    return ids
      .sort()
      .reverse()
      .map((id) => this.entry(id, key));
  }

  read(id: string): QuarantineEntry {
    return this.entry(id, loadKey(this.keyFile, false, 'cannot read the quarantine'));
  }

  /**
   * Puts an entry's authenticated items back exactly (see quarantine-restore.ts). Refuses before touching anything
   * when a path is now taken by something else; a path already holding the item counts as restored. The entry is
   * marked restored, and its stored copies removed, only when nothing was refused.
   */
  restore(id: string, procFd?: boolean): RestoreResult {
    this.checkId(id);
    const key = loadKey(this.keyFile, false, 'nothing restored');
    const journal = this.journal(id, key);
    if (journal.restored) throw new UserError('USAGE', `quarantine: entry ${id} was already restored`);
    if (!journal.begin)
      throw new UserError('PACK_TAMPERED', `quarantine: entry ${id} does not authenticate; nothing restored`);
    const entryDir = join(this.dir, id);
    const result = restoreEntry(entryDir, journal, key, procFd);
    if (result.refused.length === 0) {
      const writer = new JournalWriter(join(entryDir, 'journal.ndjson'), key, id);
      writer.append({ t: 'restored', at: new Date().toISOString(), restored: result.restored });
      writer.close();
      rmSync(join(entryDir, 'payload'), { recursive: true, force: true });
    }
    return result;
  }

  private entry(id: string, key: Buffer): QuarantineEntry {
    const journal = this.journal(id, key);
    return {
      id,
      createdAt: journal.begin?.createdAt ?? idToDate(id),
      reason: journal.begin?.reason ?? '',
      status: statusOf(journal),
      root: journal.begin?.root ?? '',
      items: journal.items,
      left: journal.left,
      refused: journal.refused,
    };
  }

  private journal(id: string, key: Buffer): Journal {
    this.checkId(id);
    const entryDir = join(this.dir, id);
    if (!existsSync(entryDir)) throw new UserError('USAGE', `quarantine: no entry ${id} in ${this.dir}`);
    return readJournal(join(entryDir, 'journal.ndjson'), key, id);
  }

  private checkId(id: string): void {
    if (!ID_PATTERN.test(id))
      throw new UserError('USAGE', `quarantine: ${JSON.stringify(id)} is not a quarantine id`);
  }
}

function statusOf(journal: Journal): QuarantineStatus {
  if (journal.restored) return 'restored';
  if (journal.items.length === 0) return 'empty';
  if (!journal.ended) return 'incomplete';
  return journal.left.length ? 'partial' : 'complete';
}

function idToDate(id: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : '';
}
