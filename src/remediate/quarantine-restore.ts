/**
 * @module Putting a quarantine entry back: only items whose journal line and stored copy authenticate, only inside
 * the paths that were quarantined, reached from the recorded root by folder handles that never follow a symlink,
 * with owner, then mode (setuid, setgid and sticky bits survive), then times; hard links come back as links.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { UserError } from '../core/errors.js';
import { isInside } from '../core/paths.js';
import { DirHandle, SwappedError } from './dir-handle.js';
import { contentMac, type Journal, type QuarantineItem } from './quarantine-journal.js';
import {
  type Copied,
  decodeCopy,
  hashOpenFile,
  openStoredCopy,
  StoredCopyError,
} from './quarantine-payload.js';
import { describe } from './quarantine-writer.js';

export interface RestoreOptions {
  /** false: check ancestors again before each operation instead of using /proc/self/fd (as where there is none). */
  procFd?: boolean;
  /** Called with each item's path just before it is put back (progress). */
  onItem?: (path: string) => void;
}

export interface RestoreResult {
  restored: number;
  alreadyInPlace: number;
  /** Items not put back, and why; empty when the whole entry is back. */
  refused: { path: string; reason: string }[];
}

/** A reason an item is not restored, said on one line. */
class Refusal extends Error {}

interface Placed {
  item: QuarantineItem;
  parts: Buffer[];
  name: Buffer;
  state: 'absent' | 'in-place' | 'staged';
}

const IS_ROOT = process.getuid?.() === 0;

/** The name an item's file is decoded to beside its path before it is linked in (a later restore removes it). */
export function restoreTempName(id: string, n: number): string {
  return `.chainsweep-restore-${id.slice(-8)}-${n}`;
}

/**
 * Restores the authenticated items of an entry (see the module comment), reading stored copies from the entry's
 * open `payload` folder, onto the very root folder (device and inode) they were taken from.
 */
export function restoreEntry(
  payload: DirHandle | undefined,
  journal: Journal,
  key: Buffer,
  options: RestoreOptions = {},
): RestoreResult {
  const begin = journal.begin;
  if (!begin)
    throw new UserError('PACK_TAMPERED', 'quarantine: the entry does not authenticate; nothing restored');
  const refused = journal.refused.map((r) => ({
    path: r.path ?? `journal line ${r.line}`,
    reason: r.reason,
  }));
  let rootHandle: DirHandle;
  try {
    rootHandle = DirHandle.openRoot(begin.root, options.procFd);
  } catch (error) {
    throw new UserError(
      'USAGE',
      `quarantine: cannot open ${begin.root}, the root of the entry: ${describe(error)}; nothing restored`,
    );
  }
  if (rootHandle.identity.dev !== begin.rootDev || rootHandle.identity.ino !== begin.rootIno) {
    rootHandle.close();
    throw new UserError(
      'USAGE',
      `quarantine: ${begin.root} is not the folder the entry was taken from (another device or inode: is the image mounted there?); nothing restored`,
    );
  }
  const tree = new Tree(rootHandle);
  try {
    const byN = new Map(journal.items.map((item) => [item.n, item]));
    const placed: Placed[] = [];
    // First look, touching nothing: refuse the whole entry when a path is taken by something else.
    for (const item of journal.items) {
      const bytes = item.pathB64 ? Buffer.from(item.pathB64, 'base64') : Buffer.from(item.path);
      const parts = begin.roots.some((r) => isInside(item.path, r))
        ? splitUnder(begin.root, bytes)
        : undefined;
      if (!parts) {
        refused.push({ path: item.path, reason: 'outside what was quarantined' });
        continue;
      }
      const name = parts.pop() as Buffer;
      try {
        const state = tree.stateOf(parts, name, item, byN);
        if (state === 'taken')
          throw new UserError(
            'USAGE',
            `quarantine: cannot restore ${item.path}: something else is there now`,
          );
        placed.push({ item, parts, name, state });
      } catch (error) {
        if (error instanceof UserError) throw error;
        refused.push({ path: item.path, reason: reasonOf(error) });
      }
    }
    // What a restore killed part-way left beside its files goes first.
    for (const p of placed) {
      if (p.item.kind !== 'file') continue;
      const dir = tree.find(p.parts);
      const temp = restoreTempName(begin.id, p.item.n);
      if (dir?.lstat(temp)?.isFile()) unlinkSync(dir.at(temp));
    }
    const dirs = new Set(placed.filter((p) => p.item.kind === 'dir').map((p) => p.item.path));
    const failed = new Set<number>();
    let restored = 0;
    const put = (p: Placed, write: () => void) => {
      try {
        write();
        restored++;
      } catch (error) {
        failed.add(p.item.n);
        refused.push({ path: p.item.path, reason: reasonOf(error) });
      }
    };
    // Folders before what is in them (the journal has them after), hard links once what they name is back.
    for (const p of [...placed].reverse()) {
      if (p.state === 'in-place' || p.item.kind === 'hardlink') continue;
      put(p, () => {
        options.onItem?.(p.item.path);
        // A file's stored copy is checked before anything is written outside the quarantine.
        const copy =
          p.item.kind === 'file' && p.state === 'absent'
            ? verified(payload, p.item, begin.id, key)
            : undefined;
        const dir = tree.ensure(p.parts, dirs);
        if (p.state === 'staged') renameSync(dir.at(p.item.staged ?? ''), dir.at(p.name));
        else if (p.item.kind === 'dir') mkdirSync(dir.at(p.name), 0o700);
        else if (p.item.kind === 'symlink') restoreLink(dir, p.name, p.item);
        else if (copy)
          restoreFile(dir, p.name, p.item, copy, restoreTempName(begin.id, p.item.n), key, begin.id);
      });
    }
    for (const p of placed) {
      if (p.state === 'in-place' || p.item.kind !== 'hardlink') continue;
      put(p, () => {
        options.onItem?.(p.item.path);
        const first = placed.find((f) => f.item.n === p.item.linkTo);
        if (!first || failed.has(first.item.n))
          throw new Refusal('the file it is a link of was not restored');
        const dir = tree.ensure(p.parts, dirs);
        if (p.state === 'staged') renameSync(dir.at(p.item.staged ?? ''), dir.at(p.name));
        else linkSync(tree.ensure(first.parts, dirs).at(first.name), dir.at(p.name));
      });
    }
    // Folder owner, mode and times last (deepest first, as journaled), since filling them changed their times.
    for (const p of placed) {
      if (p.item.kind !== 'dir' || failed.has(p.item.n)) continue;
      const dir = tree.ensure(p.parts, dirs).openDir(p.name);
      try {
        setInode(dir.descriptor(), p.item);
      } finally {
        dir.close();
      }
    }
    return { restored, alreadyInPlace: placed.filter((p) => p.state === 'in-place').length, refused };
  } finally {
    tree.close();
  }
}

