import { describe, expect, it } from 'vitest';
import { parseDuration, parseRetryAfter, retryDelayMs } from './backoff.js';

describe('parseDuration', () => {
  it('reads 500ms, 30s, 15m, 6h and 1d', () => {
    expect(['500ms', '30s', '15m', '6h', '1d'].map((d) => parseDuration('--every', d))).toEqual([
      500, 30_000, 900_000, 21_600_000, 86_400_000,
    ]);
  });

  it('refuses what is not a duration, and zero', () => {
    for (const bad of ['', '6', 'h', '1.5h', '-1s', '0s', '1w', '6 h', '99999999999d'])
      expect(() => parseDuration('--every', bad), bad).toThrow(/--every: .* is not a duration/);
  });
});

describe('retryDelayMs', () => {
  it('doubles from the base, keeps half of it fixed and half random, and stops at the cap', () => {
    expect(retryDelayMs(0, 1000, 300_000, () => 0)).toBe(500);
    expect(retryDelayMs(0, 1000, 300_000, () => 1)).toBe(1000);
    expect(retryDelayMs(3, 1000, 300_000, () => 0.5)).toBe(6000);
    expect(retryDelayMs(40, 1000, 300_000, () => 1)).toBe(300_000);
    expect(retryDelayMs(40, 1000, 300_000, () => 0)).toBe(150_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-12-02T12:00:00Z');
  it('reads delay-seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 02 Dec 2026 12:01:30 GMT', now)).toBe(90_000);
    expect(parseRetryAfter('Wed, 02 Dec 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('ignores what is neither', () => {
    for (const bad of [null, '', '-5', '1.5', 'soon', '12345678901', 'Tomorrow 12:00'])
      expect(parseRetryAfter(bad, now), String(bad)).toBeUndefined();
  });
});
