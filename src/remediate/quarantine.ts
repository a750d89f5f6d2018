import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../core/errors.js';
import { isInside } from '../core/paths.js';
import { stateDir } from '../packs/state-dir.js';
import { DirHandle } from './dir-handle.js';
import {
  type Journal,
  JournalWriter,
  openJournal,
  type QuarantineItem,
  readJournal,
} from './quarantine-journal.js';
import { defaultKeyFile, loadKey } from './quarantine-key.js';
import { type RestoreOptions, type RestoreResult, restoreEntry } from './quarantine-restore.js';
import { describe, QuarantineWriter, type WriterOptions } from './quarantine-writer.js';

export type { QuarantineItem } from './quarantine-journal.js';
export { QuarantineWriter } from './quarantine-writer.js';

/**
 * complete: every planned path is in; partial: the run ended with some left in place (see `left`); incomplete:
 * the run stopped part-way after moving something; empty: nothing was moved; restored: put back; tampered: lines
 * of its journal are missing; unreadable: its journal cannot be read (see `problem`).
 */
export type QuarantineStatus =
  | 'complete'
  | 'partial'
  | 'incomplete'
  | 'empty'
  | 'restored'
  | 'tampered'
  | 'unreadable';

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
  /** Why the entry is tampered or unreadable. */
  problem?: string;
}

const ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;
const PAYLOAD = 'payload';

/** The quarantine folder: $CHAINSWEEP_QUARANTINE, else `quarantine` in chainsweep's state folder. */
export function defaultQuarantineDir(): string {
  return process.env.CHAINSWEEP_QUARANTINE ?? join(stateDir(), 'quarantine');
}

/**
 * A folder of quarantine entries, each a journal and stored copies, authenticated with the key in `keyFile`
 * (made on first use). The folder must be this user's and writable by no one else; each entry folder is opened
 * once, without following a symlink, and its journal and stored copies are reached only through that handle.
 * Moving in copies each file, syncs the copy and its journal line, and only then takes the file out of its path,
 * so a crash at any point leaves each file in place, in quarantine, or both, never neither.
 */
export class QuarantineStore {
  constructor(
    readonly dir: string,
    readonly keyFile: string = defaultKeyFile(),
  ) {}

