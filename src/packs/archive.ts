import { promisify } from 'node:util';
import { gunzip, gzipSync } from 'node:zlib';
import { UserError } from '../core/errors.js';

/** One file of a pack archive: a relative `/`-separated path and its bytes. */
export interface ArchiveEntry {
  path: string;
  bytes: Buffer;
}

const BLOCK = 512;
/** The most files a pack may hold (archive entries or manifest entries). */
export const MAX_PACK_FILES = 10_000;
/** The largest pack archive file read (what feeds may send too). */
export const MAX_ARCHIVE_BYTES = 64 * 1024 * 1024;
/** The most bytes a pack's files may add up to once inflated. */
export const MAX_PACK_BYTES = 256 * 1024 * 1024;
/** A pack archive may inflate to at most this many times its size (JSON and rules compress 5-20 times)... */
export const MAX_INFLATE_RATIO = 100;
/** ...unless it stays under this size, which any archive may reach. */
const INFLATE_FLOOR = 16 * 1024 * 1024;

/** A gzipped POSIX tar (ustar) of regular files: what `packs export` writes and feeds serve. */
export function writeArchive(entries: readonly ArchiveEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const header = Buffer.alloc(BLOCK);
    const name = Buffer.from(entry.path, 'utf8');
    if (name.length > 100) {
      const cut = entry.path.lastIndexOf('/', 154);
      if (cut <= 0 || Buffer.byteLength(entry.path.slice(cut + 1)) > 100)
        throw new UserError('PACK_INVALID', `archive: path too long: ${entry.path}`);
      header.write(entry.path.slice(cut + 1), 0, 'utf8');
      header.write(entry.path.slice(0, cut), 345, 'utf8');
    } else name.copy(header, 0);
    header.write('0000644\0', 100, 'latin1');
    header.write('0000000\0', 108, 'latin1');
    header.write('0000000\0', 116, 'latin1');
    header.write(`${entry.bytes.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    header.write('00000000000\0', 136, 'latin1');
    header.write('        ', 148, 'latin1');
    header.write('0', 156, 'latin1');
    header.write('ustar\0', 257, 'latin1');
    header.write('00', 263, 'latin1');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    blocks.push(header, entry.bytes, Buffer.alloc((BLOCK - (entry.bytes.length % BLOCK)) % BLOCK));
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(blocks));
}

const inflate = promisify(gunzip);

/**
 * Reads a pack archive, refusing anything but regular files with safe relative paths: no `..`, no absolute
 * paths, no backslashes, no links or devices, no duplicates, no truncation, no size that is not plain octal.
 * An archive over MAX_ARCHIVE_BYTES is refused unread; inflation (off the main thread) stops at `maxBytes` and
 * at MAX_INFLATE_RATIO times the archive's size, so a gzip bomb is refused before it fills memory.
 */
export async function readArchive(
  gz: Uint8Array,
  source: string,
  maxBytes = MAX_PACK_BYTES,
): Promise<ArchiveEntry[]> {
  if (gz.length > MAX_ARCHIVE_BYTES)
    throw new UserError(
      'PACK_INVALID',
      `${source}: archive is ${gz.length} bytes, over the ${MAX_ARCHIVE_BYTES}-byte limit`,
    );
  const limit = Math.min(maxBytes, Math.max(INFLATE_FLOOR, gz.length * MAX_INFLATE_RATIO));
  let tar: Buffer;
  try {
    tar = await inflate(gz, { maxOutputLength: limit });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new UserError(
        'PACK_INVALID',
        `${source}: would inflate to more than ${limit} bytes from ${gz.length} (over ${MAX_INFLATE_RATIO} times its size or the ${maxBytes}-byte limit); refused`,
      );
    throw new UserError(
      'PACK_INVALID',
      `${source}: not a complete gzip archive (${(error as Error).message})`,
    );
  }
  const entries: ArchiveEntry[] = [];
  const seen = new Set<string>();
  let at = 0;
  for (;;) {
    if (at + BLOCK > tar.length) throw new UserError('PACK_INVALID', `${source}: archive is truncated`);
    const header = tar.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number) =>
      header.toString('utf8', start, start + length).replace(/\0.*$/s, '');
    const octal = (start: number, length: number, name: string) => {
      const text = header
        .toString('latin1', start, start + length)
        .replace(/[\0 ]+$/, '')
        .replace(/^ +/, '');
      if (!/^[0-7]*$/.test(text))
        throw new UserError(
          'PACK_INVALID',
          `${source}: archive header ${name} at byte ${at} is not an octal number (base-256 and other encodings are refused)`,
        );
      return text === '' ? 0 : Number.parseInt(text, 8);
    };
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (header[i] as number);
    if (octal(148, 8, 'checksum') !== sum)
      throw new UserError('PACK_INVALID', `${source}: archive header checksum is wrong at byte ${at}`);
    const prefix = field(345, 155);
    const path = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const type = field(156, 1) || '0';
    const size = octal(124, 12, 'size');
    if (type !== '0')
      throw new UserError(
        'PACK_INVALID',
        `${source}: ${JSON.stringify(path)} is not a regular file (tar type ${JSON.stringify(type)})`,
      );
    if (!isSafePath(path))
      throw new UserError('PACK_INVALID', `${source}: unsafe path ${JSON.stringify(path)} in archive`);
    if (seen.has(path))
      throw new UserError('PACK_INVALID', `${source}: ${JSON.stringify(path)} appears twice in archive`);
    if (at + BLOCK + size > tar.length)
      throw new UserError('PACK_INVALID', `${source}: archive is truncated inside ${path}`);
    seen.add(path);
    entries.push({ path, bytes: Buffer.from(tar.subarray(at + BLOCK, at + BLOCK + size)) });
    if (entries.length > MAX_PACK_FILES)
      throw new UserError('PACK_INVALID', `${source}: more than ${MAX_PACK_FILES} files in archive`);
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}

/** A relative path that stays inside its folder on every OS. */
export function isSafePath(path: string): boolean {
  if (!path || path.startsWith('/') || path.includes('\\') || path.includes('\0') || /^[A-Za-z]:/.test(path))
    return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}
