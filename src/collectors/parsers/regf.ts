import type { ByteSource } from './byte-source.js';

/** A registry value: its name, type (REG_SZ = 1, REG_EXPAND_SZ = 2, REG_DWORD = 4, ...) and raw data. */
export interface RegistryValue {
  name: string;
  type: number;
  data: Buffer;
}

export class RegfFormatError extends Error {}

const HBINS = 4096;
const NONE = 0xffffffff;
const MAX_CELL = 16 * 1024 * 1024;

/**
 * A read-only view of a Windows registry hive file (regf: SOFTWARE, SYSTEM, NTUSER.DAT), read cell by cell from
 * its source so a 100 MB hive is never held in memory. Unflushed changes in .LOG1/.LOG2 are not applied.
 */
export class Hive {
  private constructor(
    private readonly source: ByteSource,
    private readonly rootOffset: number,
  ) {}

  /** Opens a hive; throws RegfFormatError when the base block is not a registry hive. */
  static open(source: ByteSource): Hive {
    const base = source.read(0, 512);
    if (base.length < 512 || base.toString('latin1', 0, 4) !== 'regf')
      throw new RegfFormatError('not a registry hive (no regf signature)');
    const rootOffset = base.readUInt32LE(36);
    const hive = new Hive(source, rootOffset);
    if (hive.cell(rootOffset).toString('latin1', 0, 2) !== 'nk')
      throw new RegfFormatError('root cell is not a key');
    return hive;
  }

  /** The root key. */
  root(): HiveKey {
    return new HiveKey(this, this.rootOffset);
  }

  /** The key at a backslash-separated path below the root (case-insensitive), or undefined. */
  key(path: string): HiveKey | undefined {
    let key: HiveKey | undefined = this.root();
    for (const part of path.split('\\').filter(Boolean)) key = key?.subkey(part);
    return key;
  }

  /** The data of the cell at `offset` (relative to the hive bins), without its size field. */
  cell(offset: number): Buffer {
    if (offset === NONE) throw new RegfFormatError('reference to no cell');
    const at = HBINS + offset;
    const head = this.source.read(at, 4);
    if (head.length < 4) throw new RegfFormatError(`cell at ${offset} is past the end of the hive`);
    const size = Math.abs(head.readInt32LE(0));
    if (size < 8 || size > MAX_CELL) throw new RegfFormatError(`cell at ${offset} has size ${size}`);
    const data = this.source.read(at + 4, size - 4);
    if (data.length < size - 4) throw new RegfFormatError(`cell at ${offset} is truncated`);
    return data;
  }
}

/** One registry key. */
export class HiveKey {
  readonly name: string;
  private readonly nk: Buffer;

  constructor(
    private readonly hive: Hive,
    offset: number,
  ) {
    this.nk = hive.cell(offset);
    if (this.nk.toString('latin1', 0, 2) !== 'nk' || this.nk.length < 76)
      throw new RegfFormatError(`cell at ${offset} is not a key`);
    const nameLength = this.nk.readUInt16LE(72);
    if (76 + nameLength > this.nk.length)
      throw new RegfFormatError(`key name at ${offset} runs past its cell`);
    const flags = this.nk.readUInt16LE(2);
    this.name = decodeName(this.nk.subarray(76, 76 + nameLength), (flags & 0x20) !== 0);
  }

  /** The subkeys, in stored order. */
  subkeys(): HiveKey[] {
    const count = this.nk.readUInt32LE(20);
    if (count === 0) return [];
    const offsets = this.listOffsets(this.nk.readUInt32LE(28), 0);
    return offsets.map((o) => new HiveKey(this.hive, o));
  }

  /** The subkey called `name` (case-insensitive), or undefined. */
  subkey(name: string): HiveKey | undefined {
    const wanted = name.toLowerCase();
    return this.subkeys().find((k) => k.name.toLowerCase() === wanted);
  }

