import { isUtf8 } from 'node:buffer';
import { closeSync, type Dir, type Dirent, lstatSync, opendirSync, type Stats, statSync } from 'node:fs';
import { sep } from 'node:path';
import { fsPath, type HostPath, joinPath, pathText } from '../core/paths.js';
import { belowHandle, fitsDirectly, openFolderHandle, THROUGH_HANDLES } from './long-path.js';
import type { MountSkips } from './mounts.js';

/** Why the walk passed over a path without reading it. */
export type WalkSkip =
  | 'excluded'
  | 'symlink'
  | 'special'
  | 'other-filesystem'
  | 'pseudo-filesystem'
  | 'network-filesystem'
  | 'loop'
  | 'vanished';

export interface WalkOptions {
  /**
   * Skip paths for which this returns true (folders are not entered); 'silent' skips without an excluded count.
   * It sees the path as text (bytes that are not UTF-8 read as U+FFFD).
   */
  isExcluded: (path: string) => boolean | 'silent';
  crossFilesystems: boolean;
  mountSkips: MountSkips;
  signal?: AbortSignal;
  onSkip: (reason: WalkSkip, path: HostPath) => void;
  onUnreadableDir: (path: HostPath, message: string) => void;
}

/**
 * An open handle of a deep folder; the folders below it are reached through it (`/proc/self/fd/N/name`), so the
 * kernel never resolves more than a few hundred bytes of path. Closed once no folder still to visit needs it.
 */
interface Anchor {
  fd: number;
  refs: number;
}

/**
 * A folder still to visit. Its whole path is kept while the kernel takes it whole (as it almost always does);
 * below that, only on every KEEP_EVERY-th level, and the others rebuild it from their parents: so the memory of
 * a deep tree does not grow with the square of its depth, nor the time to rebuild paths.
 */
interface PendingDir {
  parent: PendingDir | undefined;
  name: HostPath;
  path: HostPath | undefined;
  /** Levels up to the nearest folder that keeps its path (0: this one). */
  hops: number;
  device: number;
  /** Deep folders: the handle of an ancestor, and the path from there. */
  via?: Anchor;
  rel?: HostPath;
}

/** How far below its anchor a folder may lie before it needs an anchor of its own. */
const REL_LIMIT = 256;
const KEEP_EVERY = 64;
const SEP = Buffer.from(sep);

/**
 * Yields every regular file under `root`, depth first, holding only the folders still to visit: a root that is a
 * symlink is followed (as `find -H`), nothing below it is; it never opens special files, stays on the root's
 * filesystem unless told otherwise, and skips pseudo and network mounts below the root. Names are read as bytes,
 * so a path with a name that is not UTF-8 is yielded as a `Buffer`. Depth is unlimited: deep folders are reached
 * through handles of their ancestors, and yielded files are opened with `reachable`. Directory reads are
 * synchronous (the calling thread only walks and hands out work) and streamed, so a folder of a million entries
 * is never held in memory.
 */
export function* walkFiles(root: string, options: WalkOptions): Generator<HostPath> {
  const rootStat = statSync(root);
  if (!rootStat.isDirectory()) {
    if (rootStat.isFile()) yield root;
    else options.onSkip('special', root);
    return;
  }
  const seen = new Set<string>([`${rootStat.dev}:${rootStat.ino}`]);
  const pending: PendingDir[] = [
    { parent: undefined, name: root, path: root, hops: 0, device: rootStat.dev },
  ];
  const anchors = new Set<Anchor>();
  const release = (anchor: Anchor | undefined) => {
    if (anchor && --anchor.refs === 0) {
      anchors.delete(anchor);
      closeSync(anchor.fd);
    }
  };

  try {
    for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
      if (options.signal?.aborted) return;
      const dirPath = dir.path ?? pathOf(dir);
      const dirAccess = accessOf(dir);
      const handle = openDir(dirAccess, dirPath, options);
      if (!handle) {
        release(dir.via);
        continue;
      }
      /** This folder's own anchor, opened when a child is too deep to reach otherwise. */
      let own: Anchor | undefined;
      /** A subfolder (or an entry of unknown type) as a folder to visit: deep ones are reached by an anchor. */
      const childOf = (name: HostPath, path: HostPath): PendingDir => {
        if (!THROUGH_HANDLES || fitsDirectly(path)) return { parent: dir, name, path, hops: 0, device: 0 };
        const hops = dir.hops + 1 < KEEP_EVERY ? dir.hops + 1 : 0;
        const child = { parent: dir, name, path: hops ? undefined : path, hops, device: 0 };
        const rel = dir.via && dir.rel !== undefined ? joinPath(dir.rel, name) : undefined;
        if (dir.via && rel !== undefined && rel.length <= REL_LIMIT) return { ...child, via: dir.via, rel };
        if (!own) {
          own = { fd: openFolderHandle(dirAccess), refs: 1 };
          anchors.add(own);
        }
        return { ...child, via: own, rel: name };
      };
      const subdirs: PendingDir[] = [];
      try {
        for (let entry = handle.readSync(); entry !== null; entry = handle.readSync()) {
          const name = nameOf(entry.name as unknown as Buffer); // the listing was opened with encoding 'buffer'
          const path = joinPath(dirPath, name);
          const excluded = options.isExcluded(pathText(path));
          if (excluded) {
            if (excluded !== 'silent') options.onSkip('excluded', path);
            continue;
          }
          let kind = listedKind(entry);
          if (kind === 'file') {
            yield path;
            continue;
          }
          if (kind === 'dir' || kind === undefined) {
            const child = childOf(name, path);
            kind ??= statKind(accessOf(child));
            if (kind === 'dir') {
              if (child.via) child.via.refs++;
              subdirs.push(child);
              continue;
            }
          }
          if (kind === 'file') yield path;
          else if (kind === 'gone') options.onSkip('vanished', path);
          else if (kind === 'unreadable') options.onUnreadableDir(path, 'could not tell what it is');
          else options.onSkip(kind, path);
        }
      } catch (error) {
        options.onUnreadableDir(
          dirPath,
          `listing stopped: ${(error as NodeJS.ErrnoException).code ?? error}`,
        );
      } finally {
        handle.closeSync();
      }
      for (const subdir of subdirs.reverse()) {
        if (enterable(subdir, dirPath, dir.device, seen, options)) pending.push(subdir);
        else release(subdir.via);
      }
      release(own);
      release(dir.via);
    }
  } finally {
    for (const anchor of anchors) closeSync(anchor.fd);
  }
}

