/**
 * @module Moving planned paths into a quarantine entry without following anything an attacker swaps in: every
 * folder is walked by open handle (see dir-handle.ts), and every file is copied, journaled, renamed out of its
 * path in one atomic step, and checked again on its open descriptor after the unlink, so what an app wrote to
 * it meanwhile is stored too.
 */
import { randomBytes } from 'node:crypto';
import {
  type BigIntStats,
  closeSync,
  fstatSync,
  linkSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  unlinkSync,
} from 'node:fs';
import { relative, sep } from 'node:path';
import { isInside } from '../core/paths.js';
import {
  type DirHandle,
  type Identity,
  identityOf,
  kindOf,
  SwappedError,
  sameIdentity,
} from './dir-handle.js';
import {
  contentMac,
  type JournalRecord,
  type JournalWriter,
  type QuarantineItem,
} from './quarantine-journal.js';
import { type Copied, hashOpenFile, storeCopy } from './quarantine-payload.js';

/** A path the plan names, with the device and inode it had when the plan was made. */
export interface PlannedPath {
  path: string;
  dev?: string;
  ino?: string;
}

/** Something the run could not move, or a remark on something it did. */
export interface Remark {
  path: string;
  message: string;
}

export interface WriterOptions {
  /** false: check ancestors again before each operation instead of using /proc/self/fd (as where there is none). */
  procFd?: boolean;
  /** Called with each path just before it is taken (progress). */
  onEntry?: (path: string) => void;
}

/** How often a file still being written to is copied again before its last copy is kept. */
const MAX_RECOPIES = 5;

/** Moves paths of one entry into quarantine. */
export class QuarantineWriter {
  private next = 0;
  private readonly moved = new Map<number, QuarantineItem>();
  private readonly stagePrefix = `.chainsweep-${randomBytes(4).toString('hex')}-`;
  /** Files with more than one name, by device:inode: the item that stored the content, and names still to come. */
  private readonly links = new Map<string, { n: number; sha256: string; others: number }>();
  /** Paths left in place (special files, what could not be moved, and the folders that therefore stay). */
  readonly leftInPlace: Remark[] = [];
  /** Files that were still being written to as they were removed. */
  readonly notes: Remark[] = [];
  /** Why the journal could not be written, once it could not: the run then moves nothing more. */
  journalError: string | undefined;

  constructor(
    readonly id: string,
    /** The entry's payload folder, held open: stored copies go through it, never through a path. */
    private readonly payloadDir: DirHandle,
    private readonly key: Buffer,
    private readonly journal: JournalWriter,
    private readonly root: string,
    private readonly rootHandle: DirHandle,
    private readonly options: WriterOptions = {},
  ) {}

  /** What has been moved so far. */
  get items(): QuarantineItem[] {
    return [...this.moved.values()];
  }

  /**
   * Quarantines a planned path (a file, a symlink, or a folder with everything in it), reached from the root folder
   * by folder handles, never following a symlink. A path that is not what the plan saw is left alone. Returns false
   * when something was left in place (see `leftInPlace`); never throws for what it finds on disk.
   */
  add(planned: PlannedPath): boolean {
    const path = Buffer.from(planned.path);
    const parts = relative(this.root, planned.path).split(sep).filter(Boolean);
    if (!isInside(planned.path, this.root) || parts.length === 0)
      return this.leave(path, 'not inside the root; not touched');
    const opened: DirHandle[] = [];
    try {
      let parent = this.rootHandle;
      for (const part of parts.slice(0, -1)) {
        parent = parent.openDir(part);
        opened.push(parent);
      }
      const name = parts.at(-1) ?? '';
      const stat = parent.lstat(name);
      if (!stat) return this.leave(path, 'no longer exists');
      if (planned.dev !== undefined && planned.ino !== undefined && !sameIdentity(stat, planned as Identity))
        return this.leave(
          path,
          `not what the plan saw (now ${kindOf(stat)} with another inode); not touched`,
        );
      return this.take(parent, Buffer.from(name), stat);
    } catch (error) {
      return error instanceof SwappedError
        ? this.leave(error.path, error.reason)
        : this.leave(path, describe(error));
    } finally {
      for (const handle of opened) handle.close();
    }
  }

