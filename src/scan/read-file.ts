import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { HashAlgorithm } from '../core/indicator.js';
import type { HostPath } from '../core/paths.js';
import type { FileDigests } from '../matchers/hash-matcher.js';
import { reachable } from './long-path.js';

/** Why a file could not be read: the codes reports use. */
export type FileProblemCode = 'vanished' | 'unreadable' | 'special' | 'io-error';

export class FileProblem extends Error {
  constructor(
    readonly code: FileProblemCode,
    message: string,
  ) {
    super(message);
  }
}

/** One file read once: its digests, its first bytes, and the whole content when it is small enough. */
export interface FileRead {
  size: number;
  digests: FileDigests;
  head: Buffer;
  /** The whole file, when it fits the in-memory limit. Valid until the next read. */
  content?: Buffer;
  /** Set when the file changed size while it was read; digests cover the bytes read. */
  changed?: 'grew' | 'shrank';
}

const HEAD_BYTES = 512;
const CHUNK = 4 * 1024 * 1024;
const FOLLOW_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
const OPEN_FLAGS = FOLLOW_FLAGS | (constants.O_NOFOLLOW ?? 0);

/** Reads files in one pass with a reused buffer: digests for the algorithms asked, content up to `maxInMemory`. */
export class FileReader {
  private buffer = Buffer.allocUnsafe(CHUNK);

  constructor(private readonly maxInMemory: number) {}

  /**
   * Reads `path` once (at any depth), computing `algorithms`. A file larger than `deferAbove` is not read: its size
   * is returned, so the caller can share its hashing out between threads. A symlink is read only with `follow`
   * (a path the user named).
   */
  read(
    path: HostPath,
    algorithms: readonly HashAlgorithm[],
    deferAbove = Number.POSITIVE_INFINITY,
    follow = false,
  ): FileRead | { deferredSize: number } {
    let fd: number;
    try {
      fd = reachable(path, (p) => openSync(p, follow ? FOLLOW_FLAGS : OPEN_FLAGS));
    } catch (error) {
      throw toProblem(error);
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new FileProblem('special', 'not a regular file');
      const expected = stat.size;
      if (expected > deferAbove) return { deferredSize: expected };
      const unique = [...new Set(algorithms)];
      const hashes = unique.map((a) => createHash(a));
      return expected <= this.maxInMemory
        ? this.readWhole(fd, expected, unique, hashes)
        : this.readStreaming(fd, expected, unique, hashes);
    } catch (error) {
      throw error instanceof FileProblem ? error : toProblem(error);
    } finally {
      closeSync(fd);
    }
  }

  private readWhole(fd: number, expected: number, algorithms: HashAlgorithm[], hashes: Hash[]): FileRead {
    if (this.buffer.length < expected) this.buffer = Buffer.allocUnsafe(expected);
    let size = 0;
    while (size < expected) {
      const n = readSync(fd, this.buffer, size, expected - size, size);
      if (n === 0) break;
      size += n;
    }
    const content = this.buffer.subarray(0, size);
    for (const hash of hashes) hash.update(content);
    const changed = this.sizeChange(fd, expected, size);
    if (this.buffer.length > CHUNK) this.buffer = Buffer.allocUnsafe(CHUNK);
    return {
      size,
      digests: digestsOf(algorithms, hashes),
      head: Buffer.from(content.subarray(0, HEAD_BYTES)),
      content,
      ...(changed ? { changed } : {}),
    };
  }

  private readStreaming(fd: number, expected: number, algorithms: HashAlgorithm[], hashes: Hash[]): FileRead {
    let size = 0;
    let head: Buffer | undefined;
    while (size < expected) {
      const n = readSync(fd, this.buffer, 0, Math.min(CHUNK, expected - size), size);
      if (n === 0) break;
      const chunk = this.buffer.subarray(0, n);
      head ??= Buffer.from(chunk.subarray(0, HEAD_BYTES));
      for (const hash of hashes) hash.update(chunk);
      size += n;
    }
    const changed = this.sizeChange(fd, expected, size);
    return {
      size,
      digests: digestsOf(algorithms, hashes),
      head: head ?? Buffer.alloc(0),
      ...(changed ? { changed } : {}),
    };
  }

  private sizeChange(fd: number, expected: number, size: number): 'grew' | 'shrank' | undefined {
    if (size < expected) return 'shrank';
    return readSync(fd, this.buffer, 0, 1, size) > 0 ? 'grew' : undefined;
  }
}

function digestsOf(algorithms: HashAlgorithm[], hashes: Hash[]): FileDigests {
  const digests: FileDigests = {};
  algorithms.forEach((algorithm, i) => {
    const hash = hashes[i];
    if (hash) digests[algorithm] = hash.digest('hex');
  });
  return digests;
}

/** The problem an error means; the message never holds the path (the report has it beside). */
function toProblem(error: unknown): FileProblem {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new FileProblem('vanished', 'vanished before it could be read');
    case 'EACCES':
    case 'EPERM':
      return new FileProblem('unreadable', 'permission denied');
    case 'ELOOP':
    case 'ENXIO':
    case 'EISDIR':
      return new FileProblem('special', 'not a regular file');
    default:
      return new FileProblem('io-error', `${code ?? 'error'} while reading`);
  }
}
