import { randomUUID } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { normaliseHostId } from '../core/host-id.js';
import { writeFileAtomic } from './atomic-file.js';

/**
 * The agent's own id for its host, made once and kept in `DIR/host-id` (0600): reports use it when the machine
 * has no usable id of its own, so every run of this agent speaks for the same host.
 */
export function keptHostId(stateDir: string): string {
  const path = join(stateDir, 'host-id');
  const kept = smallFile(path);
  const reading = kept === undefined ? undefined : normaliseHostId(kept);
  if (reading?.ok) return reading.id;
  const made = randomUUID();
  writeFileAtomic(path, Buffer.from(`${made}\n`), 0o600);
  return made;
}

/** The first 256 bytes of a regular file, opened without following a link, or undefined. */
function smallFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    const buffer = Buffer.alloc(256);
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
