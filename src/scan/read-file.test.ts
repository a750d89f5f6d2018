import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempTree } from '../testing/temp-tree.js';
import { FileProblem, FileReader } from './read-file.js';

const digest = (algorithm: string, data: string | Buffer) => createHash(algorithm).update(data).digest('hex');

describe('FileReader', () => {
  const dir = tempTree({ 'small.bin': 'hello world', 'big.bin': Buffer.alloc(3 * 1024 * 1024 + 17, 7) });

  it('computes only the digests asked for, and keeps small files in memory', () => {
    const read = new FileReader(1024).read(join(dir, 'small.bin'), ['sha256', 'md5']);
    if ('deferredSize' in read) throw new Error('deferred');
    expect(read.digests).toEqual({
      sha256: digest('sha256', 'hello world'),
      md5: digest('md5', 'hello world'),
    });
    expect(read.content?.toString()).toBe('hello world');
    expect(read.size).toBe(11);
  });

  it('streams files above the in-memory limit with the same digests', () => {
    const read = new FileReader(1024).read(join(dir, 'big.bin'), ['sha1']);
    if ('deferredSize' in read) throw new Error('deferred');
    expect(read.content).toBeUndefined();
    expect(read.digests.sha1).toBe(digest('sha1', Buffer.alloc(3 * 1024 * 1024 + 17, 7)));
    expect(read.head).toHaveLength(512);
  });

  it('defers a file above the split size without reading it', () => {
    expect(new FileReader(1024).read(join(dir, 'big.bin'), ['sha1'], 2048)).toEqual({
      deferredSize: 3 * 1024 * 1024 + 17,
    });
  });

  it('notices a file that grows while it is read (a /proc file reports size 0 but has content)', () => {
    const read = new FileReader(1024).read('/proc/self/status', ['sha256']);
    if ('deferredSize' in read) throw new Error('deferred');
    expect(read.changed).toBe('grew');
  });

  it.each([
    ['vanished', join(dir, 'gone.bin')],
    ['special', '/dev/null'],
    ['special', dir],
  ])('reports %s for %s', (code, path) => {
    let error: unknown;
    try {
      new FileReader(1024).read(path, ['sha256']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FileProblem);
    expect((error as FileProblem).code).toBe(code);
  });
});
