/** @module Writes small registry hive files (regf) for tests; hivex reads them back in the tests. */

export interface TestKey {
  name: string;
  values?: Record<string, string | number | Buffer>;
  subkeys?: TestKey[];
}

const HBIN_HEADER = 32;

/** A hive file whose root key is `root`. Strings become REG_SZ, numbers REG_DWORD, buffers REG_BINARY. */
export function buildHive(root: TestKey): Buffer {
  const cells: Buffer[] = [];
  let next = HBIN_HEADER; // offsets are relative to the start of the hive bins
  const allocate = (data: Buffer): number => {
    const size = Math.ceil((data.length + 4) / 8) * 8;
    const cell = Buffer.alloc(size);
    cell.writeInt32LE(-size, 0);
    data.copy(cell, 4);
    const offset = next;
    cells.push(cell);
    next += size;
    return offset;
  };

  // One shared security cell (a self-relative descriptor with a NULL DACL), as real hives have for every key.
  const descriptor = Buffer.from([1, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const skData = Buffer.alloc(20 + descriptor.length);
  skData.write('sk', 0, 'latin1');
  skData.writeUInt32LE(descriptor.length, 16);
  descriptor.copy(skData, 20);
  const sk = allocate(skData);
  const skCell = cells[cells.length - 1] as Buffer;
  skCell.writeUInt32LE(sk, 4 + 4);
  skCell.writeUInt32LE(sk, 4 + 8);
  let keyCount = 0;

  const writeKey = (key: TestKey, parent: number, isRoot: boolean): number => {
    keyCount++;
    const name = Buffer.from(key.name, 'latin1');
    const valueOffsets = Object.entries(key.values ?? {}).map(([valueName, value]) =>
      writeValue(valueName, value),
    );
    const valuesList = valueOffsets.length ? allocate(Buffer.concat(valueOffsets.map(u32))) : 0xffffffff;
    const nk = Buffer.alloc(76 + name.length);
    nk.write('nk', 0, 'latin1');
    nk.writeUInt16LE(isRoot ? 0x2c : 0x20, 2);
    nk.writeUInt32LE(parent, 16);
    nk.writeUInt32LE(0xffffffff, 32);
    nk.writeUInt32LE(valueOffsets.length, 36);
    nk.writeUInt32LE(valuesList, 40);
    nk.writeUInt32LE(sk, 44);
    nk.writeUInt32LE(0xffffffff, 48);
    nk.writeUInt16LE(name.length, 72);
    name.copy(nk, 76);
    const offset = allocate(nk);
    const nkCell = cells[cells.length - 1] as Buffer;
    // Windows keeps subkey lists sorted by upper-cased name, ordinally.
    const subkeys = [...(key.subkeys ?? [])].sort((a, b) =>
      a.name.toUpperCase() < b.name.toUpperCase() ? -1 : 1,
    );
    const children = subkeys.map((child) => writeKey(child, offset, false));
    if (children.length) {
      const lf = Buffer.alloc(4 + children.length * 8);
      lf.write('lf', 0, 'latin1');
      lf.writeUInt16LE(children.length, 2);
      children.forEach((child, i) => {
        lf.writeUInt32LE(child, 4 + i * 8);
        lf.write((subkeys[i]?.name ?? '').slice(0, 4).padEnd(4, '\0'), 8 + i * 8, 'latin1');
      });
      nkCell.writeUInt32LE(children.length, 4 + 20);
      nkCell.writeUInt32LE(allocate(lf), 4 + 28);
    } else {
      nkCell.writeUInt32LE(0xffffffff, 4 + 28);
    }
    return offset;
  };

  const writeValue = (name: string, value: string | number | Buffer): number => {
    const nameBytes = Buffer.from(name, 'latin1');
    const [type, data] =
      typeof value === 'string'
        ? [1, Buffer.from(`${value}\0`, 'utf16le')]
        : typeof value === 'number'
          ? [4, u32(value)]
          : [3, value];
    const vk = Buffer.alloc(20 + nameBytes.length);
    vk.write('vk', 0, 'latin1');
    vk.writeUInt16LE(nameBytes.length, 2);
    vk.writeUInt32LE(type, 12);
    vk.writeUInt16LE(1, 16);
    nameBytes.copy(vk, 20);
    if (data.length <= 4) {
      vk.writeUInt32LE((data.length | 0x80000000) >>> 0, 4);
      data.copy(vk, 8);
    } else {
      vk.writeUInt32LE(data.length, 4);
      vk.writeUInt32LE(allocate(data), 8);
    }
    return allocate(vk);
  };

  const rootOffset = writeKey(root, 0xffffffff, true);
  skCell.writeUInt32LE(keyCount, 4 + 12);
  const body = Buffer.concat(cells);
  const binSize = Math.ceil((HBIN_HEADER + body.length + 8) / 4096) * 4096;
  const bin = Buffer.alloc(binSize);
  bin.write('hbin', 0, 'latin1');
  bin.writeUInt32LE(0, 4);
  bin.writeUInt32LE(binSize, 8);
  body.copy(bin, HBIN_HEADER);
  const free = binSize - HBIN_HEADER - body.length;
  bin.writeInt32LE(free, HBIN_HEADER + body.length);

  const base = Buffer.alloc(4096);
  base.write('regf', 0, 'latin1');
  base.writeUInt32LE(1, 4);
  base.writeUInt32LE(1, 8);
  base.writeUInt32LE(1, 20);
  base.writeUInt32LE(5, 24);
  base.writeUInt32LE(0, 28);
  base.writeUInt32LE(1, 32);
  base.writeUInt32LE(rootOffset, 36);
  base.writeUInt32LE(binSize, 40);
  base.writeUInt32LE(1, 44);
  let checksum = 0;
  for (let i = 0; i < 508; i += 4) checksum = (checksum ^ base.readUInt32LE(i)) >>> 0;
  base.writeUInt32LE(checksum, 508);
  return Buffer.concat([base, bin]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}

/** A hive whose `Microsoft\Windows\CurrentVersion\Uninstall` holds `entries`; `user` puts it under `Software\` as in NTUSER.DAT. */
export function uninstallHive(
  entries: Record<string, Record<string, string | number>>,
  options: { user?: boolean } = {},
): Buffer {
  const microsoft: TestKey = {
    name: 'Microsoft',
    subkeys: [
      {
        name: 'Windows',
        subkeys: [
          {
            name: 'CurrentVersion',
            subkeys: [
              {
                name: 'Uninstall',
                subkeys: Object.entries(entries).map(([name, values]) => ({ name, values })),
              },
            ],
          },
        ],
      },
    ],
  };
  return buildHive({
    name: 'ROOT',
    subkeys: options.user ? [{ name: 'Software', subkeys: [microsoft] }] : [microsoft],
  });
}