  /** Records the end of the run; returns the status it leaves the entry in. */
  finish(): 'complete' | 'partial' | 'incomplete' | 'empty' {
    this.tryAppend({ t: 'end', lines: this.journal.count });
    this.journal.close();
    this.payloadDir.close();
    this.rootHandle.close();
    if (this.moved.size === 0) return 'empty';
    if (this.journalError) return 'incomplete';
    return this.leftInPlace.length ? 'partial' : 'complete';
  }

  /** Takes one path; a folder is walked with an explicit stack, so that depth does not matter. */
  private take(dir: DirHandle, name: Buffer, stat: BigIntStats): boolean {
    if (!stat.isDirectory()) return this.takeOne(dir, name, stat);
    const stack: Folder[] = [];
    const enter = (parent: DirHandle, child: Buffer, childStat: BigIntStats): boolean => {
      const path = parent.child(child);
      try {
        this.options.onEntry?.(path.toString());
        const sub = parent.openDir(child, identityOf(childStat));
        try {
          stack.push({
            parent,
            name: child,
            path,
            stat: childStat,
            sub,
            names: sub.names(),
            next: 0,
            all: true,
          });
        } catch (error) {
          sub.close();
          throw error;
        }
        return true;
      } catch (error) {
        return this.failed(path, error);
      }
    };
    if (!enter(dir, name, stat)) return false;
    let result = true;
    try {
      while (stack.length) {
        const top = stack.at(-1) as Folder;
        const child = top.names[top.next++];
        if (child) {
          let childStat: BigIntStats | undefined;
          try {
            childStat = top.sub.lstat(child);
          } catch (error) {
            top.all = this.failed(top.sub.child(child), error) && top.all;
          }
          if (childStat?.isDirectory()) {
            if (!enter(top.sub, child, childStat)) top.all = false;
          } else if (childStat) top.all = this.takeOne(top.sub, child, childStat) && top.all;
          continue;
        }
        stack.pop();
        top.sub.close();
        let done: boolean;
        try {
          done = this.removeDir(top);
        } catch (error) {
          done = this.failed(top.path, error);
        }
        const parent = stack.at(-1);
        if (parent) parent.all = done && parent.all;
        else result = done;
      }
    } finally {
      for (const folder of stack) folder.sub.close();
    }
    return result;
  }

  /** Takes a file or symlink (anything else is left, named). */
  private takeOne(dir: DirHandle, name: Buffer, stat: BigIntStats): boolean {
    const path = dir.child(name);
    try {
      this.options.onEntry?.(path.toString());
      if (stat.isSymbolicLink()) return this.takeLink(dir, name, path, stat);
      if (stat.isFile()) return this.takeFile(dir, name, path, stat);
      return this.leave(path, 'not a regular file, folder or symlink');
    } catch (error) {
      return this.failed(path, error);
    }
  }

  private failed(path: Buffer, error: unknown): false {
    return error instanceof SwappedError
      ? this.leave(error.path, error.reason)
      : this.leave(path, describe(error));
  }

  /** Removes a folder whose content was taken, if all of it was and it is still the folder that was walked. */
  private removeDir({ parent: dir, name, path, stat, sub, all }: Folder): boolean {
    if (!all) return this.leave(path, 'folder kept: something inside it was left in place');
    const now = dir.lstat(name);
    if (!sameIdentity(now, sub.identity))
      return this.leave(path, `replaced while it was being removed (now ${kindOf(now)}); not followed`);
    const n = this.record({ ...meta(path, stat), kind: 'dir' });
    try {
      rmdirSync(dir.at(name));
    } catch (error) {
      this.cancel(n);
      const code = (error as NodeJS.ErrnoException).code;
      return this.leave(
        path,
        code === 'ENOTEMPTY' || code === 'EEXIST'
          ? 'folder kept: something was added to it while it was being removed'
          : describe(error),
      );
    }
    return true;
  }