/** The path the kernel is given for a folder: its own, or one below its anchor. */
function accessOf(dir: PendingDir): string | Buffer {
  if (dir.via && dir.rel !== undefined) return belowHandle(dir.via.fd, dir.rel);
  return fsPath(dir.path ?? pathOf(dir));
}

/** A name as text when it is valid UTF-8 (almost always), else its bytes. */
function nameOf(raw: Buffer): HostPath {
  const text = raw.toString('utf8');
  return text.includes('\ufffd') && !isUtf8(raw) ? raw : text;
}

/** The whole path of a deep folder, from the nearest ancestor that kept its own. */
function pathOf(dir: PendingDir): HostPath {
  const names: HostPath[] = [];
  let at: PendingDir | undefined = dir;
  for (; at && at.path === undefined; at = at.parent) names.push(at.name);
  names.push(at?.path ?? '');
  names.reverse();
  if (names.every((n) => typeof n === 'string')) return names.join(sep);
  return Buffer.concat(names.flatMap((n, i) => [...(i ? [SEP] : []), Buffer.from(n)]));
}

function openDir(access: string | Buffer, path: HostPath, options: WalkOptions): Dir | undefined {
  try {
    // Node takes 'buffer' here (names as their bytes), though its types only list text encodings.
    return opendirSync(access, { bufferSize: 256, encoding: 'buffer' as BufferEncoding });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') options.onSkip('vanished', path);
    else
      options.onUnreadableDir(
        path,
        code === 'EACCES' || code === 'EPERM' ? 'permission denied' : String(code),
      );
    return undefined;
  }
}

/** Checks a subfolder before it is queued (mount, type, filesystem, loop); records why when it is not. */
function enterable(
  dir: PendingDir,
  parentPath: HostPath,
  parentDevice: number,
  seen: Set<string>,
  options: WalkOptions,
): boolean {
  const path = dir.path ?? joinPath(parentPath, dir.name);
  const mountSkip = typeof path === 'string' ? options.mountSkips.get(path) : undefined;
  if (mountSkip) {
    options.onSkip(mountSkip, path);
    return false;
  }
  const stat = lstatOf(accessOf(dir));
  if (stat === 'gone') {
    options.onSkip('vanished', path);
    return false;
  }
  if (typeof stat === 'string') {
    options.onUnreadableDir(path, stat);
    return false;
  }
  if (!stat.isDirectory()) {
    options.onSkip(stat.isSymbolicLink() ? 'symlink' : 'special', path);
    return false;
  }
  if (stat.dev !== parentDevice && !options.crossFilesystems) {
    options.onSkip('other-filesystem', path);
    return false;
  }
  const identity = `${stat.dev}:${stat.ino}`;
  if (seen.has(identity)) {
    options.onSkip('loop', path);
    return false;
  }
  seen.add(identity);
  dir.device = stat.dev;
  return true;
}

type EntryKind = 'file' | 'dir' | 'symlink' | 'special' | 'gone' | 'unreadable';

/** The entry's type from the directory listing; undefined where the filesystem does not report types. */
function listedKind(entry: Dirent): EntryKind | undefined {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'dir';
  if (entry.isSymbolicLink()) return 'symlink';
  if (entry.isFIFO() || entry.isSocket() || entry.isCharacterDevice() || entry.isBlockDevice())
    return 'special';
  return undefined;
}

/** The type by lstat, for filesystems that do not report types in listings. */
function statKind(access: string | Buffer): EntryKind {
  const stat = lstatOf(access);
  if (stat === 'gone') return 'gone';
  if (typeof stat === 'string') return 'unreadable';
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  return stat.isSymbolicLink() ? 'symlink' : 'special';
}

/** lstat that tells a path gone (`'gone'`) from one that could not be examined (the error code). */
function lstatOf(access: string | Buffer): Stats | string {
  try {
    return lstatSync(access);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'gone' : String(code ?? error);
  }
}
