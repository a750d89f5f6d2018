import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IntelSet } from '../core/intel.js';
import { SplitFiles } from './split-files.js';

const data = Buffer.from('a large file, pretend');
const digests = {
  md5: createHash('md5').update(data).digest('hex'),
  sha1: createHash('sha1').update(data).digest('hex'),
  sha256: createHash('sha256').update(data).digest('hex'),
};
const intel: IntelSet = {
  packs: [],
  apps: [],
  yara: [],
  indicators: (['md5', 'sha1', 'sha256'] as const).map((kind) => ({
    id: `t.${kind}`,
    kind,
    value: kind === 'md5' ? digests.md5 : kind === 'sha1' ? '0'.repeat(40) : '1'.repeat(64),
    title: kind,
    severity: 'high' as const,
    confidence: 'high' as const,
    references: [],
    packId: 'p',
  })),
};

describe('SplitFiles', () => {
  it('shares the digests out by cost and matches the file once every part is in', () => {
    const split = new SplitFiles(intel, 2, {
      allFiles: false,
      imageRoot: undefined,
      hasYaraRules: () => true,
    });
    expect(split.worthwhile).toBe(true);
    const jobs = split.plan('/x/big.iso');
    expect(jobs.map((j) => j.algorithms)).toEqual([['md5'], ['sha1', 'sha256']]);
    expect(
      split.add({ path: '/x/big.iso', size: data.length, digests: { md5: digests.md5 }, head: data }),
    ).toBeUndefined();
    expect(split.inProgress).toBe(1);
    const outcome = split.add({
      path: '/x/big.iso',
      size: data.length,
      digests: { sha1: digests.sha1, sha256: digests.sha256 },
    });
    expect(outcome?.findings.map((f) => f.indicatorId)).toEqual(['t.md5']);
    expect(outcome?.yara).toBe('too-large');
    expect(split.inProgress).toBe(0);
  });

  it('reports a part that failed as the file failing', () => {
    const split = new SplitFiles(intel, 2, {
      allFiles: false,
      imageRoot: undefined,
      hasYaraRules: () => false,
    });
    split.plan('/x/gone.iso');
    split.add({ path: '/x/gone.iso', digests: {}, problem: { code: 'vanished', message: 'gone' } });
    expect(split.add({ path: '/x/gone.iso', size: 3, digests: { sha1: 'x' } })).toEqual({
      path: '/x/gone.iso',
      findings: [],
      problem: { code: 'vanished', message: 'gone' },
    });
  });

  it('does not split with one thread or one digest', () => {
    expect(
      new SplitFiles(intel, 1, { allFiles: false, imageRoot: undefined, hasYaraRules: () => false })
        .worthwhile,
    ).toBe(false);
    const one = { ...intel, indicators: intel.indicators.slice(2) };
    expect(
      new SplitFiles(one, 4, { allFiles: false, imageRoot: undefined, hasYaraRules: () => false }).worthwhile,
    ).toBe(false);
  });
});
