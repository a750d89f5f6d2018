/**
 * @module The journal of a quarantine entry: one line per event, each `HMAC-SHA256 JSON`, the MAC keyed with the
 * quarantine key and bound to the entry's id, so a line written by hand, edited, or taken from another entry does
 * not authenticate.
 */
import { createHmac, type Hmac, timingSafeEqual } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { z } from 'zod';

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
  z.object({ t: z.literal('end') }),
  z.object({ t: z.literal('restored'), at: z.string(), restored: int }),
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
}

function lineMac(key: Buffer, id: string, json: string): Buffer {
  return createHmac('sha256', key).update(`chainsweep-quarantine-journal\0${id}\0`).update(json).digest();
}

/** The MAC of a stored file's content, bound to its entry and item: feed it the plain bytes. */
export function contentMac(key: Buffer, id: string, n: number): Hmac {
  return createHmac('sha256', key).update(`chainsweep-quarantine-file\0${id}\0${n}\0`);
}

/** Appends authenticated lines to a journal, each synced before `append` returns. */
export class JournalWriter {
  private readonly fd: number;

  constructor(
    file: string,
    private readonly key: Buffer,
    private readonly id: string,
  ) {
    this.fd = openSync(file, 'a', 0o600);
  }

  append(record: JournalRecord): void {
    const json = JSON.stringify(record);
    writeSync(this.fd, `${lineMac(this.key, this.id, json).toString('hex')} ${json}\n`);
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Reads the journal of entry `id`: updates applied, cancelled items dropped, lines that fail the MAC refused. */
export function readJournal(file: string, key: Buffer, id: string): Journal {
  const journal: Journal = { items: [], left: [], ended: false, restored: false, refused: [] };
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const lines = text.split('\n');
  const items = new Map<number, QuarantineItem>();
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    const record = authenticate(line, key, id);
    if (typeof record === 'string') {
      // A last line cut short by a crash: what it records was not yet done.
      if (i === lines.length - 1) continue;
      journal.refused.push({ line: i + 1, path: pathOf(line), reason: record });
      continue;
    }
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
  journal.items = [...items.values()];
  return journal;
}

/** The record on a line, or why it does not authenticate. */
function authenticate(line: string, key: Buffer, id: string): JournalRecord | string {
  const space = line.indexOf(' ');
  const mac = Buffer.from(line.slice(0, space), 'hex');
  const json = line.slice(space + 1);
  const expected = lineMac(key, id, json);
  if (space < 0 || mac.length !== expected.length || !timingSafeEqual(mac, expected))
    return 'its journal line does not authenticate';
  try {
    return RecordSchema.parse(JSON.parse(json));
  } catch {
    return 'its journal line is not a journal record';
  }
}

function pathOf(line: string): string | undefined {
  try {
    const value = JSON.parse(line.slice(line.indexOf('{'))) as { path?: unknown };
    return typeof value.path === 'string' ? value.path : undefined;
  } catch {
    return undefined;
  }
}