  /**
   * Starts a new entry for the paths `roots` under `root`: call `add` on the writer for each, then `finish`.
   */
  begin(reason: string, root: string, roots: string[], options: WriterOptions = {}): QuarantineWriter {
    const id = `${new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;
    let rootHandle: DirHandle;
    try {
      rootHandle = DirHandle.openRoot(root, options.procFd);
    } catch (error) {
      throw new UserError('USAGE', `quarantine: cannot open ${root}: ${describe(error)}; nothing moved`);
    }
    const opened: DirHandle[] = [rootHandle];
    try {
      const key = loadKey(this.keyFile, true);
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const store = this.openStore(options.procFd, 'nothing moved');
      opened.push(store);
      mkdirSync(store.at(id), 0o700);
      const entry = openPrivate(store, id, 'nothing moved');
      opened.push(entry);
      mkdirSync(entry.at(PAYLOAD), 0o700);
      const payload = openPrivate(entry, PAYLOAD, 'nothing moved');
      const journal = new JournalWriter(openJournal(entry, 'create'), key, id);
      opened.splice(0);
      store.close();
      entry.close();
      const { dev, ino } = rootHandle.identity;
      journal.append({
        t: 'begin',
        id,
        createdAt: idToDate(id),
        reason,
        root,
        rootDev: dev,
        rootIno: ino,
        roots,
      });
      return new QuarantineWriter(id, payload, key, journal, root, rootHandle, options);
    } catch (error) {
      for (const handle of opened) handle.close();
      if (error instanceof UserError) throw error;
      const where = (error as NodeJS.ErrnoException).path?.startsWith(this.dir) ? this.dir : this.keyFile;
      throw new UserError('USAGE', `quarantine: cannot write ${where}: ${describe(error)}; nothing moved`);
    }
  }

  /** Every entry, newest first; one whose journal cannot be read is listed as unreadable, saying why. */
  list(): QuarantineEntry[] {
    if (!existsSync(this.dir)) return [];
    const store = this.openStore(undefined, 'cannot read the quarantine');
    try {
      const ids = store
        .names()
        .map(String)
        .filter((name) => ID_PATTERN.test(name));
      if (ids.length === 0) return [];
      const key = loadKey(this.keyFile, false, 'cannot read the quarantine');
      return ids
        .sort()
        .reverse()
        .map((id) => {
          try {
            return this.withEntry(store, id, 'read', (_, fd) => entryOf(id, readJournal(fd, key, id)));
          } catch (error) {
            return unreadable(id, error);
          }
        });
    } finally {
      store.close();
    }
  }

  read(id: string): QuarantineEntry {
    this.checkId(id);
    const key = loadKey(this.keyFile, false, 'cannot read the quarantine');
    const store = this.openStore(undefined, 'cannot read the quarantine');
    try {
      return this.withEntry(store, id, 'read', (_, fd) => entryOf(id, readJournal(fd, key, id)));
    } finally {
      store.close();
    }
  }

  /**
   * Puts an entry's authenticated items back exactly (see quarantine-restore.ts). Refuses before touching anything
   * when lines of the journal are missing or a path is now taken by something else; a path already holding the
   * item counts as restored. The entry is marked restored, and the stored copies its journal names removed, only
   * when nothing was refused.
   */
  restore(id: string, options: RestoreOptions = {}): RestoreResult {
    this.checkId(id);
    const key = loadKey(this.keyFile, false, 'nothing restored');
    const store = this.openStore(options.procFd, 'nothing restored');
    try {
      return this.withEntry(store, id, 'append', (entry, fd) => {
        const journal = readJournal(fd, key, id);
        if (journal.restored) throw new UserError('USAGE', `quarantine: entry ${id} was already restored`);
        if (!journal.begin)
          throw new UserError(
            'PACK_TAMPERED',
            `quarantine: entry ${id} does not authenticate; nothing restored`,
          );
        if (journal.missing)
          throw new UserError(
            'PACK_TAMPERED',
            `quarantine: entry ${id} has been tampered with: ${journal.missing} of its journal; nothing restored`,
          );
        const payload = entry.lstat(PAYLOAD) ? openPrivate(entry, PAYLOAD, 'nothing restored') : undefined;
        try {
          const result = restoreEntry(payload, journal, key, options);
          if (result.refused.length === 0) {
            const writer = new JournalWriter(fd, key, id, journal.tail);
            writer.append({
              t: 'restored',
              at: new Date().toISOString(),
              restored: result.restored,
              lines: writer.count,
            });
            if (payload) removeCopies(entry, payload, journal);
          }
          return result;
        } finally {
          payload?.close();
        }
      });
    } finally {
      store.close();
    }
  }

  /** Opens the entry `id` in the open store and its journal, runs `work` with them, and closes both. */
  private withEntry<T>(
    store: DirHandle,
    id: string,
    mode: 'read' | 'append',
    work: (entry: DirHandle, journal: number) => T,
  ): T {
    this.checkId(id);
    if (!store.lstat(id)) throw new UserError('USAGE', `quarantine: no entry ${id} in ${this.dir}`);
    const entry = openPrivate(store, id, 'not read');
    try {
      const fd = openJournal(entry, mode);
      try {
        return work(entry, fd);
      } finally {
        closeSync(fd);
      }
    } finally {
      entry.close();
    }
  }

  /**
   * The quarantine folder, held open; it, and every folder from the state folder down to it, must be this user's
   * and writable by no one else (whoever can write it could swap what root writes into).
   */
  private openStore(procFd: boolean | undefined, outcome: string): DirHandle {
    const state = stateDir();
    if (isInside(this.dir, state))
      for (let dir = dirname(this.dir); isInside(dir, state); dir = dirname(dir)) {
        checkPrivate(statSync(dir), dir, outcome);
        if (dir === dirname(dir)) break;
      }
    const store = DirHandle.openRoot(this.dir, procFd);
    try {
      checkPrivate(fstatSync(store.descriptor()), this.dir, outcome);
    } catch (error) {
      store.close();
      throw error;
    }
    return store;
  }

  private checkId(id: string): void {
    if (!ID_PATTERN.test(id))
      throw new UserError('USAGE', `quarantine: ${JSON.stringify(id)} is not a quarantine id`);
  }
}

/** The folder `name` in `dir`, opened without following a symlink, checked to be private (see checkPrivate). */
function openPrivate(dir: DirHandle, name: string, outcome: string): DirHandle {
  let sub: DirHandle;
  try {
    sub = dir.openDir(name);
  } catch (error) {
    throw new UserError('PACK_TAMPERED', `quarantine: ${dir.child(name)}: ${describe(error)}; ${outcome}`);
  }
  try {
    checkPrivate(fstatSync(sub.descriptor()), sub.path.toString(), outcome);
  } catch (error) {
    sub.close();
    throw error;
  }
  return sub;
}

/** Refuses a folder that is not this user's or that its group or others may write. */
function checkPrivate(stat: { uid: number; mode: number }, path: string, outcome: string): void {
  const uid = process.getuid?.();
  if ((uid === undefined || stat.uid === uid) && (stat.mode & 0o022) === 0) return;
  throw new UserError(
    'USAGE',
    `quarantine: ${path} must be a folder of this user's that no one else can write (it is uid ${stat.uid}, mode ${(stat.mode & 0o7777).toString(8)}); ${outcome}`,
  );
}

/** Removes the stored copies the journal names, then the payload folder if nothing else is in it. */
function removeCopies(entry: DirHandle, payload: DirHandle, journal: Journal): void {
  for (const item of journal.items) {
    if (!item.payload) continue;
    try {
      unlinkSync(payload.at(item.payload));
    } catch {
      // already gone
    }
  }
  try {
    rmdirSync(entry.at(PAYLOAD));
  } catch {
    // holds copies no journal line names: they stay, for whoever looks
  }
}

function entryOf(id: string, journal: Journal): QuarantineEntry {
  return {
    id,
    createdAt: journal.begin?.createdAt ?? idToDate(id),
    reason: journal.begin?.reason ?? '',
    status: statusOf(journal),
    root: journal.begin?.root ?? '',
    items: journal.items,
    left: journal.left,
    refused: journal.refused,
    ...(journal.missing ? { problem: journal.missing } : {}),
  };
}

function unreadable(id: string, error: unknown): QuarantineEntry {
  const problem = error instanceof UserError ? error.message.replace(/^quarantine: /, '') : describe(error);
  return {
    id,
    createdAt: idToDate(id),
    reason: '',
    status: 'unreadable',
    root: '',
    items: [],
    left: [],
    refused: [],
    problem,
  };
}

function statusOf(journal: Journal): QuarantineStatus {
  if (journal.missing) return 'tampered';
  if (journal.restored) return 'restored';
  if (journal.items.length === 0) return 'empty';
  if (!journal.ended) return 'incomplete';
  return journal.left.length ? 'partial' : 'complete';
}

function idToDate(id: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : '';
}
