import { HttpError } from './http-error.js';

/** Control characters, which no name, email or id the hub stores may contain. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Characters no Markdown text holds: the C0 and C1 controls but tab, newline and carriage return. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
/** Bidirectional overrides and isolates, which can make shown text read unlike what it is ("Trojan Source"). */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A required one-line string of 1..`max` characters, not only spaces, well formed: 400 naming `field` otherwise. */
export function lineField(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string') throw new HttpError(400, 'INVALID', `${field} must be a string`, { field });
  if (value.trim().length === 0 || value.length > max)
    throw new HttpError(400, 'INVALID', `${field} must have 1 to ${max} characters`, { field });
  if (CONTROL.test(value))
    throw new HttpError(400, 'INVALID', `${field} must not contain control characters`, { field });
  return wellFormed(value, field);
}

/**
 * A Markdown text of 1..`max` characters (0.. with `emptyAllowed`): lines and tabs allowed, other control
 * characters not, well formed: 400 naming `field` otherwise.
 */
export function markdownField(value: unknown, field: string, max: number, emptyAllowed = false): string {
  if (typeof value !== 'string') throw new HttpError(400, 'INVALID', `${field} must be a string`, { field });
  if ((!emptyAllowed && value.trim().length === 0) || value.length > max)
    throw new HttpError(
      400,
      'INVALID',
      `${field} must be Markdown of ${emptyAllowed ? 0 : 1} to ${max} characters`,
      {
        field,
      },
    );
  if (CONTROL_IN_TEXT.test(value))
    throw new HttpError(400, 'INVALID', `${field} must not contain control characters`, { field });
  return wellFormed(value, field);
}

/**
 * `value` if it is valid Unicode without bidirectional controls: 400 naming `field` for a lone surrogate (which
 * no UTF-8 output can carry) or an override or isolate (which could show a command or version reversed).
 */
export function wellFormed(value: string, field: string): string {
  if (LONE_SURROGATE.test(value))
    throw new HttpError(400, 'INVALID', `${field} must not contain lone surrogates`, { field });
  if (BIDI_CONTROL.test(value))
    throw new HttpError(
      400,
      'INVALID',
      `${field} must not contain bidirectional override or isolate characters`,
      {
        field,
      },
    );
  return value;
}

/** An optional one-line string: undefined when absent or null. */
export function optionalLineField(value: unknown, field: string, max: number): string | undefined {
  return value === undefined || value === null ? undefined : lineField(value, field, max);
}

/** An optional whole number within [min, max]. */
export function optionalIntField(
  value: unknown,
  field: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new HttpError(400, 'INVALID', `${field} must be a whole number from ${min} to ${max}`, { field });
  return value;
}

/** One of a fixed list of strings. */
export function choiceField<T extends string>(value: unknown, field: string, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value))
    throw new HttpError(400, 'INVALID', `${field} must be one of ${choices.join(', ')}`, { field });
  return value as T;
}

/** An optional ISO-8601 time in the future of `now`, normalised to UTC. */
export function optionalFutureTime(value: unknown, field: string, now: Date): string | undefined {
  if (value === undefined || value === null) return undefined;
  const time = typeof value === 'string' && value.length <= 40 ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) throw new HttpError(400, 'INVALID', `${field} must be an ISO-8601 time`, { field });
  if (time <= now.getTime()) throw new HttpError(400, 'INVALID', `${field} must be in the future`, { field });
  return new Date(time).toISOString();
}

/** An email address as stored: trimmed, lower case, one @, no spaces; 400 naming `field` otherwise. */
export function emailField(value: unknown, field = 'email'): string {
  const email = lineField(typeof value === 'string' ? value.trim() : value, field, 254).toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(email))
    throw new HttpError(400, 'INVALID', `${field} must be an email address`, { field });
  return email;
}

/** A query parameter holding a whole number from 1 to `max`, `fallback` when absent; 400 naming `field` otherwise. */
export function queryCount(value: string | undefined, field: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = /^\d{1,6}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= max))
    throw new HttpError(400, 'INVALID', `${field} must be a whole number from 1 to ${max}`, { field });
  return n;
}
