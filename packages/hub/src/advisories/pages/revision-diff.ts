/** @module A line diff for revision pages: Myers' linear-space algorithm with a bounded search, so memory stays linear. */

/** One line of a diff: kept, added (only in the later text) or removed (only in the earlier one); numbers from 1. */
export type DiffLine =
  | { op: 'equal'; text: string; oldLine: number; newLine: number }
  | { op: 'insert'; text: string; newLine: number }
  | { op: 'delete'; text: string; oldLine: number };

/**
 * How many edit steps one middle-snake search may take before it gives up minimality and splits at the furthest
 * point it reached: it bounds the time of a diff of very different texts, and the search arrays (linear in it).
 */
export const DEFAULT_SEARCH_LIMIT = 1024;

const EQUAL = 0;
const INSERT = 1;
const DELETE = 2;

/** The lines of `text`: CRLF and CR read as LF; no lines in an empty text, and no empty line after a final newline. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * The line diff turning `before` into `after`: minimal (a longest common subsequence kept) whenever each search
 * stays within `searchLimit` steps, always a correct edit script; time O((N+M)·D) at worst, memory O(N+M).
 */
export function diffLines(
  before: readonly string[],
  after: readonly string[],
  searchLimit = DEFAULT_SEARCH_LIMIT,
): DiffLine[] {
  const ids = new Map<string, number>();
  const idOf = (line: string) => {
    let id = ids.get(line);
    if (id === undefined) {
      id = ids.size;
      ids.set(line, id);
    }
    return id;
  };
  const a = Int32Array.from(before, idOf);
  const b = Int32Array.from(after, idOf);
  const script: number[] = [];
  diffRange(a, 0, a.length, b, 0, b.length, Math.max(1, Math.floor(searchLimit)), script);

  const lines: DiffLine[] = [];
  let oldIndex = 0;
  let newIndex = 0;
  for (const op of script) {
    if (op === EQUAL) {
      lines.push({
        op: 'equal',
        text: after[newIndex] as string,
        oldLine: oldIndex + 1,
        newLine: newIndex + 1,
      });
      oldIndex++;
      newIndex++;
    } else if (op === INSERT) {
      lines.push({ op: 'insert', text: after[newIndex] as string, newLine: newIndex + 1 });
      newIndex++;
    } else {
      lines.push({ op: 'delete', text: before[oldIndex] as string, oldLine: oldIndex + 1 });
      oldIndex++;
    }
  }
  return lines;
}

/** A run of changed lines with up to `context` kept lines around it, and how many kept lines were left out before. */
export interface DiffHunk {
  skippedBefore: number;
  lines: DiffLine[];
}

/** The hunks of `diff` (no hunk when nothing changed) and the kept lines left out after the last one. */
export function hunksOf(diff: readonly DiffLine[], context = 3): { hunks: DiffHunk[]; skippedAfter: number } {
  const shown = new Uint8Array(diff.length);
  diff.forEach((line, index) => {
    if (line.op === 'equal') return;
    for (let i = Math.max(0, index - context); i <= Math.min(diff.length - 1, index + context); i++)
      shown[i] = 1;
  });
  const hunks: DiffHunk[] = [];
  let skipped = 0;
  let current: DiffHunk | undefined;
  diff.forEach((line, index) => {
    if (!shown[index]) {
      skipped++;
      current = undefined;
      return;
    }
    if (!current) {
      current = { skippedBefore: skipped, lines: [] };
      hunks.push(current);
      skipped = 0;
    }
    current.lines.push(line);
  });
  return { hunks, skippedAfter: skipped };
}

