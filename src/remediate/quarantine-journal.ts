/**
 * @module The journal of a quarantine entry: one line per event, `MAC PREV JSON`, the HMAC-SHA256 keyed with the
 * quarantine key, bound to the entry's id and covering PREV, the MAC of the line before it (`-` on the first). A
 * line written by hand, edited, or taken from another entry does not authenticate; a line removed breaks the
 * chain at the next one, and the end line carries the count of lines before it.
 */
import { createHmac, type Hmac, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, ftruncateSync, readSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import type { DirHandle } from './dir-handle.js';

const int = z.number().int();
const meta = { mode: int, uid: int, gid: int, atimeMs: z.number(), mtimeMs: z.number() };
const content = { size: int, sha256: z.string(), mac: z.string(), payload: z.string() };

/** One thing moved into quarantine, with what it takes to put it back exactly. */
export const QuarantineItemSchema = z.object({
  t: z.literal('item'),
  /** Number of the item in its entry; updates and cancels name it. */
  n: int,
  path: z.string(),
  /** The path's bytes (base64) when they are not UTF-8. */
  pathB64: z.string().optional(),
  kind: z.enum(['file', 'dir', 'symlink', 'hardlink']),
  ...meta,
  ...z.object(content).partial().shape,
  /** Symlink target, kept as written (and its bytes when not UTF-8). */
  target: z.string().optional(),
  targetB64: z.string().optional(),
  /** For a hard link: the item it is another name of. */
  linkTo: int.optional(),
  /** The name it was renamed to, in its own folder, on its way out (a crash may leave it there). */
  staged: z.string().optional(),
});
export type QuarantineItem = z.infer<typeof QuarantineItemSchema>;

const RecordSchema = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('begin'),
    id: z.string(),
    createdAt: z.string(),
    reason: z.string(),
    /** The root the paths were reached from, and the planned paths: nothing is restored outside them. */
    root: z.string(),
    /** Device and inode of the root folder: nothing is restored onto another (an image no longer mounted). */
    rootDev: z.string(),
    rootIno: z.string(),
    roots: z.array(z.string()),
  }),
  QuarantineItemSchema,
  /** The file changed while it was being removed: this copy supersedes the one recorded before. */
  z.object({
    t: z.literal('update'),
    n: int,
    ...content,
    mode: int,
    atimeMs: z.number(),
    mtimeMs: z.number(),
  }),
  /** The item was not removed after all (left in place). */
  z.object({ t: z.literal('cancel'), n: int }),
  z.object({ t: z.literal('left'), path: z.string(), message: z.string() }),
  /** `lines`: how many lines come before it, so a line removed before it is seen. */
  z.object({ t: z.literal('end'), lines: int }),
  z.object({ t: z.literal('restored'), at: z.string(), restored: int, lines: int }),
]);
export type JournalRecord = z.infer<typeof RecordSchema>;
type Begin = Extract<JournalRecord, { t: 'begin' }>;

/** What an entry's journal says, from its authenticated lines only. */
export interface Journal {
  begin?: Begin;
  items: QuarantineItem[];
  left: { path: string; message: string }[];
  ended: boolean;
  restored: boolean;
  /** Lines that do not authenticate: their path when one can be read, else their line number. */
  refused: { line: number; path?: string | undefined; reason: string }[];
  /** Why lines are known to be missing (the chain of MACs or the count at the end does not hold). */
  missing?: string;
  /** Where the next line goes on: the MAC it follows, the count of lines, and the length of the whole lines. */
  tail: Tail;
}

/** The end of a journal's complete lines, for appending to it. */
export interface Tail {
  prev: string;
  lines: number;
  length: number;
}

/** The largest journal read (about 300,000 items); a larger one is refused, not read. */
export const MAX_JOURNAL_BYTES = 128 << 20;
export const JOURNAL = 'journal.ndjson';

function lineMac(key: Buffer, id: string, prev: string, json: string): Buffer {
  return createHmac('sha256', key)
    .update(`chainsweep-quarantine-journal\0${id}\0${prev}\0`)
    .update(json)
    .digest();
}

/** The MAC of a stored file's content, bound to its entry and item: feed it the plain bytes. */
export function contentMac(key: Buffer, id: string, n: number): Hmac {
  return createHmac('sha256', key).update(`chainsweep-quarantine-file\0${id}\0${n}\0`);
}

/**
 * Opens the journal of the entry folder `entry` (a new one with `create`), never following a symlink nor blocking
 * on a FIFO; it must be a regular file of this user's no larger than MAX_JOURNAL_BYTES.
 */
