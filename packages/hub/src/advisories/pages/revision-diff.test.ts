import { describe, expect, it } from 'vitest';
import { type DiffLine, diffLines, hunksOf, splitLines } from './revision-diff.js';

/** The texts a diff says it turns into each other. */
function sides(diff: readonly DiffLine[]): { before: string[]; after: string[] } {
  return {
    before: diff.filter((l) => l.op !== 'insert').map((l) => l.text),
    after: diff.filter((l) => l.op !== 'delete').map((l) => l.text),
  };
}

const edits = (diff: readonly DiffLine[]) => diff.filter((l) => l.op !== 'equal').length;

/** The minimal number of inserted plus deleted lines, by the quadratic dynamic programme (small inputs only). */
function minimalEdits(a: readonly string[], b: readonly string[]): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] =
        a[i - 1] === b[j - 1]
          ? (row[j - 1] as number)
          : Math.min((row[j] as number) + 1, (next[j - 1] as number) + 1);
    row = next;
  }
  return row[b.length] as number;
}

/** A deterministic pseudo-random generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('splitLines', () => {
  it('reads no line in an empty text, no empty line after a final newline, and CRLF or CR as LF', () => {
    expect(splitLines('')).toEqual([]);
    expect(splitLines('a')).toEqual(['a']);
    expect(splitLines('a\n')).toEqual(['a']);
    expect(splitLines('a\n\n')).toEqual(['a', '']);
    expect(splitLines('a\r\nb\rc')).toEqual(['a', 'b', 'c']);
  });
});

describe('diffLines', () => {
  it('of two empty texts is empty, and of identical ones keeps every line with both numbers', () => {
    expect(diffLines([], [])).toEqual([]);
    expect(diffLines(['a', 'b'], ['a', 'b'])).toEqual([
      { op: 'equal', text: 'a', oldLine: 1, newLine: 1 },
      { op: 'equal', text: 'b', oldLine: 2, newLine: 2 },
    ]);
  });

  it('adds every line to an empty text and removes every line to reach one', () => {
    expect(diffLines([], ['a', 'b']).map((l) => l.op)).toEqual(['insert', 'insert']);
    expect(diffLines(['a', 'b'], []).map((l) => l.op)).toEqual(['delete', 'delete']);
  });

  it('marks an inserted, a deleted and a replaced line, numbering each side', () => {
    expect(diffLines(['a', 'c'], ['a', 'b', 'c'])).toEqual([
      { op: 'equal', text: 'a', oldLine: 1, newLine: 1 },
      { op: 'insert', text: 'b', newLine: 2 },
      { op: 'equal', text: 'c', oldLine: 2, newLine: 3 },
    ]);
    expect(diffLines(['a', 'b', 'c'], ['a', 'c'])).toEqual([
      { op: 'equal', text: 'a', oldLine: 1, newLine: 1 },
      { op: 'delete', text: 'b', oldLine: 2 },
      { op: 'equal', text: 'c', oldLine: 3, newLine: 2 },
    ]);
    expect(diffLines(['a', 'b', 'c'], ['a', 'B', 'c'])).toEqual([
      { op: 'equal', text: 'a', oldLine: 1, newLine: 1 },
      { op: 'delete', text: 'b', oldLine: 2 },
      { op: 'insert', text: 'B', newLine: 2 },
      { op: 'equal', text: 'c', oldLine: 3, newLine: 3 },
    ]);
  });

  it('keeps a longest common subsequence: as few edits as the quadratic programme, on 3,000 random pairs', () => {
    const next = random(20230330);
    for (let round = 0; round < 3000; round++) {
      const alphabet = 1 + Math.floor(next() * 5);
      const line = () => String.fromCharCode(97 + Math.floor(next() * alphabet));
      const a = Array.from({ length: Math.floor(next() * 14) }, line);
      const b = Array.from({ length: Math.floor(next() * 14) }, line);
      const diff = diffLines(a, b);
      expect(sides(diff), `${a.join('')} -> ${b.join('')}`).toEqual({ before: a, after: b });
      expect(edits(diff), `${a.join('')} -> ${b.join('')}`).toBe(minimalEdits(a, b));
    }
  });

  it('stays a correct edit script when the search limit cuts it short', () => {
    const next = random(7);
    for (let round = 0; round < 500; round++) {
      const line = () => String(Math.floor(next() * 4));
      const a = Array.from({ length: Math.floor(next() * 60) }, line);
      const b = Array.from({ length: Math.floor(next() * 60) }, line);
      for (const limit of [1, 2, 3, 8])
        expect(sides(diffLines(a, b, limit))).toEqual({ before: a, after: b });
    }
  });

  it('diffs 20,000-line bodies in bounded time and memory, however different they are', () => {
    const base = Array.from({ length: 20_000 }, (_, i) => `line ${i}: ${'x'.repeat(i % 40)}`);
    const scattered = base.map((line, i) => (i % 7 === 0 ? `${line} (edited)` : line));
    scattered.splice(10_000, 0, 'inserted in the middle');
    const rewritten = base.map((line) => `new ${line}`);
    // Many equal lines (blank lines and bullets) make the snakes long: the worst case for the search.
    const repetitive = Array.from({ length: 20_000 }, (_, i) =>
      i % 3 === 0 ? '' : i % 3 === 1 ? '-' : `${i}`,
    );
    const shuffled = [...repetitive].reverse();
    for (const [before, after] of [
      [base, scattered],
      [base, rewritten],
      [repetitive, shuffled],
    ] as const) {
      const heapBefore = process.memoryUsage().heapUsed;
      const started = performance.now();
      const diff = diffLines(before, after);
      const ms = performance.now() - started;
      const grown = process.memoryUsage().heapUsed - heapBefore;
      expect(sides(diff)).toEqual({ before, after });
      expect(ms).toBeLessThan(5000);
      // A quadratic table for 20,000 x 20,000 lines would be 400 million cells; the script is 40,000 entries.
      expect(grown).toBeLessThan(150 * 1024 * 1024);
    }
    expect(edits(diffLines(base, scattered))).toBe(2 * Math.ceil(20_000 / 7) + 1);
  });
});

describe('hunksOf', () => {
  it('has no hunk when nothing changed, and keeps `context` lines around each change', () => {
    const same = diffLines(['a', 'b'], ['a', 'b']);
    expect(hunksOf(same)).toEqual({ hunks: [], skippedAfter: 2 });
    const before = Array.from({ length: 20 }, (_, i) => `l${i}`);
    const after = before.map((l, i) => (i === 2 || i === 15 ? `${l}!` : l));
    const { hunks, skippedAfter } = hunksOf(diffLines(before, after), 2);
    expect(hunks.map((h) => [h.skippedBefore, h.lines.length])).toEqual([
      [0, 6],
      [8, 6],
    ]);
    expect(skippedAfter).toBe(2);
  });
});
