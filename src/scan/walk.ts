import type { Dirent } from 'node:fs';
import { lstat, opendir } from 'node:fs/promises';
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
 * network mounts below the root.
 */
export async function* walkFiles(root: string, options: WalkOptions): AsyncGenerator<string> {
  const rootStat = await lstat(root);
  if (!rootStat.isDirectory()) {
    if (rootStat.isFile()) yield root;
    else options.onSkip(rootStat.isSymbolicLink() ? 'symlink' : 'special', root);
    return;
  }
  const seen = new Set<string>([`${rootStat.dev}:${rootStat.ino}`]);
  const pending: PendingDir[] = [{ path: root, device: rootStat.dev }];

  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    if (options.signal?.aborted) return;
    let handle: Awaited<ReturnType<typeof opendir>>;
    try {
      handle = await opendir(dir.path, { bufferSize: 128 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') options.onSkip('vanished', dir.path);
      else
        options.onUnreadableDir(
          dir.path,
          code === 'EACCES' || code === 'EPERM' ? 'permission denied' : String(code),
        );
      continue;
    }
    const subdirs: string[] = [];
    try {
      for await (const entry of handle) {
        const path = join(dir.path, entry.name);
        const excluded = options.isExcluded(path);
        if (excluded) {
          if (excluded !== 'silent') options.onSkip('excluded', path);
          continue;
        }
        const kind =
          entry.isFile() || entry.isDirectory() || entry.isSymbolicLink() || isSpecial(entry)
            ? kindOf(entry)
            : await kindFromLstat(path);
        if (kind === 'file') yield path;
        else if (kind === 'dir') subdirs.push(path);
        else if (kind === 'symlink') options.onSkip('symlink', path);
        else if (kind === 'special') options.onSkip('special', path);
        else options.onSkip('vanished', path);
      }
    } catch (error) {
      options.onUnreadableDir(dir.path, `listing stopped: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
    for (const path of subdirs.reverse()) {
      const next = await enterable(path, dir.device, seen, options);
      if (next) pending.push(next);
    }
  }
}

async function enterable(
  path: string,
  parentDevice: number,
  seen: Set<string>,
  options: WalkOptions,
): Promise<PendingDir | undefined> {
  const mountSkip = options.mountSkips.get(path);
  if (mountSkip) {
    options.onSkip(mountSkip, path);
    return undefined;
  }
  let stat: Awaited<ReturnType<typeof lstat>>;
  try {
    stat = await lstat(path);
  } catch {
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

function isSpecial(entry: Dirent): boolean {
  return entry.isFIFO() || entry.isSocket() || entry.isCharacterDevice() || entry.isBlockDevice();
}

function kindOf(entry: Dirent): EntryKind {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'dir';
  if (entry.isSymbolicLink()) return 'symlink';
  return 'special';
}

async function kindFromLstat(path: string): Promise<EntryKind> {
  try {
    const stat = await lstat(path);
    if (stat.isFile()) return 'file';
    if (stat.isDirectory()) return 'dir';
    if (stat.isSymbolicLink()) return 'symlink';
    return 'special';
  } catch {
    return 'gone';
  }
}