export function openJournal(entry: DirHandle, mode: 'create' | 'read' | 'append'): number {
  const flags =
    mode === 'create'
      ? constants.O_RDWR | constants.O_CREAT | constants.O_EXCL
      : mode === 'read'
        ? constants.O_RDONLY
        : constants.O_RDWR;
  let fd: number;
  try {
    fd = entry.openFile(JOURNAL, flags, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP')
      throw new UserError('PACK_TAMPERED', `quarantine: ${entry.child(JOURNAL)} is a symlink`);
    if (code === 'ENOENT') throw new UserError('USAGE', `quarantine: ${entry.child(JOURNAL)} is missing`);
    throw error;
  }
  const stat = fstatSync(fd);
  const uid = process.getuid?.();
  const problem = !stat.isFile()
    ? 'is not a regular file'
    : uid !== undefined && stat.uid !== uid
      ? "is not this user's"
      : stat.size > MAX_JOURNAL_BYTES
        ? `is larger than ${MAX_JOURNAL_BYTES} bytes`
        : undefined;
  if (problem) {
    closeQuietly(fd);
    throw new UserError('PACK_TAMPERED', `quarantine: ${entry.child(JOURNAL)} ${problem}`);
  }
  return fd;
}

/** Appends authenticated lines to an open journal, each chained to the one before and synced before `append` returns. */
export class JournalWriter {
  private prev: string;
  private lines: number;
  private length: number;

  constructor(
    private readonly fd: number,
    private readonly key: Buffer,
    private readonly id: string,
    tail: Tail = { prev: '-', lines: 0, length: 0 },
  ) {
    // What follows the last complete line is a line cut short by a crash: it recorded nothing done.
    if (fstatSync(fd).size !== tail.length) ftruncateSync(fd, tail.length);
    this.prev = tail.prev;
    this.lines = tail.lines;
    this.length = tail.length;
  }

  /** How many lines the journal holds. */
  get count(): number {
    return this.lines;
  }

  append(record: JournalRecord): void {
    const json = JSON.stringify(record);
    const mac = lineMac(this.key, this.id, this.prev, json).toString('hex');
    const line = Buffer.from(`${mac} ${this.prev} ${json}\n`);
    try {
      for (let done = 0; done < line.length; )
        done += writeSync(this.fd, line, done, line.length - done, this.length + done);
      fsyncSync(this.fd);
    } catch (error) {
      // A line written in part (a full disk) is taken back, so the next one follows a whole line.
      try {
        ftruncateSync(this.fd, this.length);
      } catch {
        // a crash-cut last line is skipped by readers
      }
      throw error;
    }
    this.length += line.length;
    this.prev = mac;
    this.lines++;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Reads the open journal `fd` of entry `id`: updates applied, cancelled items dropped, lines that fail refused. */
export function readJournal(fd: number, key: Buffer, id: string): Journal {
  const text = readText(fd);
  const complete = text.lastIndexOf('\n') + 1;
  const journal: Journal = {
    items: [],
    left: [],
    ended: false,
    restored: false,
    refused: [],
    tail: { prev: '-', lines: 0, length: Buffer.byteLength(text.slice(0, complete)) },
  };
  // What follows the last newline is a line cut short by a crash: what it records was not yet done.
  const lines = text.slice(0, complete).split('\n').slice(0, -1);
  const items = new Map<number, QuarantineItem>();
  let count = 0;
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    const expectedPrev = journal.tail.prev;
    journal.tail.prev = line.split(' ', 1)[0] ?? '';
    const result = authenticate(line, key, id);
    const before = count++;
    if (typeof result === 'string') {
      journal.refused.push({ line: i + 1, path: pathOf(line), reason: result });
      continue;
    }
    const { record, prev } = result;
    if (prev !== expectedPrev || ((record.t === 'end' || record.t === 'restored') && record.lines !== before))
      journal.missing ??= `lines are missing before line ${i + 1}`;
    if (record.t === 'begin') {
      if (i === 0 && record.id === id) journal.begin = record;
      else journal.refused.push({ line: i + 1, reason: 'a second or misplaced beginning' });
    } else if (!journal.begin)
      journal.refused.push({ line: i + 1, path: pathOf(line), reason: 'no beginning' });
    else if (record.t === 'item') {
      if (items.has(record.n))
        journal.refused.push({ line: i + 1, path: record.path, reason: 'a repeated item' });
      else items.set(record.n, record);
    } else if (record.t === 'update') {
      const item = items.get(record.n);
      if (item) items.set(record.n, { ...item, ...record, t: 'item' });
    } else if (record.t === 'cancel') items.delete(record.n);
    else if (record.t === 'left') journal.left.push({ path: record.path, message: record.message });
    else if (record.t === 'end') journal.ended = true;
    else journal.restored = true;
  }
  journal.tail.lines = count;
  journal.items = [...items.values()];
  return journal;
}

/** The whole of the open file `fd`, at most MAX_JOURNAL_BYTES (as fstat said when it was opened). */
function readText(fd: number): string {
  const buffer = Buffer.allocUnsafe(Math.min(fstatSync(fd).size, MAX_JOURNAL_BYTES) + 1);
  let length = 0;
  for (let n = -1; n !== 0 && length < buffer.length; length += n)
    n = readSync(fd, buffer, length, buffer.length - length, length);
  if (length > MAX_JOURNAL_BYTES)
    throw new UserError(
      'PACK_TAMPERED',
      `quarantine: a journal grew past ${MAX_JOURNAL_BYTES} bytes as it was read`,
    );
  return buffer.subarray(0, length).toString('utf8');
}

/** The record on a line and the MAC it says it follows, or why it does not authenticate. */
function authenticate(
  line: string,
  key: Buffer,
  id: string,
): { record: JournalRecord; prev: string } | string {
  const [macHex = '', prev = ''] = line.split(' ', 2);
  const json = line.slice(macHex.length + prev.length + 2);
  const mac = Buffer.from(macHex, 'hex');
  const expected = lineMac(key, id, prev, json);
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected))
    return 'its journal line does not authenticate';
  let record: JournalRecord;
  try {
    record = RecordSchema.parse(JSON.parse(json));
  } catch {
    return 'its journal line is not a journal record';
  }
  return { record, prev };
}

function pathOf(line: string): string | undefined {
  try {
    const value = JSON.parse(line.slice(line.indexOf('{'))) as { path?: unknown };
    return typeof value.path === 'string' ? value.path : undefined;
  } catch {
    return undefined;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already reported what matters
  }
}
