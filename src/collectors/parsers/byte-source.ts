import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Random-access reads over a file or a buffer, so parsers read only the parts of a large file they need. */
export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes at `offset` (fewer at the end of the source). */
  read(offset: number, length: number): Buffer;
}

/** A ByteSource over bytes already in memory. */
export function bufferSource(buffer: Buffer): ByteSource {
  return {
    size: buffer.length,
    read: (offset, length) =>
      buffer.subarray(Math.max(0, offset), Math.max(0, Math.min(buffer.length, offset + length))),
  };
}

/** Opens `path` (never following a final symlink) for `use`, and closes it afterwards. */
export function withFileSource<T>(path: string, use: (source: ByteSource) => T): T {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    return use({
      size,
      read(offset, length) {
        const want = Math.max(0, Math.min(length, size - offset));
        const buffer = Buffer.alloc(want);
        let done = 0;
        while (done < want) {
          const n = readSync(fd, buffer, done, want - done, offset + done);
          if (n === 0) break;
          done += n;
        }
        return buffer.subarray(0, done);
      },
    });
  } finally {
    closeSync(fd);
  }
}
