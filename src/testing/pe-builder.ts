/** @module Builds small, well-formed PE32+ files for tests: sections, exports, extra strings, an Authenticode table. */

export interface PeOptions {
  dll?: boolean;
  /** Names exported from .rdata (the export directory is written when non-empty). */
  exports?: string[];
  /** Bytes placed in .rdata (strings the file should contain). */
  data?: Uint8Array;
  /** An Authenticode certificate table appended at the end of the file. */
  certificate?: { pkcs7: Uint8Array; afterSignature?: Uint8Array };
  /** A VS_VERSIONINFO resource (see versionInfo()). */
  version?: Buffer;
  timestamp?: number;
}

const FILE_ALIGN = 0x200;
const SECTION_ALIGN = 0x1000;
const TEXT_RVA = 0x1000;
const RDATA_RVA = 0x2000;
const RSRC_RVA = 0x3000;

/** A PE32+ image for x64 that pefile, YARA's pe module and our own parsers accept. */
export function buildPe(options: PeOptions = {}): Buffer {
  const text = Buffer.alloc(FILE_ALIGN);
  text.set([0x31, 0xc0, 0xc3]); // xor eax, eax; ret
  const rdata = buildRdata(options.exports ?? [], options.data ?? new Uint8Array());
  const rdataRaw = Buffer.alloc(align(rdata.bytes.length || 1, FILE_ALIGN));
  rdataRaw.set(rdata.bytes);

  const rsrc = options.version ? resourceSection(options.version) : undefined;
  const rsrcRaw = rsrc ? Buffer.alloc(align(rsrc.length, FILE_ALIGN)) : Buffer.alloc(0);
  if (rsrc) rsrcRaw.set(rsrc);

  const headersSize = FILE_ALIGN;
  const textOffset = headersSize;
  const rdataOffset = textOffset + text.length;
  const rsrcOffset = rdataOffset + rdataRaw.length;
  const imageEnd = rsrcOffset + rsrcRaw.length;
  const sizeOfImage = rsrc
    ? RSRC_RVA + align(rsrcRaw.length, SECTION_ALIGN)
    : RDATA_RVA + align(rdataRaw.length, SECTION_ALIGN);

  const headers = Buffer.alloc(headersSize);
  headers.write('MZ', 0, 'latin1');
  headers.writeUInt32LE(0x40, 0x3c);
  headers.write('PE\0\0', 0x40, 'latin1');
  const coff = 0x44;
  headers.writeUInt16LE(0x8664, coff);
  headers.writeUInt16LE(rsrc ? 3 : 2, coff + 2);
  headers.writeUInt32LE(options.timestamp ?? 0x63f0_0000, coff + 4);
  headers.writeUInt16LE(240, coff + 16);
  headers.writeUInt16LE(options.dll ? 0x2022 : 0x0022, coff + 18);

  const opt = coff + 20;
  headers.writeUInt16LE(0x20b, opt);
  headers.writeUInt8(14, opt + 2);
  headers.writeUInt32LE(text.length, opt + 4);
  headers.writeUInt32LE(rdataRaw.length, opt + 8);
  headers.writeUInt32LE(TEXT_RVA, opt + 16);
  headers.writeUInt32LE(TEXT_RVA, opt + 20);
  headers.writeBigUInt64LE(options.dll ? 0x1_8000_0000n : 0x1_4000_0000n, opt + 24);
  headers.writeUInt32LE(SECTION_ALIGN, opt + 32);
  headers.writeUInt32LE(FILE_ALIGN, opt + 36);
  headers.writeUInt16LE(6, opt + 40);
  headers.writeUInt16LE(6, opt + 48);
  headers.writeUInt32LE(sizeOfImage, opt + 56);
  headers.writeUInt32LE(headersSize, opt + 60);
  headers.writeUInt16LE(2, opt + 68);
  headers.writeUInt16LE(0x8160, opt + 70);
  headers.writeBigUInt64LE(0x10_0000n, opt + 72);
  headers.writeBigUInt64LE(0x1000n, opt + 80);
  headers.writeBigUInt64LE(0x10_0000n, opt + 88);
  headers.writeBigUInt64LE(0x1000n, opt + 96);
  headers.writeUInt32LE(16, opt + 108);
  const dirs = opt + 112;
  if (rdata.exportSize) {
    headers.writeUInt32LE(RDATA_RVA, dirs);
    headers.writeUInt32LE(rdata.exportSize, dirs + 4);
  }
  if (rsrc) {
    headers.writeUInt32LE(RSRC_RVA, dirs + 2 * 8);
    headers.writeUInt32LE(rsrc.length, dirs + 2 * 8 + 4);
  }

  const sections = opt + 240;
  writeSection(headers, sections, '.text', text.length, TEXT_RVA, text.length, textOffset, 0x6000_0020);
  writeSection(
    headers,
    sections + 40,
    '.rdata',
    rdata.bytes.length || 1,
    RDATA_RVA,
    rdataRaw.length,
    rdataOffset,
    0x4000_0040,
  );

  if (rsrc)
    writeSection(
      headers,
      sections + 80,
      '.rsrc',
      rsrc.length,
      RSRC_RVA,
      rsrcRaw.length,
      rsrcOffset,
      0x4000_0040,
    );

  const parts: Buffer[] = [headers, text, rdataRaw, rsrcRaw];
  if (options.certificate) {
    const { pkcs7, afterSignature = new Uint8Array() } = options.certificate;
    const body = Buffer.concat([Buffer.from(pkcs7), Buffer.from(afterSignature)]);
    const length = align(8 + body.length, 8);
    const table = Buffer.alloc(length);
    table.writeUInt32LE(length, 0);
    table.writeUInt16LE(0x0200, 4);
    table.writeUInt16LE(0x0002, 6);
    table.set(body, 8);
    headers.writeUInt32LE(imageEnd, dirs + 4 * 8);
    headers.writeUInt32LE(length, dirs + 4 * 8 + 4);
    parts.push(table);
  }
  return Buffer.concat(parts);
}

