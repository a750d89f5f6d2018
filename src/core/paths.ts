import { isUtf8 } from 'node:buffer';
import { isAbsolute, relative, sep } from 'node:path';

/** True when `path` is `folder` or lies below it (lexically; symlinks are the caller's business). */
export function isInside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * A path as the host gave it: text while every name in it is valid UTF-8, else its exact bytes (a `Buffer`, or a
 * `Uint8Array` after crossing to a worker). Both open the same file.
 */
export type HostPath = string | Uint8Array;

/** Characters a name may hold that must not reach a terminal raw: controls, format and bidi marks, line breaks. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const UNSAFE_OR_BACKSLASH = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\\]/u;

/**
 * The one way a path (or any text from the host) is shown to people: valid UTF-8 passes unchanged, except that a
 * byte that is not UTF-8 becomes `\xFF`, an ASCII control character `\x0A`, any other control, format or bidi
 * character or lone surrogate `\u{202E}`, and a backslash that would otherwise start an escape is doubled. The
 * result never holds a line break or a terminal escape, and it is unambiguous: two different paths never show
 * the same.
 */
export function displayPath(path: HostPath): string {
  if (typeof path === 'string') return UNSAFE_OR_BACKSLASH.test(path) ? escapeText(path) : path;
  const bytes = asBuffer(path);
  if (isPlainAscii(bytes)) return bytes.toString('latin1');
  return isUtf8(bytes) ? displayPath(bytes.toString('utf8')) : escapeBytes(bytes);
}

/** The path as text for matching names and globs: bytes that are not UTF-8 read as U+FFFD. */
export function pathText(path: HostPath): string {
  return typeof path === 'string' ? path : asBuffer(path).toString('utf8');
}

/** How a report carries a path: as text, plus the exact bytes (base64) when it is not valid UTF-8. */
export function reportedPath(path: HostPath): { path: string; pathBytes?: string } {
  if (typeof path === 'string') return { path };
  const bytes = asBuffer(path);
  if (isUtf8(bytes)) return { path: bytes.toString('utf8') };
  return { path: escapeBytes(bytes), pathBytes: bytes.toString('base64') };
}

/** A string that tells paths apart exactly, for use as a map key. */
export function pathKey(path: HostPath): string {
  return typeof path === 'string' ? path : `\0${asBuffer(path).toString('latin1')}`;
}

/** `folder` + separator + `name`: text while both are text, else bytes. */
export function joinPath(folder: HostPath, name: HostPath): HostPath {
  if (typeof folder === 'string' && typeof name === 'string')
    return folder.endsWith(sep) ? folder + name : folder + sep + name;
  const head = typeof folder === 'string' ? Buffer.from(folder) : asBuffer(folder);
  const tail = typeof name === 'string' ? Buffer.from(name) : asBuffer(name);
  return head[head.length - 1] === SEP_BYTE
    ? Buffer.concat([head, tail])
    : Buffer.concat([head, SEP_BUFFER, tail]);
}

/** The path in the form `node:fs` takes. */
export function fsPath(path: HostPath): string | Buffer {
  return typeof path === 'string' ? path : asBuffer(path);
}

const SEP_BYTE = sep.charCodeAt(0);
const SEP_BUFFER = Buffer.from(sep);

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function isPlainAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b < 0x20 || b >= 0x7f || b === 0x5c) return false;
  }
  return true;
}

/** One piece of the shown path: a character as it is, or an escape. */
type Piece = { raw: string } | { escape: string };

function escapeText(text: string): string {
  const pieces: Piece[] = [];
  for (const char of text) pieces.push(pieceOf(char));
  return render(pieces);
}

function escapeBytes(bytes: Buffer): string {
  const pieces: Piece[] = [];
  for (let i = 0; i < bytes.length; ) {
    const length = utf8SequenceLength(bytes, i);
    if (length === 0) {
      pieces.push({ escape: `\\x${hex(bytes[i] as number)}` });
      i++;
    } else {
      pieces.push(pieceOf(bytes.toString('utf8', i, i + length)));
      i += length;
    }
  }
  return render(pieces);
}

function pieceOf(char: string): Piece {
  if (!UNSAFE.test(char)) return { raw: char };
  const code = char.codePointAt(0) as number;
  return { escape: code < 0x80 ? `\\x${hex(code)}` : `\\u{${code.toString(16).toUpperCase()}}` };
}

/** Joins the pieces, doubling each raw backslash that comes before `\`, `x`, `u` or an escape. */
function render(pieces: Piece[]): string {
  let out = '';
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] as Piece;
    if ('escape' in piece) {
      out += piece.escape;
      continue;
    }
    if (piece.raw === '\\') {
      const next = pieces[i + 1];
      const ambiguous =
        next !== undefined && ('escape' in next || next.raw === '\\' || next.raw === 'x' || next.raw === 'u');
      out += ambiguous ? '\\\\' : '\\';
    } else out += piece.raw;
  }
  return out;
}

/** The length of the valid UTF-8 sequence at `i`, or 0 when the byte there does not start one. */
function utf8SequenceLength(bytes: Buffer, i: number): number {
  const b0 = bytes[i] as number;
  if (b0 < 0x80) return 1;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) length = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3;
    if (b0 === 0xe0) low = 0xa0;
    if (b0 === 0xed) high = 0x9f; // no encoded surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4;
    if (b0 === 0xf0) low = 0x90;
    if (b0 === 0xf4) high = 0x8f; // nothing above U+10FFFF
  } else return 0;
  if (i + length > bytes.length) return 0;
  const b1 = bytes[i + 1] as number;
  if (b1 < low || b1 > high) return 0;
  for (let k = 2; k < length; k++) {
    const b = bytes[i + k] as number;
    if (b < 0x80 || b > 0xbf) return 0;
  }
  return length;
}

function hex(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}
