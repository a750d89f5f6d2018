import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  fsyncSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { stateDir } from '../packs/state-dir.js';

/** One thing moved into quarantine, with what it takes to put it back exactly. */
export const QuarantineItemSchema = z.object({
  path: z.string(),
  kind: z.enum(['file', 'dir', 'symlink']),
  mode: z.number().int(),
  uid: z.number().int(),
  gid: z.number().int(),
  atimeMs: z.number(),
  mtimeMs: z.number(),
  size: z.number().int().optional(),
  sha256: z.string().optional(),
  /** File name of the encoded content under payload/. */
  payload: z.string().optional(),
  /** Symlink target, kept as written. */
  target: z.string().optional(),
});
export type QuarantineItem = z.infer<typeof QuarantineItemSchema>;

export const QuarantineEntrySchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  reason: z.string(),
  /** complete: every item is in; incomplete: the run stopped part-way (the journal says what is in); restored. */
  status: z.enum(['complete', 'incomplete', 'restored']),
  items: z.array(QuarantineItemSchema),
});
export type QuarantineEntry = z.infer<typeof QuarantineEntrySchema>;

/** Content is stored XOR-ed with this key: it cannot run, and antivirus does not flag it again. */
const KEY = Buffer.from('chainsweep-quarantine');
const CHUNK = 1 << 20;
const ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/** The quarantine folder: $CHAINSWEEP_QUARANTINE, else `quarantine` in chainsweep's state folder. */
export function defaultQuarantineDir(): string {
  return process.env.CHAINSWEEP_QUARANTINE ?? join(stateDir(), 'quarantine');
}

/**
 * A folder of quarantine entries. Moving in is copy-then-delete with a journal: the encoded copy is written and
 * synced, its journal line is written and synced, and only then is the original removed, so a crash at any point
 * leaves each file in place, in quarantine, or (briefly) both, never neither.
 */
export class QuarantineStore {
  constructor(readonly dir: string) {}

