import { describe, expect, it } from 'vitest';
import type { Finding } from '../core/finding.js';
import { EXIT, exitCodeFor } from './exit-code.js';

const finding = (severity: Finding['severity']) => ({ severity }) as Finding;

describe('exitCodeFor', () => {
  it.each([
    [[], 'complete', 'low', 0],
    [[], 'partial', 'low', 3],
    [[finding('info')], 'complete', 'low', 0],
    [[finding('low')], 'complete', 'low', 1],
    [[finding('medium')], 'partial', 'high', 3],
    [[finding('critical')], 'partial', 'high', 1],
  ] as const)('%j %s fail-on %s -> %i', (findings, outcome, failOn, code) => {
    expect(exitCodeFor({ findings: [...findings], outcome }, failOn)).toBe(code);
  });
});

describe('EXIT', () => {
  it('gives output that could not be written its own code (sysexits EX_IOERR), never "findings"', () => {
    expect(EXIT.output).toBe(74);
    expect(new Set(Object.values(EXIT)).size).toBe(Object.values(EXIT).length);
  });
});