  private takeLink(dir: DirHandle, name: Buffer, path: Buffer, stat: BigIntStats): boolean {
    const target = readlinkSync(dir.at(name), { encoding: 'buffer' });
    const n = this.record({
      ...meta(path, stat),
      kind: 'symlink',
      target: target.toString(),
      ...(isUtf8(target) ? {} : { targetB64: target.toString('base64') }),
      staged: this.staged(this.next),
    });
    return this.stage(dir, name, path, stat, n) && this.unlinkStaged(dir, name, n, path, stat);
  }

  private takeFile(dir: DirHandle, name: Buffer, path: Buffer, stat: BigIntStats): boolean {
    const fd = dir.openFile(name);
    try {
      const opened = fstatSync(fd, { bigint: true });
      if (!opened.isFile() || !sameIdentity(opened, identityOf(stat)))
        throw new SwappedError(path, 'replaced while it was being removed; not followed');
      const inode = `${opened.dev}:${opened.ino}`;
      const first = this.links.get(inode);
      if (first && hashOpenFile(fd) === first.sha256) {
        if (--first.others === 0) this.links.delete(inode);
        const n = this.record({
          ...meta(path, opened),
          kind: 'hardlink',
          linkTo: first.n,
          staged: this.staged(this.next),
        });
        return this.stage(dir, name, path, opened, n) && this.unlinkStaged(dir, name, n, path, opened);
      }
      // The number is taken now, so a copy that fails (a full disk) never leaves its number to the next file.
      const n = this.next++;
      const payload = String(n);
      let copy = storeCopy(fd, this.payloadDir, payload, contentMac(this.key, this.id, n));
      this.record({ ...meta(path, opened), kind: 'file', ...copy, payload, staged: this.staged(n) }, n);
      if (!this.stage(dir, name, path, opened, n)) return false;
      // Out of its path now: whatever was written to it until this moment must be in the stored copy.
      copy = this.settle(fd, n, copy, path, false);
      if (!this.unlinkStaged(dir, name, n, path, opened)) return false;
      try {
        copy = this.settle(fd, n, copy, path, true);
      } catch (error) {
        // Out of its folder already: say that the stored copy may be older than its last write.
        this.notes.push({
          path: path.toString(),
          message: `changed as it was removed and could not be copied again (${describe(error)}); the quarantine holds an earlier copy`,
        });
      }
      if (opened.nlink > 1n)
        this.links.set(inode, { n, sha256: copy.sha256, others: Number(opened.nlink) - 1 });
      return true;
    } finally {
      closeSync(fd);
    }
  }

  /** Copies the file again, as a journaled update, until its content stays what was stored. */
  private settle(fd: number, n: number, copy: Copied, path: Buffer, last: boolean): Copied {
    let current = copy;
    for (let tries = 1; tries <= MAX_RECOPIES; tries++) {
      if (hashOpenFile(fd) === current.sha256) return current;
      const item = this.moved.get(n);
      const stat = fstatSync(fd, { bigint: true });
      const payload = `${n}.${Number(item?.payload?.split('.')[1] ?? 0) + 1}`;
      current = storeCopy(fd, this.payloadDir, payload, contentMac(this.key, this.id, n));
      const times = meta(path, stat);
      const update = {
        n,
        ...current,
        payload,
        mode: times.mode,
        atimeMs: times.atimeMs,
        mtimeMs: times.mtimeMs,
      };
      this.journal.append({ t: 'update', ...update });
      if (item?.payload) this.removeCopy(item.payload);
      if (item) this.moved.set(n, { ...item, ...update });
    }
    if (last && hashOpenFile(fd) !== current.sha256)
      this.notes.push({
        path: path.toString(),
        message: 'was still being written to as it was removed; the quarantine holds its last copy',
      });
    return current;
  }

  /** Renames `name` to the item's staged name in the same folder and checks it is what was recorded. */
  private stage(dir: DirHandle, name: Buffer, path: Buffer, expected: BigIntStats, n: number): boolean {
    const staged = this.staged(n);
    try {
      renameSync(dir.at(name), dir.at(staged));
    } catch (error) {
      this.cancel(n);
      return this.leave(path, describe(error));
    }
    if (sameIdentity(dir.lstat(staged), identityOf(expected))) return true;
    const where = this.putBack(dir, staged, name);
    this.cancel(n);
    return this.leave(path, `replaced while it was being removed; left in place${where}`);
  }

