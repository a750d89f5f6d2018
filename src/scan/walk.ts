import { type Dir, type Dirent, lstatSync, opendirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
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
  /** Skip paths for which this returns true (folders are not entered); 'silent' skips without an excluded count. */
  isExcluded: (path: string) => boolean | 'silent';
  crossFilesystems: boolean;
  mountSkips: MountSkips;
  signal?: AbortSignal;
  onSkip: (reason: WalkSkip, path: string) => void;
  onUnreadableDir: (path: string, message: string) => void;
}

interface PendingDir {
  path: string;
  device: number;
}

/**
 * Yields every regular file under `root`, depth first, holding only the folders still to visit: it never follows
 * symlinks, never opens special files, stays on the root's filesystem unless told otherwise, and skips pseudo and
 * network mounts below the root. Directory reads are synchronous (the calling thread only walks and hands out
 * work) and streamed, so a folder of a million entries is never held in memory.
 */
export function* walkFiles(root: string, options: WalkOptions): Generator<string> {
  const rootStat = lstatSync(root);
  if (!rootStat.isDirectory()) {
    if (rootStat.isFile()) yield root;
    else options.onSkip(rootStat.isSymbolicLink() ? 'symlink' : 'special', root);
    return;
  }
  const seen = new Set<string>([`${rootStat.dev}:${rootStat.ino}`]);
  const pending: PendingDir[] = [{ path: root, device: rootStat.dev }];

  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    if (options.signal?.aborted) return;
    const handle = openDir(dir.path, options);
    if (!handle) continue;
    const subdirs: string[] = [];
    try {
      for (let entry = handle.readSync(); entry !== null; entry = handle.readSync()) {
        const path = join(dir.path, entry.name);
        const excluded = options.isExcluded(path);
        if (excluded) {
          if (excluded !== 'silent') options.onSkip('excluded', path);
          continue;
        }
        const kind = kindOf(entry, path);
        if (kind === 'file') yield path;
        else if (kind === 'dir') subdirs.push(path);
        else if (kind === 'gone') options.onSkip('vanished', path);
        else options.onSkip(kind, path);
      }
    } catch (error) {
      options.onUnreadableDir(dir.path, `listing stopped: ${(error as NodeJS.ErrnoException).code ?? error}`);
    } finally {
      handle.closeSync();
    }
    for (const path of subdirs.reverse()) {
      const next = enterable(path, dir.device, seen, options);
      if (next) pending.push(next);
    }
  }
}

function openDir(path: string, options: WalkOptions): Dir | undefined {
  try {
    return opendirSync(path, { bufferSize: 256 });
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

function enterable(
  path: string,
  parentDevice: number,
  seen: Set<string>,
  options: WalkOptions,
): PendingDir | undefined {
  const mountSkip = options.mountSkips.get(path);
  if (mountSkip) {
    options.onSkip(mountSkip, path);
    return undefined;
  }
  const stat = lstatOrUndefined(path);
  if (!stat) {
    options.onSkip('vanished', path);
    return undefined;
  }
  if (!stat.isDirectory()) {
    options.onSkip(stat.isSymbolicLink() ? 'symlink' : 'special', path);
    return undefined;
  }
  if (stat.dev !== parentDevice && !options.crossFilesystems) {
    options.onSkip('other-filesystem', path);
    return undefined;
  }
  const identity = `${stat.dev}:${stat.ino}`;
  if (seen.has(identity)) {
    options.onSkip('loop', path);
    return undefined;
  }
  seen.add(identity);
  return { path, device: stat.dev };
}

type EntryKind = 'file' | 'dir' | 'symlink' | 'special' | 'gone';

/** The entry's type from the directory listing; filesystems that do not report types cost one lstat. */
function kindOf(entry: Dirent, path: string): EntryKind {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'dir';
  if (entry.isSymbolicLink()) return 'symlink';
  if (entry.isFIFO() || entry.isSocket() || entry.isCharacterDevice() || entry.isBlockDevice())
    return 'special';
  const stat = lstatOrUndefined(path);
  if (!stat) return 'gone';
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  return stat.isSymbolicLink() ? 'symlink' : 'special';
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
