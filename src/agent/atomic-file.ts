import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The prefix of files being written; a name with it was never committed and is removed at the next start. */
export const TEMP_PREFIX = '.tmp-';

/**
 * Writes `bytes` to `path` so that a crash at any point leaves either the old file or the whole new one: a
 * temporary file in the same folder, written and fsynced, renamed over `path`, then the folder fsynced.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array, mode = 0o600): void {
  const temp = join(dirname(path), `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
  const fd = openSync(temp, 'wx', mode);
  try {
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temp, path);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(temp, { force: true });
    throw error;
  }
  syncFolder(dirname(path));
}

/** Makes a folder's entries (a rename, an unlink) durable; a no-op where folders cannot be opened (Windows). */
export function syncFolder(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // some filesystems refuse fsync on a folder; the rename itself is still atomic
  } finally {
    closeSync(fd);
  }
}