/** A DER SEQUENCE shaped like a PKCS#7 SignedData ContentInfo of `contentLength` filler bytes. */
export function fakePkcs7(contentLength = 600): Buffer {
  const oid = Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]);
  const inner = Buffer.concat([derHeader(0x30, contentLength), Buffer.alloc(contentLength, 0x5a)]);
  const explicit = Buffer.concat([derHeader(0xa0, inner.length), inner]);
  const body = Buffer.concat([oid, explicit]);
  return Buffer.concat([derHeader(0x30, body.length), body]);
}

function derHeader(tag: number, length: number): Buffer {
  if (length < 0x80) return Buffer.from([tag, length]);
  if (length < 0x100) return Buffer.from([tag, 0x81, length]);
  return Buffer.from([tag, 0x82, length >> 8, length & 0xff]);
}

function buildRdata(exports: string[], data: Uint8Array): { bytes: Buffer; exportSize: number } {
  if (exports.length === 0) return { bytes: Buffer.from(data), exportSize: 0 };
  const names = [...exports].sort();
  const dllName = 'module.dll\0';
  const dirSize = 40;
  const functionsOff = dirSize;
  const namesOff = functionsOff + 4 * names.length;
  const ordinalsOff = namesOff + 4 * names.length;
  let stringsOff = ordinalsOff + 2 * names.length;
  const strings: Buffer[] = [];
  const nameRvas: number[] = [];
  const dllNameRva = RDATA_RVA + stringsOff;
  strings.push(Buffer.from(dllName, 'latin1'));
  stringsOff += dllName.length;
  for (const name of names) {
    nameRvas.push(RDATA_RVA + stringsOff);
    const bytes = Buffer.from(`${name}\0`, 'latin1');
    strings.push(bytes);
    stringsOff += bytes.length;
  }
  const table = Buffer.alloc(ordinalsOff + 2 * names.length);
  table.writeUInt32LE(dllNameRva, 12);
  table.writeUInt32LE(1, 16);
  table.writeUInt32LE(names.length, 20);
  table.writeUInt32LE(names.length, 24);
  table.writeUInt32LE(RDATA_RVA + functionsOff, 28);
  table.writeUInt32LE(RDATA_RVA + namesOff, 32);
  table.writeUInt32LE(RDATA_RVA + ordinalsOff, 36);
  names.forEach((_, i) => {
    table.writeUInt32LE(TEXT_RVA, functionsOff + 4 * i);
    table.writeUInt32LE(nameRvas[i] ?? 0, namesOff + 4 * i);
    table.writeUInt16LE(i, ordinalsOff + 2 * i);
  });
  const exportBytes = Buffer.concat([table, ...strings]);
  return { bytes: Buffer.concat([exportBytes, Buffer.from(data)]), exportSize: exportBytes.length };
}

