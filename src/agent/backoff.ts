import { UserError } from '../core/errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`, `15m`, `6h`, `1d` (and `500ms`) -> milliseconds. */
export function parseDuration(option: string, text: string): number {
  const match = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text.trim());
  const ms = match ? Number(match[1]) * (UNITS[match[2] as string] as number) : 0;
  if (!match || ms < 1)
    throw new UserError(
      'USAGE',
      `${option}: ${JSON.stringify(text)} is not a duration (like 30s, 15m, 6h or 1d)`,
    );
  return ms;
}

/**
 * The wait before retry number `attempt` (0 for the first): exponential from `baseMs`, capped at `capMs`, with
 * half of it random ("equal jitter"), so a fleet that lost its hub at once does not come back at once.
 */
export function retryDelayMs(attempt: number, baseMs: number, capMs: number, random = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** A `Retry-After` header (delay-seconds or an HTTP date) in milliseconds from `now`, or undefined. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) || !/[a-z]/i.test(text) ? undefined : Math.max(0, at - now);
}