  /** The values of this key. */
  values(): RegistryValue[] {
    const count = this.nk.readUInt32LE(36);
    if (count === 0) return [];
    const list = this.hive.cell(this.nk.readUInt32LE(40));
    if (list.length < count * 4) throw new RegfFormatError('values list is shorter than its count');
    return Array.from({ length: count }, (_, i) => this.readValue(list.readUInt32LE(i * 4)));
  }

  /** The value called `name` (case-insensitive; '' is the default value), or undefined. */
  value(name: string): RegistryValue | undefined {
    const wanted = name.toLowerCase();
    return this.values().find((v) => v.name.toLowerCase() === wanted);
  }

  /** A string value (REG_SZ, REG_EXPAND_SZ) as text, or a DWORD as decimal text; undefined otherwise. */
  text(name: string): string | undefined {
    const v = this.value(name);
    if (!v) return undefined;
    if (v.type === 1 || v.type === 2) return v.data.toString('utf16le').replace(/\0.*$/s, '');
    if (v.type === 4 && v.data.length >= 4) return String(v.data.readUInt32LE(0));
    return undefined;
  }

  private listOffsets(listOffset: number, depth: number): number[] {
    if (depth > 2) throw new RegfFormatError('subkey index nests too deep');
    const list = this.hive.cell(listOffset);
    const signature = list.toString('latin1', 0, 2);
    const count = list.readUInt16LE(2);
    const step = signature === 'li' || signature === 'ri' ? 4 : 8;
    if (!['lf', 'lh', 'li', 'ri'].includes(signature))
      throw new RegfFormatError(`unknown subkey list ${JSON.stringify(signature)}`);
    if (4 + count * step > list.length) throw new RegfFormatError('subkey list is shorter than its count');
    const offsets = Array.from({ length: count }, (_, i) => list.readUInt32LE(4 + i * step));
    return signature === 'ri' ? offsets.flatMap((o) => this.listOffsets(o, depth + 1)) : offsets;
  }

  private readValue(offset: number): RegistryValue {
    const vk = this.hive.cell(offset);
    if (vk.toString('latin1', 0, 2) !== 'vk' || vk.length < 20)
      throw new RegfFormatError(`cell at ${offset} is not a value`);
    const nameLength = vk.readUInt16LE(2);
    const rawSize = vk.readUInt32LE(4);
    const dataOffset = vk.readUInt32LE(8);
    const type = vk.readUInt32LE(12);
    const flags = vk.readUInt16LE(16);
    if (20 + nameLength > vk.length) throw new RegfFormatError(`value name at ${offset} runs past its cell`);
    const name = decodeName(vk.subarray(20, 20 + nameLength), (flags & 1) !== 0);
    const size = rawSize & 0x7fffffff;
    let data: Buffer;
    if (rawSize & 0x80000000) {
      data = vk.subarray(8, 8 + Math.min(4, size));
    } else if (size === 0) {
      data = Buffer.alloc(0);
    } else {
      const cell = this.hive.cell(dataOffset);
      data =
        cell.toString('latin1', 0, 2) === 'db' && size > cell.length
          ? this.bigData(cell, size)
          : cell.subarray(0, size);
      if (data.length < size) throw new RegfFormatError(`data of value ${JSON.stringify(name)} is truncated`);
    }
    return { name, type, data };
  }

  private bigData(db: Buffer, size: number): Buffer {
    const segments = db.readUInt16LE(2);
    const list = this.hive.cell(db.readUInt32LE(4));
    const parts: Buffer[] = [];
    let total = 0;
    for (let i = 0; i < segments && total < size; i++) {
      const segment = this.hive.cell(list.readUInt32LE(i * 4));
      const take = Math.min(segment.length, size - total, 16344);
      parts.push(segment.subarray(0, take));
      total += take;
    }
    return Buffer.concat(parts);
  }
}

function decodeName(bytes: Buffer, ascii: boolean): string {
  return ascii ? bytes.toString('latin1') : bytes.toString('utf16le');
}
