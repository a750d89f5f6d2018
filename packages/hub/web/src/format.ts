/** @module How the console writes times, sizes and states. */

/** "3 minutes ago", "2 days ago": how long ago `iso` was. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const units: [number, string][] = [
    [86_400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units)
    if (seconds >= size) {
      const n = Math.floor(seconds / size);
      return `${n} ${name}${n === 1 ? '' : 's'} ago`;
    }
  return 'just now';
}

/** A time as the reader's locale writes it. */
export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

/** Host states in the order the fleet view lists them, with what each means. */
export const STATE_LABELS: Record<string, string> = {
  beaconed: 'Beaconed (contacted C2)',
  hits: 'Indicator hits',
  affected: 'Affected app installed',
  partial: 'Partial coverage',
  stale: 'Stale (no recent report)',
  clean: 'Clean',
  new: 'New (no report yet)',
};

/** The states that need action, most urgent first. */
export const ACTION_STATES = ['beaconed', 'hits', 'affected'];

/** Characters that reorder or hide the text around them (bidirectional controls, zero-width marks). */
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * Text a host or a user sent, shown as it is: each character that would reorder or hide the text around it is
 * written as its code point, so a name like "invoice\u202Eexe.pdf" cannot pass for what it is not.
 */
export function shown(text: string | null | undefined): string {
  return (text ?? '').replace(
    INVISIBLE,
    (c) => `[U+${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')}]`,
  );
}
