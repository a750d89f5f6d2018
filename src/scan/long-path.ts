import { closeSync, constants, openSync } from 'node:fs';
import { fsPath, type HostPath } from '../core/paths.js';

/** The longest path handed to the kernel whole (Linux's PATH_MAX is 4096 bytes with the NUL). */
const DIRECT = 4000;
/** Linux O_PATH, which Node does not export: a folder handle that needs only search permission. */
const O_PATH = 0o10000000;
const HANDLE_FLAGS = O_PATH | constants.O_DIRECTORY;
/** Whether paths can be resolved below an open folder handle (`/proc/self/fd/N/...`, Linux). */
export const THROUGH_HANDLES = process.platform === 'linux';

/** True when the kernel takes `path` whole. */
export function fitsDirectly(path: HostPath): boolean {
  if (typeof path !== 'string') return path.length <= DIRECT;
  return path.length * 3 <= DIRECT || Buffer.byteLength(path) <= DIRECT;
}

/** Opens a handle of the folder at `path` (a path the kernel takes whole), to reach what is below it. */
export function openFolderHandle(path: string | Buffer): number {
  return openSync(path, HANDLE_FLAGS);
}

/** A path that reaches `relative` below the folder handle `fd`. */
export function belowHandle(fd: number, relative: HostPath): string | Buffer {
  return typeof relative === 'string'
    ? `/proc/self/fd/${fd}/${relative}`
    : Buffer.concat([Buffer.from(`/proc/self/fd/${fd}/`), fsPath(relative) as Buffer]);
}

/**
 * Calls `use` with a path that reaches `path` however deep it lies: `path` itself when it is short enough, else
 * (Linux) a path below a handle of its folder, opened a few thousand bytes at a time and closed once `use`
 * returns. Elsewhere a path past the limit fails as the system makes it fail.
 */
export function reachable<T>(path: HostPath, use: (path: string | Buffer) => T): T {
  if (!THROUGH_HANDLES || fitsDirectly(path)) return use(fsPath(path));
  const bytes = typeof path === 'string' ? Buffer.from(path) : (fsPath(path) as Buffer);
  const slash = bytes.lastIndexOf(0x2f);
  if (slash <= 0) return use(bytes);
  const fd = openFolder(bytes.subarray(0, slash));
  try {
    return use(belowHandle(fd, bytes.subarray(slash + 1)));
  } finally {
    closeSync(fd);
  }
}

/** A handle of the folder `bytes` (absolute) names, reached piece by piece from the handle of the piece before. */
function openFolder(bytes: Buffer): number {
  let fd: number | undefined;
  try {
    for (let start = 0; start < bytes.length; ) {
      const prefix = fd === undefined ? '' : `/proc/self/fd/${fd}/`;
      let end = bytes.length;
      if (prefix.length + end - start > DIRECT) end = bytes.lastIndexOf(0x2f, start + DIRECT - prefix.length);
      if (end <= start) throw Object.assign(new Error('name too long'), { code: 'ENAMETOOLONG' });
      const piece = bytes.subarray(start, end);
      const next = openFolderHandle(prefix ? Buffer.concat([Buffer.from(prefix), piece]) : piece);
      if (fd !== undefined) closeSync(fd);
      fd = next;
      start = end + 1;
    }
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    throw error;
  }
  return fd as number;
}
