/** @module Checks an uploaded report body, bytes to Report, with a bound on everything a sender controls. */
import type { z } from 'zod';
import { type Finding, FindingSchema } from './finding.js';
import { type Report, ReportSchema } from './report.js';

/** The bounds a report body must keep. */
export interface ReportBodyLimits {
  /** Largest body, in bytes. */
  maxBytes: number;
  /** Deepest nesting of objects and arrays (the report itself is depth 1). */
  maxDepth: number;
  /** Longest string or key, in bytes of the JSON text as written (UTF-8, escapes counted as written). */
  maxStringLength: number;
  /** Most items in any other array (the one pass before parsing allows the larger of this and `maxFindings`). */
  maxArrayItems: number;
  /** Most findings. */
  maxFindings: number;
}

/**
 * 64 MiB (100,000 findings take about 55 MB), depth 64 (a report nests about 8 deep), strings of 1 MiB, arrays
 * of 100,000 items, 100,000 findings (as many as `hunt` lists before it counts the rest).
 */
export const DEFAULT_REPORT_BODY_LIMITS: Readonly<ReportBodyLimits> = {
  maxBytes: 64 * 1024 * 1024,
  maxDepth: 64,
  maxStringLength: 1024 * 1024,
  maxArrayItems: 100_000,
  maxFindings: 100_000,
};

export type ReportBodyErrorCode =
  | 'TOO_LARGE'
  | 'INVALID_UTF8'
  | 'INVALID_JSON'
  | 'TOO_DEEP'
  | 'STRING_TOO_LONG'
  | 'NUL_CHARACTER'
  | 'TOO_MANY_ITEMS'
  | 'TOO_MANY_FINDINGS'
  | 'INVALID_REPORT';

/** A valid report, or the first thing wrong with the body: `field` names it as `findings[3].severity`. */
export type ReportBodyResult =
  | { ok: true; report: Report }
  | { ok: false; code: ReportBodyErrorCode; field?: string; message: string };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Validates an uploaded report body: strict UTF-8, JSON within the limits (checked in one pass before parsing, so
 * a 10 MB string or 10,000-deep nesting is refused without building anything), then the report schema. Pure.
 */
export function validateReportBody(
  bytes: Uint8Array,
  limits: Partial<ReportBodyLimits> = {},
): ReportBodyResult {
  const bounds = { ...DEFAULT_REPORT_BODY_LIMITS, ...limits };
  if (bytes.length > bounds.maxBytes)
    return fail('TOO_LARGE', `the body is ${bytes.length} bytes, above the limit of ${bounds.maxBytes}`);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return fail('INVALID_UTF8', 'the body is not valid UTF-8');
  }
  // The fast pass finds whether anything is wrong; only then does the tracking pass find where.
  if (checkStructure(bytes, bounds, false)) {
    const excess = checkStructure(bytes, bounds, true);
    if (excess) return excess;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const at = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    return fail('INVALID_JSON', `the body is not valid JSON${at ? ` (at character ${at})` : ''}`);
  }
  const findings = (value as { findings?: unknown } | null)?.findings;
  if (Array.isArray(findings) && findings.length > bounds.maxFindings)
    return fail(
      'TOO_MANY_FINDINGS',
      `${findings.length} findings, above the limit of ${bounds.maxFindings}`,
      'findings',
    );
  return checkSchema(value);
}

const ENVELOPE = ReportSchema.omit({ findings: true });
const FindingsSchema = ReportSchema.shape.findings;
const REPORT_KEYS = Object.keys(ReportSchema.shape) as (keyof Report)[];

/**
 * The report schema: the envelope first (so a missing `host.hostId` is named whatever the findings hold), then
 * the findings one at a time, so a body of 100,000 bad findings stops at the first.
 */
function checkSchema(value: unknown): ReportBodyResult {
  const envelope = ENVELOPE.safeParse(value);
  if (!envelope.success) return schemaFailure(envelope.error, []);
  const findings = (value as { findings?: unknown }).findings;
  if (!Array.isArray(findings)) {
    const result = FindingsSchema.safeParse(findings);
    return result.success
      ? fail('INVALID_REPORT', 'findings: expected array', 'findings')
      : schemaFailure(result.error, ['findings']);
  }
  const parsed: Finding[] = new Array(findings.length);
  for (let i = 0; i < findings.length; i++) {
    const result = FindingSchema.safeParse(findings[i]);
    if (!result.success) return schemaFailure(result.error, ['findings', i]);
    parsed[i] = result.data;
  }
  const fields: Record<string, unknown> = { ...envelope.data, findings: parsed };
  const report: Record<string, unknown> = {};
  for (const key of REPORT_KEYS) if (fields[key] !== undefined) report[key] = fields[key];
  return { ok: true, report: report as Report };
}

function schemaFailure(error: z.ZodError, prefix: PropertyKey[]): ReportBodyResult {
  const issue = error.issues[0];
  const path = [...prefix, ...(issue?.path ?? [])];
  const message = (issue?.message ?? 'invalid').slice(0, 200);
  return path.length
    ? fail('INVALID_REPORT', `${fieldPath(path)}: ${message}`, fieldPath(path))
    : fail('INVALID_REPORT', `the body is not a report: ${message}`);
}