/** The folders of the restore, opened from the root by handle and kept open (each reached once, at any depth). */
class Tree {
  private readonly children = new Map<DirHandle, Map<string, DirHandle>>();

  constructor(private readonly root: DirHandle) {}

  /** The folder at `parts`, or undefined when some folder on the way is missing. */
  find(parts: Buffer[]): DirHandle | undefined {
    let dir: DirHandle | undefined = this.root;
    for (const part of parts) {
      dir = this.child(dir, part);
      if (!dir) return undefined;
    }
    return dir;
  }

  /** The folder at `parts`, made when missing (a journaled folder private until its mode is set). */
  ensure(parts: Buffer[], journaled: Set<string>): DirHandle {
    let dir = this.root;
    for (const part of parts) {
      const existing = this.child(dir, part);
      if (existing) dir = existing;
      else {
        mkdirSync(dir.at(part), journaled.has(dir.child(part).toString()) ? 0o700 : 0o755);
        dir = this.child(dir, part) as DirHandle;
      }
    }
    return dir;
  }

  private child(dir: DirHandle, part: Buffer): DirHandle | undefined {
    const known = this.children.get(dir) ?? new Map<string, DirHandle>();
    this.children.set(dir, known);
    const key = part.toString('latin1');
    let sub = known.get(key);
    if (!sub && dir.lstat(part)) {
      sub = dir.openDir(part);
      known.set(key, sub);
    }
    return sub;
  }

  /** Whether the item's path is free, holds it already, is taken, or its staged copy is still beside it. */
  stateOf(
    parts: Buffer[],
    name: Buffer,
    item: QuarantineItem,
    byN: Map<number, QuarantineItem>,
  ): Placed['state'] | 'taken' {
    const dir = this.find(parts);
    if (!dir) return 'absent';
    if (dir.lstat(name)) return holds(dir, name, item, byN) ? 'in-place' : 'taken';
    if (item.staged && dir.lstat(item.staged) && holds(dir, Buffer.from(item.staged), item, byN))
      return 'staged';
    return 'absent';
  }

  close(): void {
    for (const known of this.children.values()) for (const dir of known.values()) dir.close();
    this.root.close();
  }
}

