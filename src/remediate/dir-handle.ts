/**
 * @module Folders held open by handle, so that removing or restoring under them never re-resolves a path string
 * an attacker can swap for a symlink. On Linux an open folder is reached again through /proc/self/fd/N, which the
 * kernel resolves to the opened folder itself (openat semantics); elsewhere every ancestor's device and inode are
 * checked again, with lstat, right before each operation (a narrower window, not none).
 */
import { type BigIntStats, closeSync, constants, fstatSync, lstatSync, openSync, readdirSync } from 'node:fs';

/** Device and inode of a file or folder, exactly (as decimal strings: inode numbers may exceed 2^53). */
export interface Identity {
  dev: string;
  ino: string;
}

/** The identity of what `path` names (not following a final symlink), or undefined when there is nothing. */
export function identify(path: string): Identity | undefined {
  const stat = lstatSync(path, { bigint: true, throwIfNoEntry: false });
  return stat ? identityOf(stat) : undefined;
}

export function identityOf(stat: BigIntStats): Identity {
  return { dev: String(stat.dev), ino: String(stat.ino) };
}

export function sameIdentity(stat: BigIntStats | undefined, id: Identity): boolean {
  return stat !== undefined && String(stat.dev) === id.dev && String(stat.ino) === id.ino;
}

/** What a path holds, in words, for messages. */
export function kindOf(stat: BigIntStats | undefined): string {
  if (!stat) return 'nothing';
  if (stat.isSymbolicLink()) return 'a symlink';
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFile()) return 'a file';
  return 'a special file';
}

/** A path was not, at the moment of use, the file or folder that had been verified. */
export class SwappedError extends Error {
  constructor(
    readonly path: Buffer,
    readonly reason: string,
  ) {
    super(`${path.toString()}: ${reason}`);
    this.name = 'SwappedError';
  }
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | (constants.O_NOFOLLOW ?? 0);
/** Opening never follows a final symlink, never blocks on a FIFO, never takes a terminal. */
const FILE_FLAGS = (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

let procFdWorks: boolean | undefined;

/** True when /proc/self/fd/N reaches the open folder itself (Linux with /proc mounted). */
export function hasProcFd(): boolean {
  if (procFdWorks === undefined) {
    procFdWorks = false;
    try {
      const fd = openSync('/', DIR_FLAGS);
      try {
        procFdWorks = sameIdentity(
          lstatSync(`/proc/self/fd/${fd}/.`, { bigint: true }),
          identityOf(fstatSync(fd, { bigint: true })),
        );
      } finally {
        closeSync(fd);
      }
    } catch {
      // no /proc: the ancestor checks are used instead
    }
  }
  return procFdWorks;
}

/** An open folder, verified by device and inode; names inside it are operated on through `at`. */
export class DirHandle {
  private constructor(
    /** The folder's path, as bytes, for messages and the fallback. */
    readonly path: Buffer,
    private readonly fd: number,
    readonly identity: Identity,
    /** This folder and its ancestors up to the root, checked before each operation when /proc is not used. */
    private readonly chain: { path: Buffer; identity: Identity }[],
    private readonly procFd: boolean,
  ) {}

  /** Opens the root of the work (following it if it is a symlink, as a root named by the user is). */
  static openRoot(path: string | Buffer, procFd = hasProcFd()): DirHandle {
    const bytes = Buffer.from(path);
    const fd = openSync(bytes, constants.O_RDONLY | constants.O_DIRECTORY);
    const identity = identityOf(fstatSync(fd, { bigint: true }));
    return new DirHandle(bytes, fd, identity, [{ path: bytes, identity }], procFd);
  }

  /** The open descriptor, for operations on the folder itself (fchmod, futimes). */
  descriptor(): number {
    return this.fd;
  }

  /** The path through which to operate on `name` (one component) inside this folder. */
  at(name: Buffer | string): Buffer {
    if (this.procFd) return Buffer.concat([Buffer.from(`/proc/self/fd/${this.fd}/`), Buffer.from(name)]);
    for (const link of this.chain) {
      if (!sameIdentity(lstatSync(link.path, { bigint: true, throwIfNoEntry: false }), link.identity))
        throw new SwappedError(link.path, 'replaced while it was being worked on; not followed');
    }
    return Buffer.concat([this.path, Buffer.from('/'), Buffer.from(name)]);
  }

  /** The full path of `name` inside this folder, for the journal and messages. */
  child(name: Buffer | string): Buffer {
    return Buffer.concat([this.path, Buffer.from(this.path.at(-1) === 0x2f ? '' : '/'), Buffer.from(name)]);
  }

  lstat(name: Buffer | string): BigIntStats | undefined {
    return lstatSync(this.at(name), { bigint: true, throwIfNoEntry: false });
  }

  /** Names in this folder, as bytes (any bytes a file name may hold). */
  names(): Buffer[] {
    const self = this.procFd ? Buffer.from(`/proc/self/fd/${this.fd}`) : this.at('.');
    return readdirSync(self, { encoding: 'buffer' });
  }

  /**
   * Opens the folder `name` without following a symlink; when `expected` is given (else: what lstat sees now) it
   * must be that very folder, or SwappedError is thrown.
   */
  openDir(name: Buffer | string, expected?: Identity): DirHandle {
    const want = expected ?? identityOrSwapped(this.lstat(name), this.child(name));
    let fd: number;
    try {
      fd = openSync(this.at(name), DIR_FLAGS);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP' || code === 'ENOTDIR')
        throw new SwappedError(
          this.child(name),
          `replaced while it was being worked on (now ${kindOf(this.lstat(name))}); not followed`,
        );
      throw error;
    }
    const identity = identityOf(fstatSync(fd, { bigint: true }));
    if (identity.dev !== want.dev || identity.ino !== want.ino) {
      closeSync(fd);
      throw new SwappedError(this.child(name), 'replaced while it was being worked on; not followed');
    }
    const path = this.child(name);
    return new DirHandle(path, fd, identity, [...this.chain, { path, identity }], this.procFd);
  }

  /** Opens the regular file `name` (read-only unless `flags` say otherwise), never following a symlink. */
  openFile(name: Buffer | string, flags: number = constants.O_RDONLY, mode?: number): number {
    return openSync(this.at(name), flags | FILE_FLAGS, mode);
  }

  close(): void {
    closeSync(this.fd);
  }
}

function identityOrSwapped(stat: BigIntStats | undefined, path: Buffer): Identity {
  if (!stat) throw new SwappedError(path, 'vanished while it was being worked on');
  return identityOf(stat);
}