  private unlinkStaged(
    dir: DirHandle,
    name: Buffer,
    n: number,
    path: Buffer,
    expected: BigIntStats,
  ): boolean {
    const staged = this.staged(n);
    if (!sameIdentity(dir.lstat(staged), identityOf(expected))) {
      // Something was renamed over the staged name: what was recorded is out of its folder; the newcomer stays.
      this.notes.push({
        path: path.toString(),
        message: `something else took its staged name ${staged}; left there`,
      });
      return true;
    }
    try {
      unlinkSync(dir.at(staged));
      return true;
    } catch (error) {
      const where = this.putBack(dir, staged, name);
      this.cancel(n);
      return this.leave(path, `${describe(error)}${where}`);
    }
  }

  /** Puts a staged name back where it was, never replacing anything; says where it is when it cannot. */
  private putBack(dir: DirHandle, staged: string, name: Buffer): string {
    try {
      linkSync(dir.at(staged), dir.at(name));
      unlinkSync(dir.at(staged));
      return '';
    } catch {
      try {
        if (!dir.lstat(name)) {
          renameSync(dir.at(staged), dir.at(name));
          return '';
        }
      } catch {
        // stays under its staged name, said below
      }
    }
    return ` (as ${staged} in its folder)`;
  }

  private staged(n: number): string {
    return `${this.stagePrefix}${n}`;
  }

  private removeCopy(payload: string): void {
    try {
      unlinkSync(this.payloadDir.at(payload));
    } catch {
      // gone already; an unjournaled copy is never restored
    }
  }

  /** Journals an item, numbered `n` when its number was taken before (see takeFile). */
  private record(item: Omit<QuarantineItem, 't' | 'n'>, n = this.next++): number {
    const record: QuarantineItem = { t: 'item', n, ...item };
    try {
      if (this.journalError)
        throw new Error(`the journal cannot be written (${this.journalError}); not moved`);
      this.journal.append(record);
    } catch (error) {
      if (item.payload) this.removeCopy(item.payload);
      this.journalError ??= describe(error);
      throw error;
    }
    this.moved.set(n, record);
    return n;
  }

  /** Journals what did not happen; when the journal cannot be written, nothing more is moved (see `record`). */
  private tryAppend(record: JournalRecord): void {
    try {
      this.journal.append(record);
    } catch (error) {
      this.journalError ??= describe(error);
    }
  }

  private cancel(n: number): void {
    this.tryAppend({ t: 'cancel', n });
    const item = this.moved.get(n);
    if (item?.payload) this.removeCopy(item.payload);
    this.moved.delete(n);
  }

  private leave(path: Buffer, message: string): false {
    this.tryAppend({ t: 'left', path: path.toString(), message });
    this.leftInPlace.push({ path: path.toString(), message });
    return false;
  }
}

/** A folder being walked: where it is, its open handle, the names in it and how far the walk got. */
interface Folder {
  parent: DirHandle;
  name: Buffer;
  path: Buffer;
  stat: BigIntStats;
  sub: DirHandle;
  names: Buffer[];
  next: number;
  all: boolean;
}

function isUtf8(bytes: Buffer): boolean {
  return Buffer.from(bytes.toString()).equals(bytes);
}

function meta(path: Buffer, stat: BigIntStats) {
  return {
    path: path.toString(),
    ...(isUtf8(path) ? {} : { pathB64: path.toString('base64') }),
    mode: Number(stat.mode),
    uid: Number(stat.uid),
    gid: Number(stat.gid),
    atimeMs: Number(stat.atimeNs) / 1e6,
    mtimeMs: Number(stat.mtimeNs) / 1e6,
  };
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  EBUSY: 'in use',
  ENOENT: 'vanished while it was being removed',
  ENOSPC: 'no space left on the device',
  EIO: 'input/output error',
  ELOOP: 'replaced by a symlink while it was being removed; not followed',
  ENOTDIR: 'replaced while it was being removed; not followed',
};

/** One line for an error met on disk. */
export function describe(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  return (code && REASONS[code]) ?? (code ? `${code} (${message.split(',')[0]})` : String(message ?? error));
}