function writeSection(
  headers: Buffer,
  at: number,
  name: string,
  virtualSize: number,
  rva: number,
  rawSize: number,
  rawOffset: number,
  characteristics: number,
): void {
  headers.write(name, at, 'latin1');
  headers.writeUInt32LE(virtualSize, at + 8);
  headers.writeUInt32LE(rva, at + 12);
  headers.writeUInt32LE(rawSize, at + 16);
  headers.writeUInt32LE(rawOffset, at + 20);
  headers.writeUInt32LE(characteristics, at + 36);
}

function align(value: number, to: number): number {
  return Math.ceil(value / to) * to;
}

/** A VS_VERSIONINFO block: fixed file info from `fileVersion`/`productVersion` and the given StringFileInfo strings. */
export function versionInfo(options: {
  fileVersion: string;
  productVersion?: string;
  strings: Record<string, string>;
  language?: string;
}): Buffer {
  const quad = (v: string) => {
    const [a = 0, b = 0, c = 0, d = 0] = v.split('.').map(Number);
    return [((a & 0xffff) << 16) | (b & 0xffff), ((c & 0xffff) << 16) | (d & 0xffff)];
  };
  const fixed = Buffer.alloc(52);
  fixed.writeUInt32LE(0xfeef04bd, 0);
  fixed.writeUInt32LE(0x00010000, 4);
  const [fms = 0, fls = 0] = quad(options.fileVersion);
  const [pms = 0, pls = 0] = quad(options.productVersion ?? options.fileVersion);
  fixed.writeUInt32LE(fms >>> 0, 8);
  fixed.writeUInt32LE(fls >>> 0, 12);
  fixed.writeUInt32LE(pms >>> 0, 16);
  fixed.writeUInt32LE(pls >>> 0, 20);
  fixed.writeUInt32LE(0x00040004, 40);
  fixed.writeUInt32LE(options.fileVersion.includes('.') ? 1 : 0, 44);
  const strings = Object.entries(options.strings).map(([key, value]) => versionNode(key, value, []));
  const table = versionNode(options.language ?? '040904b0', undefined, strings);
  const stringFileInfo = versionNode('StringFileInfo', undefined, [table]);
  const translation = Buffer.from([0x09, 0x04, 0xb0, 0x04]);
  const varFileInfo = versionNode('VarFileInfo', undefined, [versionNode('Translation', translation, [])]);
  return versionNode('VS_VERSION_INFO', fixed, [stringFileInfo, varFileInfo]);
}

/** One node of a version resource: header, UTF-16 key, value (text or binary), children, 4-byte aligned. */
function versionNode(key: string, value: string | Buffer | undefined, childNodes: Buffer[]): Buffer {
  const keyBytes = Buffer.from(`${key}\0`, 'utf16le');
  const isText = typeof value === 'string';
  const valueBytes =
    value === undefined ? Buffer.alloc(0) : isText ? Buffer.from(`${value}\0`, 'utf16le') : value;
  const head = Buffer.alloc(6);
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  let body = pad(Buffer.concat([head, keyBytes]));
  if (valueBytes.length) body = pad(Buffer.concat([body, valueBytes]));
  const withChildren = Buffer.concat([body, ...childNodes.map(pad)]);
  withChildren.writeUInt16LE(withChildren.length, 0);
  withChildren.writeUInt16LE(isText ? valueBytes.length / 2 : valueBytes.length, 2);
  withChildren.writeUInt16LE(isText ? 1 : 0, 4);
  return withChildren;
}

/** A .rsrc section holding one RT_VERSION resource (id 1, language 0x409). */
function resourceSection(version: Buffer): Buffer {
  const dir = (entries: [number, number][]) => {
    const b = Buffer.alloc(16 + entries.length * 8);
    b.writeUInt16LE(entries.length, 14);
    entries.forEach(([id, target], i) => {
      b.writeUInt32LE(id, 16 + i * 8);
      b.writeUInt32LE(target >>> 0, 20 + i * 8);
    });
    return b;
  };
  const root = dir([[16, 0x80000000 | 24]]);
  const names = dir([[1, 0x80000000 | 48]]);
  const languages = dir([[0x409, 72]]);
  const dataEntry = Buffer.alloc(16);
  dataEntry.writeUInt32LE(RSRC_RVA + 88, 0);
  dataEntry.writeUInt32LE(version.length, 4);
  return Buffer.concat([root, names, languages, dataEntry, version]);
}
