/** @module Stored copies of quarantined files: XOR-encoded (they cannot run, antivirus does not flag them again). */
import { createHash, type Hmac } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, readSync, unlinkSync, writeSync } from 'node:fs';
import type { DirHandle } from './dir-handle.js';

const KEY = Buffer.from('chainsweep-quarantine');
const CHUNK = 1 << 20;

export interface Copied {
  size: number;
  sha256: string;
  mac: string;
}

/** A stored copy is not what its journal line says (its reason, on one line). */
export class StoredCopyError extends Error {}

function xor(data: Buffer, position: number): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  for (let i = 0; i < data.length; i++)
    out[i] = (data[i] as number) ^ (KEY[(position + i) % KEY.length] as number);
  return out;
}

/** One read buffer for every copy and hash (all synchronous, so never in use twice at once). */
let buffer: Buffer | undefined;

/**
 * Calls `each` with every chunk of the open file `fd`, from its start, up to `limit` bytes; returns the byte
 * count, `limit + 1` when the file holds more.
 */
function readAll(fd: number, each: (chunk: Buffer, position: number) => void, limit = Infinity): number {
  buffer ??= Buffer.allocUnsafe(CHUNK);
  let position = 0;
  while (position <= limit) {
    const want = Math.min(CHUNK, limit - position + 1);
    const n = readSync(fd, buffer, 0, want, position);
    if (n === 0) break;
    if (position + n > limit) return limit + 1;
    each(buffer.subarray(0, n), position);
    position += n;
  }
  return position;
}

/** Writes all of `data` (a short write, as on a full disk, goes on until it fails with the reason). */
function writeAll(fd: number, data: Buffer): void {
  for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done);
}

/**
 * Copies the open file `fd` into a new stored copy `name` in the folder `dir` (encoded, 0600, synced); on any
 * failure nothing is left of the copy.
 */
export function storeCopy(fd: number, dir: DirHandle, name: string, mac: Hmac): Copied {
  const output = dir.openFile(name, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  const hash = createHash('sha256');
  try {
    const size = readAll(fd, (plain, position) => {
      hash.update(plain);
      mac.update(plain);
      writeAll(output, xor(plain, position));
    });
    fsyncSync(output);
    closeSync(output);
    return { size, sha256: hash.digest('hex'), mac: mac.digest('hex') };
  } catch (error) {
    closeSync(output);
    unlinkSync(dir.at(name));
    throw error;
  }
}

/** SHA-256 of what the open file `fd` holds now. */
export function hashOpenFile(fd: number): string {
  const hash = createHash('sha256');
  readAll(fd, (chunk) => hash.update(chunk));
  return hash.digest('hex');
}

/**
 * Opens the stored copy `name` in `dir` for an item of `size` bytes: never following a symlink nor blocking on a
 * FIFO, and only a regular file of that very size.
 */
export function openStoredCopy(dir: DirHandle, name: string, size: number): number {
  let fd: number;
  try {
    fd = dir.openFile(name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StoredCopyError('its stored copy is missing');
    if (code === 'ELOOP') throw new StoredCopyError('its stored copy is a symlink; not followed');
    throw error;
  }
  const stat = fstatSync(fd);
  const problem = !stat.isFile()
    ? 'its stored copy is not a regular file'
    : stat.size !== size
      ? 'its stored copy does not authenticate'
      : undefined;
  if (problem) {
    closeSync(fd);
    throw new StoredCopyError(problem);
  }
  return fd;
}

/**
 * Decodes the open stored copy `input` (at most `expected.size` bytes) into `output` when given, else only reads
 * it; throws StoredCopyError unless what it holds authenticates as `expected`.
 */
export function decodeCopy(input: number, expected: Copied, mac: Hmac, output?: number): void {
  const hash = createHash('sha256');
  const size = readAll(
    input,
    (stored, position) => {
      const plain = xor(stored, position);
      hash.update(plain);
      mac.update(plain);
      if (output !== undefined) writeAll(output, plain);
    },
    expected.size,
  );
  if (size !== expected.size || hash.digest('hex') !== expected.sha256 || mac.digest('hex') !== expected.mac)
    throw new StoredCopyError('its stored copy does not authenticate');
  if (output === undefined) return;
  fsyncSync(output);
  // What reached the disk is checked too: a full disk must not leave a short file counted as restored.
  if (fstatSync(output).size !== expected.size || hashOpenFile(output) !== expected.sha256)
    throw new StoredCopyError('its restored copy could not be written whole');
}
