/** @module Stored copies of quarantined files: XOR-encoded (they cannot run, antivirus does not flag them again). */
import { createHash, type Hmac } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';

const KEY = Buffer.from('chainsweep-quarantine');
const CHUNK = 1 << 20;

export interface Copied {
  size: number;
  sha256: string;
  mac: string;
}

function xor(data: Buffer, position: number): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  for (let i = 0; i < data.length; i++)
    out[i] = (data[i] as number) ^ (KEY[(position + i) % KEY.length] as number);
  return out;
}

/** One read buffer for every copy and hash (all synchronous, so never in use twice at once). */
let buffer: Buffer | undefined;

/** Calls `each` with every chunk of the open file `fd`, from its start, and returns the byte count. */
function readAll(fd: number, each: (chunk: Buffer, position: number) => void): number {
  buffer ??= Buffer.allocUnsafe(CHUNK);
  let position = 0;
  for (
    let n = readSync(fd, buffer, 0, CHUNK, position);
    n > 0;
    n = readSync(fd, buffer, 0, CHUNK, position)
  ) {
    each(buffer.subarray(0, n), position);
    position += n;
  }
  return position;
}

/** Copies the open file `fd` into a new stored copy at `to` (encoded, 0600, synced). */
export function storeCopy(fd: number, to: string, mac: Hmac): Copied {
  const output = openSync(to, 'wx', 0o600);
  const hash = createHash('sha256');
  try {
    const size = readAll(fd, (plain, position) => {
      hash.update(plain);
      mac.update(plain);
      writeSync(output, xor(plain, position));
    });
    fsyncSync(output);
    return { size, sha256: hash.digest('hex'), mac: mac.digest('hex') };
  } finally {
    closeSync(output);
  }
}

/** SHA-256 of what the open file `fd` holds now. */
export function hashOpenFile(fd: number): string {
  const hash = createHash('sha256');
  readAll(fd, (chunk) => hash.update(chunk));
  return hash.digest('hex');
}

/** Decodes the stored copy `from` into the open file `output` (synced); returns what it held. */
export function decodeCopy(from: string, output: number, mac: Hmac): Copied {
  const input = openSync(from, 'r');
  const hash = createHash('sha256');
  try {
    const size = readAll(input, (stored, position) => {
      const plain = xor(stored, position);
      hash.update(plain);
      mac.update(plain);
      writeSync(output, plain);
    });
    fsyncSync(output);
    return { size, sha256: hash.digest('hex'), mac: mac.digest('hex') };
  } finally {
    closeSync(input);
  }
}
