import { randomUUID } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

/** Who this agent speaks for: the id and name the hub knows the machine by. */
export interface HostIdentity {
  hostId: string;
  hostname: string;
}

/**
 * The machine's id from `/etc/machine-id` (under `imageRoot` for an image) and its name; where the machine has no
 * id, one made once and kept in the state folder, so every run of this agent speaks for the same host.
 */
export function agentHostIdentity(stateDir: string, imageRoot?: string): HostIdentity {
  const root = imageRoot ?? '/';
  const machineId = smallFile(join(root, 'etc', 'machine-id'))
    ?.trim()
    .toLowerCase();
  const name = imageRoot ? smallFile(join(root, 'etc', 'hostname'))?.trim() : hostname();
  return {
    hostId: machineId && /^[0-9a-f]{32}$/.test(machineId) ? machineId : keptHostId(stateDir),
    hostname: name && /^[\x21-\x7e]{1,253}$/.test(name) ? name : hostname(),
  };
}

function keptHostId(stateDir: string): string {
  const path = join(stateDir, 'host-id');
  const kept = smallFile(path)?.trim();
  if (kept && /^[0-9a-f-]{36}$/.test(kept)) return kept;
  const made = randomUUID();
  writeFileAtomic(path, Buffer.from(`${made}\n`), 0o600);
  return made;
}

/** The first 4 KiB of a regular file, opened without following a link, or undefined. */
function smallFile(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    const buffer = Buffer.alloc(4096);
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
