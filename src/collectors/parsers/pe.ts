import type { ByteSource } from './byte-source.js';

/** The parts of a PE image's headers we use. */
export interface PeHeaders {
  is64: boolean;
  machine: number;
  isDll: boolean;
  sections: {
    name: string;
    virtualAddress: number;
    virtualSize: number;
    rawOffset: number;
    rawSize: number;
  }[];
  /** Data directories by index (0 export ... 4 security ... 2 resource): RVA (file offset for security) and size. */
  dataDirectories: { address: number; size: number }[];
}

/** Version facts from the VS_VERSIONINFO resource. */
export interface PeVersionInfo {
  /** From VS_FIXEDFILEINFO, as a.b.c.d. */
  fileVersion?: string;
  productVersion?: string;
  /** The StringFileInfo strings (FileVersion, ProductVersion, ProductName, CompanyName, FileDescription, ...). */
  strings: Record<string, string>;
}

/** What the Authenticode certificate table holds beyond the signature it declares (CVE-2013-3900). */
export interface CertificateTableCheck {
  tableOffset: number;
  tableSize: number;
  /** Bytes after the end of the DER-encoded PKCS#7 inside WIN_CERTIFICATE entries, beyond 8-byte alignment. */
  extraBytes: number;
  /** File offset where the first extra byte sits. */
  extraOffset?: number;
  /** Offset of FE ED FA CE among the extra bytes, when present. */
  feedfaceOffset?: number;
}

export class PeFormatError extends Error {}

const RT_VERSION = 16;

/** Parses DOS, COFF and optional headers and the section table; throws PeFormatError on anything malformed. */
export function parsePeHeaders(source: ByteSource): PeHeaders {
  const dos = source.read(0, 64);
  if (dos.length < 64 || dos.readUInt16LE(0) !== 0x5a4d) throw new PeFormatError('not an MZ executable');
  const peOffset = dos.readUInt32LE(0x3c);
  if (peOffset === 0 || peOffset > source.size - 24)
    throw new PeFormatError(`PE header offset ${peOffset} is outside the file`);
  const coff = source.read(peOffset, 24);
  if (coff.length < 24 || coff.readUInt32LE(0) !== 0x00004550) throw new PeFormatError('no PE signature');
  const machine = coff.readUInt16LE(4);
  const sectionCount = coff.readUInt16LE(6);
  const optionalSize = coff.readUInt16LE(20);
  const characteristics = coff.readUInt16LE(22);
  const optional = source.read(peOffset + 24, optionalSize);
  if (optional.length < optionalSize || optionalSize < 2)
    throw new PeFormatError('optional header is truncated');
  const magic = optional.readUInt16LE(0);
  if (magic !== 0x10b && magic !== 0x20b)
    throw new PeFormatError(`unknown optional header magic 0x${magic.toString(16)}`);
  const is64 = magic === 0x20b;
  const countAt = is64 ? 108 : 92;
  if (optional.length < countAt + 4)
    throw new PeFormatError('optional header too short for data directories');
  const directoryCount = Math.min(16, optional.readUInt32LE(countAt));
  const dataDirectories = [];
  for (let i = 0; i < directoryCount; i++) {
    const at = countAt + 4 + i * 8;
    if (at + 8 > optional.length) break;
    dataDirectories.push({ address: optional.readUInt32LE(at), size: optional.readUInt32LE(at + 4) });
  }
  const sectionTable = source.read(peOffset + 24 + optionalSize, sectionCount * 40);
  if (sectionTable.length < sectionCount * 40) throw new PeFormatError('section table is truncated');
  const sections = [];
  for (let i = 0; i < sectionCount; i++) {
    const at = i * 40;
    sections.push({
      name: sectionTable.toString('latin1', at, at + 8).replace(/\0.*$/s, ''),
      virtualSize: sectionTable.readUInt32LE(at + 8),
      virtualAddress: sectionTable.readUInt32LE(at + 12),
      rawSize: sectionTable.readUInt32LE(at + 16),
      rawOffset: sectionTable.readUInt32LE(at + 20),
    });
  }
  return { is64, machine, isDll: (characteristics & 0x2000) !== 0, sections, dataDirectories };
}