  /** Starts a new entry; call `add` for each path, then `finish`. */
  begin(reason: string): QuarantineWriter {
    const id = `${new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;
    const entryDir = join(this.dir, id);
    mkdirSync(join(entryDir, 'payload'), { recursive: true, mode: 0o700 });
    writeFileSync(join(entryDir, 'reason.txt'), reason, { mode: 0o600 });
    return new QuarantineWriter(id, entryDir, reason);
  }

  /** Every entry, newest first; an entry cut short by a crash is rebuilt from its journal and marked incomplete. */
  list(): QuarantineEntry[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((name) => ID_PATTERN.test(name))
      .sort()
      .reverse()
      .map((id) => this.read(id));
  }

  read(id: string): QuarantineEntry {
    if (!ID_PATTERN.test(id))
      throw new UserError('USAGE', `quarantine: ${JSON.stringify(id)} is not a quarantine id`);
    const entryDir = join(this.dir, id);
    if (!existsSync(entryDir)) throw new UserError('USAGE', `quarantine: no entry ${id} in ${this.dir}`);
    const status = existsSync(join(entryDir, 'restored.json'))
      ? 'restored'
      : existsSync(join(entryDir, 'complete'))
        ? 'complete'
        : 'incomplete';
    const journal = existsSync(join(entryDir, 'journal.ndjson'))
      ? readFileSync(join(entryDir, 'journal.ndjson'), 'utf8')
      : '';
    const items = journal
      .split('\n')
      .filter((line) => line.trim())
      .flatMap((line) => {
        try {
          return [QuarantineItemSchema.parse(JSON.parse(line))];
        } catch {
          return []; // a line torn by a crash: its original was not removed
        }
      });
    const reason = existsSync(join(entryDir, 'reason.txt'))
      ? readFileSync(join(entryDir, 'reason.txt'), 'utf8')
      : '';
    return { id, createdAt: idToDate(id), reason, status, items };
  }

  /**
   * Puts every item of an entry back, byte for byte, with mode, owner and times. Refuses before touching anything
   * when a path is now taken by something else; a path already holding the same content counts as restored.
   */
  restore(id: string): { restored: number; alreadyInPlace: number } {
    const entry = this.read(id);
    if (entry.status === 'restored')
      throw new UserError('USAGE', `quarantine: entry ${id} was already restored`);
    const entryDir = join(this.dir, id);
    const inPlace = new Set<string>();
    for (const item of entry.items) {
      const existing = lstatOrUndefined(item.path);
      if (!existing) continue;
      const same =
        (item.kind === 'dir' && existing.isDirectory()) ||
        (item.kind === 'symlink' && existing.isSymbolicLink() && readlinkSync(item.path) === item.target) ||
        (item.kind === 'file' && existing.isFile() && sha256OfFile(item.path) === item.sha256);
      if (!same)
        throw new UserError('USAGE', `quarantine: cannot restore ${item.path}: something else is there now`);
      inPlace.add(item.path);
    }
    let restored = 0;
    const items = [...entry.items].reverse();
    for (const item of items) {
      if (inPlace.has(item.path)) continue;
      mkdirSync(dirname(item.path), { recursive: true });
      if (item.kind === 'dir') mkdirSync(item.path, { mode: item.mode & 0o7777 });
      else if (item.kind === 'symlink') symlinkSync(item.target ?? '', item.path);
      else this.restoreFile(entryDir, item);
      setOwner(item);
      restored++;
    }
    // Folder times last, since restoring their contents changed them.
    for (const item of items) {
      if (item.kind !== 'symlink') utimesSync(item.path, item.atimeMs / 1000, item.mtimeMs / 1000);
    }
    writeFileSync(
      join(entryDir, 'restored.json'),
      JSON.stringify({ restoredAt: new Date().toISOString(), restored }),
    );
    rmSync(join(entryDir, 'payload'), { recursive: true, force: true });
    return { restored, alreadyInPlace: inPlace.size };
  }

  private restoreFile(entryDir: string, item: QuarantineItem): void {
    const temp = `${item.path}.chainsweep-restore`;
    const input = openSync(join(entryDir, 'payload', item.payload ?? ''), 'r');
    const output = openSync(temp, 'wx', 0o600);
    const hash = createHash('sha256');
    try {
      const buffer = Buffer.allocUnsafe(CHUNK);
      let position = 0;
      for (
        let n = readSync(input, buffer, 0, CHUNK, position);
        n > 0;
        n = readSync(input, buffer, 0, CHUNK, position)
      ) {
        const plain = xor(buffer.subarray(0, n), position);
        hash.update(plain);
        writeSync(output, plain);
        position += n;
      }
      fsyncSync(output);
    } finally {
      closeSync(input);
      closeSync(output);
    }
    if (hash.digest('hex') !== item.sha256) {
      unlinkSync(temp);
      throw new UserError(
        'PACK_TAMPERED',
        `quarantine: stored copy of ${item.path} does not match its SHA-256; left in quarantine`,
      );
    }
    renameSync(temp, item.path);
    chmodSync(item.path, item.mode & 0o7777);
  }
}

/** Moves paths of one entry into quarantine. */
export class QuarantineWriter {
  private next = 0;
  private readonly journal: number;
  readonly items: QuarantineItem[] = [];
  /** Paths left in place (special files, and the folders that therefore could not be removed). */
  readonly leftInPlace: { path: string; message: string }[] = [];

  constructor(
    readonly id: string,
    private readonly entryDir: string,
    readonly reason: string,
  ) {
    this.journal = openSync(join(entryDir, 'journal.ndjson'), 'a', 0o600);
  }

  /**
   * Quarantines `path` (a file, a symlink, or a folder with everything in it), never following symlinks. Returns
   * false when something had to be left in place (see `leftInPlace`).
   */
  add(path: string): boolean {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) {
      this.record({ ...meta(path, stat), kind: 'symlink', target: readlinkSync(path) });
      unlinkSync(path);
      return true;
    }
    if (stat.isDirectory()) {
      let all = true;
      for (const name of readdirSync(path)) all = this.add(join(path, name)) && all;
      if (!all) {
        this.leftInPlace.push({ path, message: 'folder kept: something inside it was left in place' });
        return false;
      }
      this.record({ ...meta(path, stat), kind: 'dir' });
      rmdirSync(path);
      return true;
    }
    if (stat.isFile()) {
      this.addFile(path);
      return true;
    }
    this.leftInPlace.push({ path, message: 'not a regular file, folder or symlink' });
    return false;
  }

  /** Marks the entry complete. */
  finish(): QuarantineEntry {
    closeSync(this.journal);
    writeFileSync(join(this.entryDir, 'complete'), '');
    return {
      id: this.id,
      createdAt: idToDate(this.id),
      reason: this.reason,
      status: 'complete',
      items: this.items,
    };
  }

  private addFile(path: string): void {
    const payload = String(this.next++);
    const temp = join(this.entryDir, 'payload', `${payload}.tmp`);
    const input = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    const output = openSync(temp, 'wx', 0o600);
    const hash = createHash('sha256');
    let size = 0;
    let stat: ReturnType<typeof fstatSync>;
    try {
      stat = fstatSync(input);
      const buffer = Buffer.allocUnsafe(CHUNK);
      for (
        let n = readSync(input, buffer, 0, CHUNK, size);
        n > 0;
        n = readSync(input, buffer, 0, CHUNK, size)
      ) {
        const plain = buffer.subarray(0, n);
        hash.update(plain);
        writeSync(output, xor(plain, size));
        size += n;
      }
      fsyncSync(output);
    } finally {
      closeSync(input);
      closeSync(output);
    }
    renameSync(temp, join(this.entryDir, 'payload', payload));
    this.record({ ...meta(path, stat), kind: 'file', size, sha256: hash.digest('hex'), payload });
    unlinkSync(path);
  }

  private record(item: QuarantineItem): void {
    writeSync(this.journal, `${JSON.stringify(item)}\n`);
    fsyncSync(this.journal);
    this.items.push(item);
  }
}

function meta(
  path: string,
  stat: { mode: number; uid: number; gid: number; atimeMs: number; mtimeMs: number },
) {
  return {
    path,
    mode: stat.mode,
    uid: stat.uid,
    gid: stat.gid,
    atimeMs: stat.atimeMs,
    mtimeMs: stat.mtimeMs,
  };
}

function xor(data: Buffer, position: number): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  for (let i = 0; i < data.length; i++)
    out[i] = (data[i] as number) ^ (KEY[(position + i) % KEY.length] as number);
  return out;
}

function sha256OfFile(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function setOwner(item: QuarantineItem): void {
  if (process.getuid?.() !== 0) return;
  try {
    lchownSync(item.path, item.uid, item.gid);
  } catch {
    // owner not restorable here (another system's ids on a foreign filesystem): content and mode still are
  }
}

function idToDate(id: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : '';
}