/** Appends the edit script of `a[aLo, aHi)` to `b[bLo, bHi)` to `script`. */
function diffRange(
  a: Int32Array,
  aLo: number,
  aHi: number,
  b: Int32Array,
  bLo: number,
  bHi: number,
  limit: number,
  script: number[],
): void {
  // The left part of a split recurses (it needs fewer edits, or is at most 2·limit long); the right part goes on
  // in this loop, so the depth stays small. The kept lines trimmed off the ends of nested ranges all come last.
  let keptAtEnd = 0;
  for (;;) {
    while (aLo < aHi && bLo < bHi && a[aLo] === b[bLo]) {
      script.push(EQUAL);
      aLo++;
      bLo++;
    }
    while (aHi > aLo && bHi > bLo && a[aHi - 1] === b[bHi - 1]) {
      aHi--;
      bHi--;
      keptAtEnd++;
    }
    const split = aLo === aHi || bLo === bHi ? undefined : splitPoint(a, aLo, aHi, b, bLo, bHi, limit);
    if (!split) {
      for (let i = aLo; i < aHi; i++) script.push(DELETE);
      for (let i = bLo; i < bHi; i++) script.push(INSERT);
      break;
    }
    diffRange(a, aLo, split[0], b, bLo, split[1], limit, script);
    aLo = split[0];
    bLo = split[1];
  }
  for (let i = 0; i < keptAtEnd; i++) script.push(EQUAL);
}

/**
 * Where to split two ranges that differ at both ends (Myers 1986, section 4b): the end of the forward path where
 * it meets the reverse one, so each side needs fewer edits; past `limit` steps, the furthest point the forward
 * search reached (both sides then strictly smaller); none when a complete search found no common line.
 */
function splitPoint(
  a: Int32Array,
  aLo: number,
  aHi: number,
  b: Int32Array,
  bLo: number,
  bHi: number,
  limit: number,
): [number, number] | undefined {
  const n = aHi - aLo;
  const m = bHi - bLo;
  const complete = Math.ceil((n + m) / 2) <= limit;
  const maxD = complete ? Math.ceil((n + m) / 2) : limit;
  const offset = maxD + 1;
  const size = 2 * maxD + 3;
  // forward[k]: the furthest x on diagonal k = x - y from the top left; reverse[k]: the same from the bottom right.
  const forward = new Int32Array(size).fill(-1);
  const reverse = new Int32Array(size).fill(-1);
  forward[offset + 1] = 0;
  reverse[offset + 1] = 0;
  const delta = n - m;
  const odd = (delta & 1) !== 0;
  let kStart = 0;
  let kEnd = 0;
  let rStart = 0;
  let rEnd = 0;
  let best: [number, number] = [aLo, bLo];
  let bestReach = -1;
  for (let d = 0; d < maxD; d++) {
    for (let k = -d + kStart; k <= d - kEnd; k += 2) {
      const i = offset + k;
      let x =
        k === -d || (k !== d && (forward[i - 1] as number) < (forward[i + 1] as number))
          ? (forward[i + 1] as number)
          : (forward[i - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[aLo + x] === b[bLo + y]) {
        x++;
        y++;
      }
      forward[i] = x;
      if (x > n) kEnd += 2;
      else if (y > m) kStart += 2;
      else {
        if (x + y > bestReach) {
          bestReach = x + y;
          best = [aLo + x, bLo + y];
        }
        if (odd) {
          const j = offset + delta - k;
          if (j >= 0 && j < size && (reverse[j] as number) !== -1 && x >= n - (reverse[j] as number))
            return [aLo + x, bLo + y];
        }
      }
    }
    for (let k = -d + rStart; k <= d - rEnd; k += 2) {
      const i = offset + k;
      let x =
        k === -d || (k !== d && (reverse[i - 1] as number) < (reverse[i + 1] as number))
          ? (reverse[i + 1] as number)
          : (reverse[i - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[aHi - x - 1] === b[bHi - y - 1]) {
        x++;
        y++;
      }
      reverse[i] = x;
      if (x > n) rEnd += 2;
      else if (y > m) rStart += 2;
      else if (!odd) {
        const j = offset + delta - k;
        if (j >= 0 && j < size && (forward[j] as number) !== -1) {
          const fx = forward[j] as number;
          const fy = fx - (delta - k);
          if (fx >= n - x) return [aLo + fx, bLo + fy];
        }
      }
    }
  }
  // A complete search that never met has no common line to keep (the minimal script replaces everything).
  if (complete || bestReach <= 0) return undefined;
  // The search gave up: split where the forward search got furthest (past the start, short of the end).
  return best;
}