/** The file offset of an RVA, or undefined when no section maps it. */
export function rvaToOffset(headers: PeHeaders, rva: number): number | undefined {
  for (const s of headers.sections) {
    const span = Math.max(s.virtualSize, s.rawSize);
    if (rva >= s.virtualAddress && rva < s.virtualAddress + span) {
      const offset = s.rawOffset + (rva - s.virtualAddress);
      return offset < s.rawOffset + s.rawSize ? offset : undefined;
    }
  }
  return undefined;
}

/** Reads VS_VERSIONINFO from the resource directory; undefined when the image has none. */
export function readVersionInfo(source: ByteSource, headers: PeHeaders): PeVersionInfo | undefined {
  const dir = headers.dataDirectories[2];
  if (!dir || dir.address === 0 || dir.size === 0) return undefined;
  const base = rvaToOffset(headers, dir.address);
  if (base === undefined) throw new PeFormatError('resource directory RVA is outside every section');
  const rsrc = source.read(base, Math.min(dir.size, 16 * 1024 * 1024));

  const entries = (offset: number) => {
    if (offset + 16 > rsrc.length) throw new PeFormatError('resource directory is truncated');
    const count = rsrc.readUInt16LE(offset + 12) + rsrc.readUInt16LE(offset + 14);
    const list = [];
    for (let i = 0; i < Math.min(count, 4096); i++) {
      const at = offset + 16 + i * 8;
      if (at + 8 > rsrc.length) throw new PeFormatError('resource directory entries are truncated');
      list.push({ id: rsrc.readUInt32LE(at), target: rsrc.readUInt32LE(at + 4) });
    }
    return list;
  };
  const versionType = entries(0).find((e) => e.id === RT_VERSION && e.target & 0x80000000);
  if (!versionType) return undefined;
  const named = entries(versionType.target & 0x7fffffff).find((e) => e.target & 0x80000000);
  if (!named) return undefined;
  const language = entries(named.target & 0x7fffffff)[0];
  if (!language || language.target & 0x80000000) return undefined;
  const dataEntry = language.target;
  if (dataEntry + 16 > rsrc.length) throw new PeFormatError('resource data entry is truncated');
  const dataOffset = rvaToOffset(headers, rsrc.readUInt32LE(dataEntry));
  const dataSize = rsrc.readUInt32LE(dataEntry + 4);
  if (dataOffset === undefined) throw new PeFormatError('version resource RVA is outside every section');
  const block = source.read(dataOffset, Math.min(dataSize, 1024 * 1024));
  if (block.length < Math.min(dataSize, 1024 * 1024)) {
    throw new PeFormatError(`version resource is truncated: ${block.length} of ${dataSize} bytes`);
  }
  return parseVersionInfo(block);
}

/** Parses a VS_VERSIONINFO block: the fixed file info plus every StringFileInfo string. */
export function parseVersionInfo(block: Buffer): PeVersionInfo {
  const root = readNode(block, 0);
  if (root.key !== 'VS_VERSION_INFO')
    throw new PeFormatError(`version resource key is ${JSON.stringify(root.key)}`);
  const info: PeVersionInfo = { strings: {} };
  if (
    root.valueLength >= 52 &&
    root.valueOffset + 52 <= block.length &&
    block.readUInt32LE(root.valueOffset) === 0xfeef04bd
  ) {
    const v = root.valueOffset;
    const quad = (ms: number, ls: number) => `${ms >>> 16}.${ms & 0xffff}.${ls >>> 16}.${ls & 0xffff}`;
    info.fileVersion = quad(block.readUInt32LE(v + 8), block.readUInt32LE(v + 12));
    info.productVersion = quad(block.readUInt32LE(v + 16), block.readUInt32LE(v + 20));
  }
  for (const child of children(block, root)) {
    if (child.key !== 'StringFileInfo') continue;
    for (const table of children(block, child)) {
      for (const entry of children(block, table)) {
        if (entry.valueLength === 0) continue;
        const end = Math.min(entry.end, entry.valueOffset + entry.valueLength * 2);
        const value = block.toString('utf16le', entry.valueOffset, end).replace(/\0.*$/s, '').trim();
        if (!(entry.key in info.strings)) info.strings[entry.key] = value;
      }
    }
  }
  return info;
}

