import { describe, expect, it } from 'vitest';
import { ago, shown } from './format.js';

describe('how the console writes what hosts and users sent', () => {
  it('shows the characters that would reorder or hide text as their code points', () => {
    expect(shown('invoice\u202Eexe.pdf')).toBe('invoice[U+202E]exe.pdf');
    expect(shown('a\u200Bb\u2066c\u2069\uFEFF')).toBe('a[U+200B]b[U+2066]c[U+2069][U+FEFF]');
    expect(shown('3CX Desktop App 18.12.416 — München')).toBe('3CX Desktop App 18.12.416 — München');
    expect(shown(null)).toBe('');
  });

  it('says how long ago a time was', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    expect(ago('2026-12-04T11:59:30Z', now)).toBe('just now');
    expect(ago('2026-12-04T11:00:00Z', now)).toBe('1 hour ago');
    expect(ago('2026-12-01T12:00:00Z', now)).toBe('3 days ago');
    expect(ago(null, now)).toBe('never');
  });
});
