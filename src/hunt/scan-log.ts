import { fstatSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { createGunzip } from 'node:zlib';
import type { PackedIndicator } from '../core/intel.js';
import { fsPath, type HostPath, reportedPath } from '../core/paths.js';
import type { FileProblem } from '../core/report.js';
import type { NetworkHit, NetworkMatcher } from '../matchers/network-matcher.js';
import {
  DEFAULT_ZEEK_HEADER,
  detectFormat,
  type LogFormat,
  type LogRecord,
  type LogValue,
  parseRecord,
  readZeekHeaderLine,
  type YearHint,
  type ZeekHeader,
} from './log-formats.js';

/** One log record that touched an indicator. */
export interface LogHit {
  line: number;
  timestamp?: string;
  client?: string;
  field?: string;
  kind: LogValue['kind'];
  seen: string;
  indicator: PackedIndicator;
}

/** What reading one log gave: how many hits, and everything odd about it, counted. */
export interface LogFileResult {
  file: string;
  format: LogFormat;
  bytes: number;
  lines: number;
  hits: number;
  problems: FileProblem[];
  /**
   * binary-lines, long-lines, unparsed-hits (matched in raw text, record not readable), header-changes,
   * outside-window, bad-times (a time that does not read), no-year (a yearless time and no mtime or --year).
   */
  counts: Record<string, number>;
}

/** Receives a log's hits, at most 4,096 at a time; reading waits for it, so hits never pile up. */
export type HitSink = (hits: LogHit[], format: LogFormat) => void | Promise<void>;

/** How far a compressed log may inflate before the rest of it is reported and left unread. */
export interface InflateLimits {
  maxBytes: number;
  /** Inflated bytes per compressed byte, applied once a file has inflated past 64 MiB. */
  maxRatio: number;
}

/** 16 GiB and 100:1: real logs compress 5 to 20 times; a zeros bomb compresses 1,000 times. */
export const DEFAULT_INFLATE_LIMITS: InflateLimits = { maxBytes: 16 * 1024 ** 3, maxRatio: 100 };
const RATIO_FLOOR = 64 * 1024 * 1024;

export interface HuntOptions {
  format?: LogFormat;
  /** Extra JSON field names that hold network values. */
  fields?: readonly string[];
  since?: Date;
  until?: Date;
  /** The year of syslog-style times that have none; else each file's mtime gives it. */
  year?: number;
  inflate?: InflateLimits;
}

const CHUNK = 4 * 1024 * 1024;
const INFLATE_CHUNK = 256 * 1024;
/** Hits handed to the sink at a time: what a block of hits costs whoever turns them into findings. */
const HIT_BATCH = 4096;
const MAX_RECORD = 16 * 1024 * 1024;
// A token starts only where a run of label characters starts: a long run without dots (16 MiB of letters) is then
// rejected once, not retried at each of its characters.
const HOST_TOKEN = /(?<![a-z0-9_-])[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_-]{1,63})+/gi;
const WINDNS_TOKEN = /(?:\(\d+\)[A-Za-z0-9_-]+)+\(0\)/g;
const IPV6_TOKEN = /[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\d+\.\d+\.\d+\.\d+)?/gi;

/**
 * Streams one log (a file, FIFO or device, plain or gzip; `-` is stdin), finds the records that touch an indicator
 * with a fast scan for host, URL and address tokens, reads only those records in full, and hands their hits to
 * `sink` a block at a time. Memory stays bounded by the chunk and the longest record (16 MiB; longer ones are
 * counted and skipped, and reading goes on after them); inflation by `options.inflate`.
 */