interface VersionNode {
  start: number;
  end: number;
  key: string;
  valueLength: number;
  valueOffset: number;
  childrenOffset: number;
}

function readNode(block: Buffer, start: number): VersionNode {
  if (start + 6 > block.length) throw new PeFormatError('version resource node is truncated');
  const length = block.readUInt16LE(start);
  const valueLength = block.readUInt16LE(start + 2);
  const type = block.readUInt16LE(start + 4);
  if (length < 6) throw new PeFormatError(`version resource node of length ${length}`);
  const end = Math.min(block.length, start + length);
  let keyEnd = start + 6;
  while (keyEnd + 1 < end && block.readUInt16LE(keyEnd) !== 0) keyEnd += 2;
  const key = block.toString('utf16le', start + 6, keyEnd);
  const valueOffset = align4(keyEnd + 2);
  const valueBytes = type === 1 ? valueLength * 2 : valueLength;
  return { start, end, key, valueLength, valueOffset, childrenOffset: align4(valueOffset + valueBytes) };
}

function children(block: Buffer, parent: VersionNode): VersionNode[] {
  const list: VersionNode[] = [];
  let at = parent.childrenOffset;
  while (at + 6 <= parent.end) {
    const node = readNode(block, at);
    list.push(node);
    const next = align4(at + block.readUInt16LE(at));
    if (next <= at) break;
    at = next;
  }
  return list;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * Checks the Authenticode certificate table: each WIN_CERTIFICATE declares its length, and its PKCS#7 SignedData
 * declares its own DER length. Bytes between the end of the DER and the end of the entry (past the 8-byte padding
 * the format allows) are data hidden in the signature, which WinVerifyTrust ignores (CVE-2013-3900).
 */
export function checkCertificateTable(
  source: ByteSource,
  headers: PeHeaders,
): CertificateTableCheck | undefined {
  const dir = headers.dataDirectories[4];
  if (!dir || dir.address === 0 || dir.size === 0) return undefined;
  if (dir.address + dir.size > source.size) {
    throw new PeFormatError(
      `certificate table (offset ${dir.address}, ${dir.size} bytes) runs past the end of the file`,
    );
  }
  const table = source.read(dir.address, Math.min(dir.size, 64 * 1024 * 1024));
  const check: CertificateTableCheck = { tableOffset: dir.address, tableSize: dir.size, extraBytes: 0 };
  let at = 0;
  while (at + 8 <= table.length) {
    const length = table.readUInt32LE(at);
    if (length < 8 || at + length > table.length)
      throw new PeFormatError(`WIN_CERTIFICATE at ${dir.address + at} declares ${length} bytes`);
    const derLength = derTotalLength(table, at + 8, at + length);
    const derEnd = at + 8 + derLength;
    const extra = table.subarray(derEnd, at + length);
    const padding = (8 - ((8 + derLength) % 8)) % 8;
    const nonZero = extra.findIndex((b) => b !== 0);
    if (extra.length > padding || nonZero >= 0) {
      check.extraBytes += extra.length;
      check.extraOffset ??= dir.address + derEnd;
      const marker = extra.indexOf(Buffer.from([0xfe, 0xed, 0xfa, 0xce]));
      if (marker >= 0) check.feedfaceOffset ??= dir.address + derEnd + marker;
    }
    at += align8(length);
  }
  return check;
}

/** Total length (header + content) of the DER element at `start`. */
function derTotalLength(buf: Buffer, start: number, limit: number): number {
  if (start + 2 > limit || buf[start] !== 0x30) throw new PeFormatError('certificate is not a DER SEQUENCE');
  const first = buf[start + 1] as number;
  if (first < 0x80) return 2 + first;
  const count = first & 0x7f;
  if (count === 0 || count > 4 || start + 2 + count > limit)
    throw new PeFormatError('bad DER length in certificate');
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (buf[start + 2 + i] as number);
  if (start + 2 + count + length > limit)
    throw new PeFormatError('DER length runs past the WIN_CERTIFICATE entry');
  return 2 + count + length;
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