/** True when `name` in `dir` is the item: the same kind, and for links and files the same target or content. */
function holds(
  dir: DirHandle,
  name: Buffer,
  item: QuarantineItem,
  byN: Map<number, QuarantineItem>,
): boolean {
  const stat = dir.lstat(name);
  if (!stat) return false;
  if (item.kind === 'dir') return stat.isDirectory();
  if (item.kind === 'symlink')
    return stat.isSymbolicLink() && readlinkSync(dir.at(name), { encoding: 'buffer' }).equals(targetOf(item));
  if (!stat.isFile()) return false;
  const sha256 = item.kind === 'hardlink' ? byN.get(item.linkTo ?? -1)?.sha256 : item.sha256;
  const fd = dir.openFile(name);
  try {
    return hashOpenFile(fd) === sha256;
  } finally {
    closeSync(fd);
  }
}

function restoreLink(dir: DirHandle, name: Buffer, item: QuarantineItem): void {
  symlinkSync(targetOf(item), dir.at(name));
  if (IS_ROOT) lchownSync(dir.at(name), item.uid, item.gid);
  lutimesSync(dir.at(name), item.atimeMs / 1000, item.mtimeMs / 1000);
}

/** The stored copy of a file item, opened and checked to authenticate before anything of it is written. */
function verified(payload: DirHandle | undefined, item: QuarantineItem, id: string, key: Buffer): StoredCopy {
  if (!payload || !item.payload || !/^\d+(\.\d+)?$/.test(item.payload)) throw new Refusal('no stored copy');
  const expected = { size: item.size ?? -1, sha256: item.sha256 ?? '', mac: item.mac ?? '' };
  const fd = openStoredCopy(payload, item.payload, expected.size);
  try {
    decodeCopy(fd, expected, contentMac(key, id, item.n));
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return { fd, expected };
}

interface StoredCopy {
  fd: number;
  expected: Copied;
}

/**
 * Decodes the checked stored copy into `temp` beside the item's path, checks again what was written, sets owner,
 * mode and times, then links it in; on any failure (a full disk) the temporary file is removed.
 */
function restoreFile(
  dir: DirHandle,
  name: Buffer,
  item: QuarantineItem,
  copy: StoredCopy,
  temp: string,
  key: Buffer,
  id: string,
): void {
  let fd: number;
  try {
    fd = dir.openFile(temp, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    closeSync(copy.fd);
    throw error;
  }
  try {
    decodeCopy(copy.fd, copy.expected, contentMac(key, id, item.n), fd);
    setInode(fd, item);
  } catch (error) {
    closeSync(fd);
    unlinkSync(dir.at(temp));
    throw error;
  } finally {
    closeSync(copy.fd);
  }
  closeSync(fd);
  try {
    linkSync(dir.at(temp), dir.at(name)); // never replaces what appeared there meanwhile
    unlinkSync(dir.at(temp));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || dir.lstat(name)) {
      unlinkSync(dir.at(temp));
      throw error;
    }
    renameSync(dir.at(temp), dir.at(name)); // a filesystem without hard links
  }
}

/** Owner first (a chown clears setuid and setgid), then the exact mode, then times. */
function setInode(fd: number, item: QuarantineItem): void {
  if (IS_ROOT) fchownSync(fd, item.uid, item.gid);
  fchmodSync(fd, item.mode & 0o7777);
  futimesSync(fd, item.atimeMs / 1000, item.mtimeMs / 1000);
}

function targetOf(item: QuarantineItem): Buffer {
  return item.targetB64 ? Buffer.from(item.targetB64, 'base64') : Buffer.from(item.target ?? '');
}

/** The names from `root` down to `path`, or undefined when it is not below the root or not a plain path. */
function splitUnder(root: string, path: Buffer): Buffer[] | undefined {
  const prefix = Buffer.from(root.endsWith('/') ? root : `${root}/`);
  if (!path.subarray(0, prefix.length).equals(prefix)) return undefined;
  const parts: Buffer[] = [];
  let rest = path.subarray(prefix.length);
  while (rest.length) {
    const slash = rest.indexOf(0x2f);
    const part = slash < 0 ? rest : rest.subarray(0, slash);
    if (part.length === 0 || part.equals(Buffer.from('.')) || part.equals(Buffer.from('..')))
      return undefined;
    parts.push(part);
    rest = slash < 0 ? Buffer.alloc(0) : rest.subarray(slash + 1);
  }
  return parts.length ? parts : undefined;
}

function reasonOf(error: unknown): string {
  if (error instanceof Refusal || error instanceof StoredCopyError) return error.message;
  if (error instanceof SwappedError) return `${error.path.toString()} ${error.reason}`;
  return describe(error);
}