/** A field path as `findings[3].severity`; keys that are not identifiers as `counts["a b"]`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const key = String(part);
      if (IDENTIFIER.test(key)) out += out ? `.${key}` : key;
      else out += `[${JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}...` : key)}]`;
    }
  }
  return out.length > 256 ? `${out.slice(0, 253)}...` : out;
}

function fail(code: ReportBodyErrorCode, message: string, field?: string): ReportBodyResult {
  return field === undefined ? { ok: false, code, message } : { ok: false, code, field, message };
}

/**
 * One pass over the JSON bytes for nesting depth, string length, array length and NUL (`\u0000`, which no
 * PostgreSQL text column stores) in a string or key; strings are skipped with indexOf. It reads bytes, not the
 * decoded string: every byte JSON structure uses is ASCII, never part of a multi-byte UTF-8 sequence, and the
 * speed never depends on how the engine holds a large string. JSON syntax errors are left to JSON.parse. With
 * `tracking`, also keeps the path, to name the field at fault (the caller runs it again only after a failure).
 */
function checkStructure(
  bytes: Uint8Array,
  limits: ReportBodyLimits,
  tracking: boolean,
): ReportBodyResult | undefined {
  const maxItems = Math.max(limits.maxArrayItems, limits.maxFindings);
  const { maxDepth, maxStringLength } = limits;
  const length = bytes.length;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const inArray = new Uint8Array(maxDepth + 2);
  const commas = new Uint32Array(maxDepth + 2);
  // Keys as byte ranges, decoded only for the path of a failure.
  const path: (number | KeyRange)[] = [];
  let expectKey = false;
  let depth = 0;
  // A raw NUL is invalid JSON (JSON.parse refuses it); an escaped one can only sit inside a string.
  let nul = view.indexOf(NUL_ESCAPE);
  const failure = (code: ReportBodyErrorCode, message: string): ReportBodyResult =>
    fail(code, message, tracking && path.length ? fieldPath(path.map((p) => keyOf(bytes, p))) : undefined);
  for (let i = 0; i < length; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = closingQuote(view, i);
      if (end < 0) return undefined; // unterminated: JSON.parse says so
      if (end - i - 1 > maxStringLength)
        return failure(
          'STRING_TOO_LONG',
          `a string of ${end - i - 1} bytes, above the limit of ${maxStringLength}`,
        );
      while (nul >= 0 && (nul < i || isEscapedBackslash(bytes, nul, i)))
        nul = view.indexOf(NUL_ESCAPE, nul + 1);
      if (nul >= 0 && nul < end) {
        if (tracking && expectKey) path.length = depth - 1;
        return failure('NUL_CHARACTER', `a ${expectKey ? 'key' : 'string'} holds a NUL character (\\u0000)`);
      }
      if (tracking && expectKey) {
        path[depth - 1] = { start: i, end: end + 1 };
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > maxDepth) return failure('TOO_DEEP', `nested deeper than ${maxDepth} objects and arrays`);
      inArray[depth] = c === 0x5b ? 1 : 0;
      commas[depth] = 0;
      if (tracking) {
        path.length = depth - 1;
        if (c === 0x5b) path[depth - 1] = 0;
        expectKey = c === 0x7b;
      }
    } else if (c === 0x7d || c === 0x5d) {
      if (depth === 0) return undefined;
      depth--;
      if (tracking) path.length = depth;
    } else if (c === 0x2c && depth > 0) {
      if (inArray[depth]) {
        const count = (commas[depth] ?? 0) + 1;
        commas[depth] = count;
        if (count >= maxItems) {
          if (tracking) path.length = depth - 1;
          return depth === 2 && keyOf(bytes, path[0]) === 'findings'
            ? failure('TOO_MANY_FINDINGS', `more than ${maxItems} findings`)
            : failure('TOO_MANY_ITEMS', `an array of more than ${maxItems} items`);
        }
        if (tracking) path[depth - 1] = count;
      } else if (tracking) expectKey = true;
    }
  }
  return undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NUL_ESCAPE = '\\u0000';

/** Whether the backslash at `at` is itself escaped: an odd run of backslashes since `start` precedes it. */
function isEscapedBackslash(bytes: Uint8Array, at: number, start: number): boolean {
  let backslashes = 0;
  while (at - 1 - backslashes > start && bytes[at - 1 - backslashes] === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}

/** The index of the quote that closes the string opening at `start`, or -1. */
function closingQuote(view: Buffer, start: number): number {
  let from = start + 1;
  for (;;) {
    const end = view.indexOf(QUOTE, from);
    if (end < 0) return -1;
    let backslashes = 0;
    while (view[end - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return end;
    from = end + 1;
  }
}

/** Where a key's quoted text lies in the body. */
interface KeyRange {
  start: number;
  end: number;
}

function keyOf(bytes: Uint8Array, part: number | KeyRange | undefined): PropertyKey {
  if (part === undefined || typeof part === 'number') return part ?? '';
  const text = utf8.decode(bytes.subarray(part.start, part.end));
  try {
    return String(JSON.parse(text));
  } catch {
    return text.slice(1, -1);
  }
}
