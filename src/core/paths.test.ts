import { describe, expect, it } from 'vitest';
import { displayPath, joinPath, pathKey, pathText, reportedPath } from './paths.js';

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

/** Reverses displayPath, to check that the escaping loses nothing. */
function undisplay(shown: string): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < shown.length; ) {
    if (shown[i] === '\\' && shown[i + 1] === '\\') {
      out.push(Buffer.from('\\'));
      i += 2;
    } else if (shown[i] === '\\' && shown[i + 1] === 'x') {
      out.push(Buffer.from([Number.parseInt(shown.slice(i + 2, i + 4), 16)]));
      i += 4;
    } else if (shown[i] === '\\' && shown[i + 1] === 'u') {
      const end = shown.indexOf('}', i);
      out.push(Buffer.from(String.fromCodePoint(Number.parseInt(shown.slice(i + 3, end), 16))));
      i = end + 1;
    } else {
      const char = String.fromCodePoint(shown.codePointAt(i) as number);
      out.push(Buffer.from(char));
      i += char.length;
    }
  }
  return Buffer.concat(out);
}

describe('displayPath', () => {
  it('passes plain and non-ASCII UTF-8 names unchanged, as text or as bytes', () => {
    for (const name of ['/home/alice/d3dcompiler_47.dll', '/tmp/Zürich café/日本語.txt', 'C:/Users/a b']) {
      expect(displayPath(name)).toBe(name);
      expect(displayPath(Buffer.from(name))).toBe(name);
    }
  });

  it('escapes bytes that are not UTF-8, and control characters, so no name can break a line', () => {
    expect(displayPath(bytes('/x/evil', [0xff], '.dll'))).toBe('/x/evil\\xFF.dll');
    expect(displayPath(bytes('a', [0xc3], 'b', [0xe2, 0x82], 'c'))).toBe('a\\xC3b\\xE2\\x82c');
    expect(displayPath(bytes([0xed, 0xa0, 0x80]))).toBe('\\xED\\xA0\\x80'); // an encoded surrogate is not UTF-8
    expect(displayPath(bytes([0xc0, 0xaf]))).toBe('\\xC0\\xAF'); // overlong "/"
    expect(displayPath('x\nresult: no findings')).toBe('x\\x0Aresult: no findings');
    expect(displayPath('a\rb\tc\x1b[2Jd\x7fe')).toBe('a\\x0Db\\x09c\\x1B[2Jd\\x7Fe');
    expect(displayPath('a\u0085b\u2028c\u202ed')).toBe('a\\u{85}b\\u{2028}c\\u{202E}d');
    expect(displayPath('lone \ud800 surrogate')).toBe('lone \\u{D800} surrogate');
    expect(displayPath('x\nresult: no findings')).not.toContain('\n');
  });

  it('is unambiguous: a backslash that could be read as an escape is doubled', () => {
    expect(displayPath('C:\\Users\\alice')).toBe('C:\\Users\\alice');
    expect(displayPath('/tmp/evil\\xFF.dll')).toBe('/tmp/evil\\\\xFF.dll');
    expect(displayPath('/tmp/\\u{41}')).toBe('/tmp/\\\\u{41}');
    expect(displayPath('a\\\\b')).toBe('a\\\\\\b');
    expect(displayPath(bytes('a\\', [0xff]))).toBe('a\\\\\\xFF');
    expect(displayPath('a\\\n')).toBe('a\\\\\\x0A');
    const samples = [
      bytes('/tmp/evil', [0xff], '.dll'),
      bytes('/tmp/evil\\xFF.dll'),
      bytes('a\\', [0xff]),
      bytes('a\\\\', [0x0a], '\\u{41}\\'),
      bytes([0xf0, 0x9f, 0x98, 0x80], '\\', [0xf0, 0x9f], '\\x'),
      bytes('\\'),
    ];
    const shown = samples.map((s) => displayPath(s));
    expect(new Set(shown).size).toBe(samples.length);
    for (const [i, s] of samples.entries()) expect(undisplay(shown[i] as string)).toEqual(s);
  });
});

describe('host paths', () => {
  it('joins names to folders as text while both are UTF-8, else as bytes', () => {
    expect(joinPath('/a', 'b')).toBe('/a/b');
    expect(joinPath('/', 'b')).toBe('/b');
    const joined = joinPath('/a', bytes([0xff]));
    expect(joined).toEqual(bytes('/a/', [0xff]));
    expect(joinPath(joined, 'c')).toEqual(bytes('/a/', [0xff], '/c'));
  });

  it('reports bytes that are not UTF-8 as escaped text with the exact bytes in base64', () => {
    expect(reportedPath('/a/x\ny')).toEqual({ path: '/a/x\ny' });
    const raw = bytes('/a/', [0xff]);
    expect(reportedPath(raw)).toEqual({ path: '/a/\\xFF', pathBytes: raw.toString('base64') });
    expect(reportedPath(new Uint8Array(raw))).toEqual({
      path: '/a/\\xFF',
      pathBytes: raw.toString('base64'),
    });
    expect(pathText(raw)).toBe('/a/\ufffd');
    expect(pathKey(raw)).not.toBe(pathKey('/a/\ufffd'));
    expect(pathKey(new Uint8Array(raw))).toBe(pathKey(raw));
  });
});
