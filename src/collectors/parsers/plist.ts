/** A property-list value. */
export type PlistValue =
  | string
  | number
  | bigint
  | boolean
  | Date
  | Buffer
  | PlistValue[]
  | { [key: string]: PlistValue }
  | null;

export class PlistFormatError extends Error {}

/** Parses a property list in binary (`bplist00`) or XML form; anything else is a PlistFormatError. */
export function parsePlist(bytes: Buffer): PlistValue {
  if (bytes.subarray(0, 8).toString('latin1') === 'bplist00') return parseBinaryPlist(bytes);
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (/^\s*<(\?xml|!DOCTYPE|plist)/.test(text)) return parseXmlPlist(text);
  throw new PlistFormatError('neither a binary nor an XML property list');
}

function parseBinaryPlist(buf: Buffer): PlistValue {
  if (buf.length < 40) throw new PlistFormatError('binary plist is truncated');
  const trailer = buf.length - 32;
  const offsetSize = buf[trailer + 6] as number;
  const refSize = buf[trailer + 7] as number;
  const count = Number(buf.readBigUInt64BE(trailer + 8));
  const top = Number(buf.readBigUInt64BE(trailer + 16));
  const tableOffset = Number(buf.readBigUInt64BE(trailer + 24));
  if (
    !offsetSize ||
    !refSize ||
    offsetSize > 8 ||
    refSize > 8 ||
    top >= count ||
    tableOffset + count * offsetSize > trailer
  ) {
    throw new PlistFormatError('binary plist trailer is inconsistent');
  }
  const uint = (at: number, size: number) => {
    if (at + size > buf.length) throw new PlistFormatError('binary plist read past its end');
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + (buf[at + i] as number);
    return v;
  };
  const offsetOf = (ref: number) => {
    if (ref >= count) throw new PlistFormatError(`object reference ${ref} out of range`);
    return uint(tableOffset + ref * offsetSize, offsetSize);
  };
  const visiting = new Set<number>();

  const object = (ref: number): PlistValue => {
    if (visiting.has(ref)) throw new PlistFormatError('binary plist contains a reference cycle');
    visiting.add(ref);
    try {
      return decode(offsetOf(ref));
    } finally {
      visiting.delete(ref);
    }
  };

  const lengthAt = (at: number): [number, number] => {
    const low = (buf[at] as number) & 0x0f;
    if (low !== 0x0f) return [low, at + 1];
    const marker = buf[at + 1] as number;
    if (marker >> 4 !== 0x1) throw new PlistFormatError('bad length marker');
    const size = 1 << (marker & 0x0f);
    return [uint(at + 2, size), at + 2 + size];
  };

  const decode = (at: number): PlistValue => {
    if (at >= trailer) throw new PlistFormatError('object offset points into the trailer');
    const marker = buf[at] as number;
    const type = marker >> 4;
    switch (type) {
      case 0x0:
        if (marker === 0x08) return false;
        if (marker === 0x09) return true;
        return null;
      case 0x1: {
        const size = 1 << (marker & 0x0f);
        if (size === 8)
          return buf.readBigInt64BE(at + 1) <= BigInt(Number.MAX_SAFE_INTEGER)
            ? Number(buf.readBigInt64BE(at + 1))
            : buf.readBigInt64BE(at + 1);
        return uint(at + 1, size);
      }
      case 0x2:
        return (marker & 0x0f) === 2 ? buf.readFloatBE(at + 1) : buf.readDoubleBE(at + 1);
      case 0x3:
        return new Date(Date.UTC(2001, 0, 1) + buf.readDoubleBE(at + 1) * 1000);
      case 0x4: {
        const [n, start] = lengthAt(at);
        return Buffer.from(slice(start, n));
      }
      case 0x5: {
        const [n, start] = lengthAt(at);
        return slice(start, n).toString('latin1');
      }
      case 0x6: {
        const [n, start] = lengthAt(at);
        const utf16be = Buffer.from(slice(start, n * 2));
        return utf16be.swap16().toString('utf16le');
      }
      case 0x8:
        return uint(at + 1, (marker & 0x0f) + 1);
      case 0xa: {
        const [n, start] = lengthAt(at);
        return Array.from({ length: n }, (_, i) => object(uint(start + i * refSize, refSize)));
      }
      case 0xd: {
        const [n, start] = lengthAt(at);
        const dict: { [key: string]: PlistValue } = {};
        for (let i = 0; i < n; i++) {
          const key = object(uint(start + i * refSize, refSize));
          if (typeof key !== 'string') throw new PlistFormatError('dictionary key is not a string');
          dict[key] = object(uint(start + (n + i) * refSize, refSize));
        }
        return dict;
      }
      default:
        throw new PlistFormatError(`unknown object marker 0x${marker.toString(16)}`);
    }
  };

  const slice = (start: number, length: number) => {
    if (start + length > trailer) throw new PlistFormatError('object runs past the end of the plist');
    return buf.subarray(start, start + length);
  };

  return object(top);
}