export async function huntLog(
  path: HostPath,
  matcher: NetworkMatcher,
  options: HuntOptions,
  sink: HitSink,
): Promise<LogFileResult> {
  const file = reportedPath(path).path;
  const result: LogFileResult = {
    file,
    format: options.format ?? 'text',
    bytes: 0,
    lines: 0,
    hits: 0,
    problems: [],
    counts: {},
  };
  const count = (key: string, n = 1) => {
    result.counts[key] = (result.counts[key] ?? 0) + n;
  };
  const state = {
    zeek: DEFAULT_ZEEK_HEADER,
    format: options.format,
    carry: '',
    /** The last characters read, so a multi-character delimiter split between blocks is still found. */
    tail: '',
    skipping: false,
    utf16: undefined as TextDecoder | undefined,
    years: { ...(options.year ? { year: options.year } : {}) } as YearHint,
    pending: [] as LogHit[],
  };

  const processBlock = (block: string, final: boolean) => {
    let text = block;
    if (state.skipping) {
      const end = text.indexOf('\n');
      if (end < 0) return;
      text = text.slice(end + 1);
      state.skipping = false;
      result.lines++;
    }
    if (!state.format) state.format = detectFormat((state.carry + text).slice(0, 64 * 1024));
    result.format = state.format;
    const delimiter = state.format === 'sysmon-xml' ? '</Event>' : '\n';
    // Only the new text (and the delimiter's width before it) is searched: a long record carried over many
    // blocks is joined once, when it ends, not copied on every block.
    const seen = state.tail + text;
    state.tail = delimiter.length > 1 ? seen.slice(1 - delimiter.length) : '';
    if (!final && seen.lastIndexOf(delimiter) < 0) {
      if (state.carry.length + text.length > MAX_RECORD) {
        count('long-lines');
        state.carry = '';
        state.skipping = true;
      } else state.carry += text;
      return;
    }
    const work = state.carry + text;
    const end = final ? work.length : work.lastIndexOf(delimiter) + delimiter.length;
    scanText(work.slice(0, end), { result, matcher, options, state, count });
    state.carry = detached(work.slice(end));
    if (state.carry.length > MAX_RECORD) {
      count('long-lines');
      state.carry = '';
      state.skipping = true;
    }
  };

  // A failing sink (the report cannot be written) stops the hunt; it is not a problem of this log.
  let sinkError: unknown;
  const deliver = async () => {
    if (state.pending.length === 0) return;
    result.hits += state.pending.length;
    try {
      while (state.pending.length) await sink(state.pending.splice(0, HIT_BATCH), result.format);
    } catch (error) {
      sinkError = error;
      throw error;
    }
  };
  try {
    for await (const chunk of readChunks(
      path,
      result,
      state.years,
      options.inflate ?? DEFAULT_INFLATE_LIMITS,
    )) {
      if (
        state.utf16 === undefined &&
        result.bytes === chunk.length &&
        chunk[0] === 0xff &&
        chunk[1] === 0xfe
      ) {
        state.utf16 = new TextDecoder('utf-16le');
        count('utf16-files');
      }
      processBlock(
        state.utf16 ? state.utf16.decode(chunk, { stream: true }) : chunk.toString('latin1'),
        false,
      );
      await deliver();
    }
  } catch (error) {
    if (error === sinkError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const message = (error as Error).message;
    if (error instanceof InflateLimitError) {
      result.problems.push({ path: file, code: 'gzip-limit', message });
    } else if (
      code === 'Z_BUF_ERROR' ||
      /unexpected end of file|incorrect header check|invalid/.test(message)
    ) {
      result.problems.push({
        path: file,
        code: 'truncated-gzip',
        message: `compressed data ends early or is corrupt after ${result.bytes} bytes: ${message}`,
      });
    } else {
      result.problems.push({
        path: file,
        code: code === 'ENOENT' ? 'vanished' : code === 'EACCES' ? 'unreadable' : 'io-error',
        message,
      });
    }
  }
  processBlock('', true);
  await deliver();
  return result;
}

/** A compressed log inflated past a limit; the rest of it is not read. */
class InflateLimitError extends Error {}

/**
 * The bytes of the file (a regular file, FIFO or device, opened once; `-` is standard input), gunzipped when they
 * start with the gzip magic, within `limits`. A regular file's mtime goes into `years` for yearless times.
 */
async function* readChunks(
  file: HostPath,
  result: LogFileResult,
  years: YearHint,
  limits: InflateLimits,
): AsyncGenerator<Buffer> {
  const handle = file === '-' ? undefined : await open(fsPath(file), 'r');
  try {
    const stat = handle ? await handle.stat() : fstatSync(0);
    if (stat.isFile() && years.year === undefined) years.modified = stat.mtime;
    const input: AsyncIterable<Buffer> = handle
      ? handle.createReadStream({ highWaterMark: CHUNK, autoClose: false })
      : process.stdin;
    const iterator = input[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done) return;
    const head: Buffer = first.value;
    let compressed = 0;
    const source = (async function* () {
      for (let next: IteratorResult<Buffer> = first; !next.done; next = await iterator.next()) {
        compressed += next.value.length;
        yield next.value;
      }
    })();
    if (!(head[0] === 0x1f && head[1] === 0x8b)) {
      for await (const chunk of source) {
        result.bytes += chunk.length;
        yield chunk;
      }
      return;
    }
    const gunzip = createGunzip({ chunkSize: INFLATE_CHUNK });
    for await (const chunk of Readable.from(source, { highWaterMark: 1 }).pipe(
      gunzip,
    ) as AsyncIterable<Buffer>) {
      if (result.bytes + chunk.length > limits.maxBytes) {
        const allowed = limits.maxBytes - result.bytes;
        result.bytes += allowed;
        yield chunk.subarray(0, allowed);
        throw new InflateLimitError(
          `inflated past ${limits.maxBytes} bytes (--max-inflated-size); the rest of this file was not read`,
        );
      }
      result.bytes += chunk.length;
      if (result.bytes > RATIO_FLOOR && result.bytes > limits.maxRatio * compressed)
        throw new InflateLimitError(
          `inflated ${result.bytes} bytes from ${compressed}, a ratio over ${limits.maxRatio}:1 (--max-inflate-ratio); the rest of this file was not read`,
        );
      yield chunk;
    }
  } finally {
    await handle?.close();
  }
}

interface ScanState {
  zeek: ZeekHeader;
  format: LogFormat | undefined;
  years: YearHint;
  /** Hits of the block being read, for the sink. */
  pending: LogHit[];
}

/** What scanning one log needs at hand: where results go, the matcher, the options and the running state. */
interface ScanContext {
  result: LogFileResult;
  matcher: NetworkMatcher;
  options: HuntOptions;
  state: ScanState;
  count: (key: string, n?: number) => void;
}

/** Finds, in a block of whole records, those that touch an indicator; reads them; records the hits. */
function scanText(text: string, context: ScanContext): void {
  const { result, matcher, state, count } = context;
  const format = state.format as LogFormat;
  const xml = format === 'sysmon-xml';
  // Record starts worth reading, with the token that flagged each.
  const flagged = new Map<number, { token: string; kind: LogValue['kind'] }>();
  const flag = (position: number, token: string, kind: LogValue['kind']) => {
    const start = xml
      ? Math.max(0, text.lastIndexOf('<Event ', position), text.lastIndexOf('<Event>', position))
      : text.lastIndexOf('\n', position) + 1;
    if (!flagged.has(start)) flagged.set(start, { token, kind });
  };
  const tokenPattern = format === 'windows-dns' ? WINDNS_TOKEN : HOST_TOKEN;
  tokenPattern.lastIndex = 0;
  for (let m = tokenPattern.exec(text); m; m = tokenPattern.exec(text)) {
    const raw = m[0];
    const token =
      format === 'windows-dns'
        ? raw
            .replace(/^\(\d+\)/, '')
            .replace(/\(0\)$/, '')
            .replace(/\(\d+\)/g, '.')
        : raw;
    if (matcher.hostOfInterest(token)) flag(m.index, token, 'domain');
    else if (matcher.hasIps && /^\d+\.\d+\.\d+\.\d+$/.test(token) && matcher.matchIp(token).length)
      flag(m.index, token, 'ip');
  }
  if (matcher.hasIps) {
    IPV6_TOKEN.lastIndex = 0;
    for (let m = IPV6_TOKEN.exec(text); m; m = IPV6_TOKEN.exec(text)) {
      if (m[0].includes('::') || m[0].split(':').length > 3) {
        if (matcher.matchIp(m[0]).length) flag(m.index, m[0], 'ip');
      }
    }
  }
  // Zeek headers can change mid-file: note where, to read each record with the header in effect.
  const headers: number[] = [];
  if (format === 'zeek-tsv') {
    if (text.startsWith('#')) headers.push(0);
    for (let i = text.indexOf('\n#'); i >= 0; i = text.indexOf('\n#', i + 1)) headers.push(i + 1);
  }
  const applyHeader = (at: number) => {
    const end = text.indexOf('\n', at);
    const before = state.zeek.fields.join('\t');
    state.zeek = readZeekHeaderLine(text.slice(at, end < 0 ? undefined : end).replace(/\r$/, ''), state.zeek);
    if (before && before !== state.zeek.fields.join('\t')) count('header-changes');
  };
  const starts = [...flagged.keys()].sort((a, b) => a - b);
  let lineAt = 0;
  let line = result.lines;
  const advance = (to: number) => {
    for (let i = text.indexOf('\n', lineAt); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) line++;
    lineAt = to;
  };
  let h = 0;
  for (const start of starts) {
    while (h < headers.length && (headers[h] as number) < start) applyHeader(headers[h++] as number);
    advance(start);
    const end = xml ? text.indexOf('</Event>', start) + '</Event>'.length : text.indexOf('\n', start);
    const record = text.slice(start, end <= start ? undefined : end).replace(/\r$/, '');
    readHit(record, line + 1, flagged.get(start) as { token: string; kind: LogValue['kind'] }, context);
  }
  while (h < headers.length) applyHeader(headers[h++] as number);
  advance(text.length);
  if (text.length && !text.endsWith('\n')) line++;
  result.lines = line;
  if (text.includes('\0')) {
    let binary = 0;
    for (let i = text.indexOf('\0'); i >= 0; i = text.indexOf('\0', text.indexOf('\n', i) + 1 || text.length))
      binary++;
    count('binary-lines', binary);
  }
}

function readHit(
  record: string,
  line: number,
  flagged: { token: string; kind: LogValue['kind'] },
  context: ScanContext,
): void {
  const { matcher, options, state, count } = context;
  const format = state.format as LogFormat;
  let parsed: LogRecord | undefined;
  try {
    parsed = parseRecord(format, record, state.zeek, options.fields ?? [], state.years);
  } catch {
    parsed = undefined;
  }
  const hits: { hit: NetworkHit; value: LogValue }[] = [];
  for (const value of parsed?.values ?? []) {
    const found =
      value.kind === 'domain'
        ? matcher.matchDomain(value.value)
        : value.kind === 'url'
          ? matcher.matchUrl(value.value)
          : matcher.matchIp(value.value);
    for (const hit of found) hits.push({ hit, value });
  }
  if (hits.length === 0) {
    // The record could not be read, or its tokens sit in fields we do not know: report every raw match in it.
    const tokens = new Set([flagged.token, ...(record.match(HOST_TOKEN) ?? [])]);
    for (const token of tokens) {
      const kind: LogValue['kind'] =
        /^\d+\.\d+\.\d+\.\d+$/.test(token) || token.includes(':')
          ? 'ip'
          : flagged.kind === 'ip' && token === flagged.token
            ? 'ip'
            : 'domain';
      const found = kind === 'ip' ? matcher.matchIp(token) : matcher.matchDomain(token);
      for (const hit of found) hits.push({ hit, value: { kind, value: token, field: 'text' } });
    }
    if (hits.length) count('unparsed-hits');
  }
  const timestamp = parsed?.timestamp;
  if (
    timestamp &&
    ((options.since && timestamp < options.since.toISOString()) ||
      (options.until && timestamp > options.until.toISOString()))
  ) {
    count('outside-window');
    return;
  }
  if (parsed?.timeIssue) count(parsed.timeIssue);
  const seenIds = new Set<string>();
  for (const { hit, value } of hits) {
    const key = `${hit.indicator.packId}:${hit.indicator.id}`;
    if (seenIds.has(key)) continue;
    seenIds.add(key);
    state.pending.push({
      line,
      ...(timestamp ? { timestamp } : {}),
      ...(parsed?.client ? { client: detached(parsed.client) } : {}),
      ...(value.field ? { field: value.field } : {}),
      kind: hit.indicator.kind as LogValue['kind'],
      seen: detached(hit.seen),
      indicator: hit.indicator,
    });
  }
}

/**
 * A copy of `text` that holds no reference to the string it was cut from. V8 keeps the parent of a slice alive;
 * a carried-over partial line would otherwise chain every block read so far.
 */
function detached(text: string): string {
  return Buffer.from(text, 'utf16le').toString('utf16le');
}