function parseXmlPlist(text: string): PlistValue {
  const tokens = [
    ...text.matchAll(
      /<!--[\s\S]*?-->|<!\[CDATA\[([\s\S]*?)\]\]>|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<(\/?)([A-Za-z]+)[^>]*?(\/?)>|([^<]+)/g,
    ),
  ];
  let i = 0;
  const nextTag = () => {
    while (i < tokens.length) {
      const t = tokens[i] as RegExpMatchArray;
      if (t[3]) return t;
      if (t[5] !== undefined && t[5].trim() !== '')
        throw new PlistFormatError(`unexpected text ${JSON.stringify(t[5].trim().slice(0, 40))}`);
      i++;
    }
    throw new PlistFormatError('XML plist ends too early');
  };
  const textUntilClose = (name: string): string => {
    let out = '';
    for (;;) {
      const t = tokens[i++];
      if (!t) throw new PlistFormatError(`<${name}> is not closed`);
      if (t[3]) {
        if (t[2] === '/' && t[3] === name) return out;
        throw new PlistFormatError(`<${t[3]}> inside <${name}>`);
      }
      if (t[1] !== undefined) out += t[1];
      else if (t[5] !== undefined) out += decodeEntities(t[5]);
    }
  };
  const value = (): PlistValue => {
    const t = nextTag();
    i++;
    const name = t[3] as string;
    if (t[2] === '/') throw new PlistFormatError(`unexpected </${name}>`);
    const selfClosing = t[4] === '/';
    switch (name) {
      case 'plist': {
        const inner = value();
        expectClose('plist');
        return inner;
      }
      case 'dict': {
        const dict: { [key: string]: PlistValue } = {};
        if (selfClosing) return dict;
        for (;;) {
          const k = nextTag();
          if (k[2] === '/' && k[3] === 'dict') {
            i++;
            return dict;
          }
          if (k[3] !== 'key') throw new PlistFormatError(`expected <key> in <dict>, found <${k[3]}>`);
          i++;
          const key = textUntilClose('key');
          dict[key] = value();
        }
      }
      case 'array': {
        const list: PlistValue[] = [];
        if (selfClosing) return list;
        for (;;) {
          const k = nextTag();
          if (k[2] === '/' && k[3] === 'array') {
            i++;
            return list;
          }
          list.push(value());
        }
      }
      case 'string':
        return selfClosing ? '' : textUntilClose('string');
      case 'integer': {
        const s = textUntilClose('integer').trim();
        if (!/^[+-]?\d+$/.test(s)) throw new PlistFormatError(`bad <integer> ${JSON.stringify(s)}`);
        return Number(s);
      }
      case 'real':
        return Number(textUntilClose('real').trim());
      case 'true':
      case 'false':
        if (!selfClosing) textUntilClose(name);
        return name === 'true';
      case 'date':
        return new Date(textUntilClose('date').trim());
      case 'data':
        return Buffer.from(textUntilClose('data').replace(/\s+/g, ''), 'base64');
      default:
        throw new PlistFormatError(`unknown plist element <${name}>`);
    }
  };
  const expectClose = (name: string) => {
    const t = nextTag();
    if (t[2] !== '/' || t[3] !== name) throw new PlistFormatError(`expected </${name}>`);
    i++;
  };
  return value();
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e] ?? '';
  });
}
