import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IntelSet } from '../core/intel.js';
import { ReportSchema } from '../core/report.js';
import { tempTree } from '../testing/temp-tree.js';
import { scan } from './scan.js';

const intel: IntelSet = {
  packs: [],
  apps: [],
  yara: [
    {
      packId: 'local',
      file: 'r.yar',
      namespace: 'local/r.yar',
      text: 'rule Any { strings: $a = "needle" condition: $a }',
    },
  ],
  indicators: [
    {
      id: 'l.1',
      kind: 'sha256',
      value: 'f'.repeat(64),
      title: 't',
      severity: 'high',
      confidence: 'high',
      references: [],
      packId: 'local',
    },
  ],
};
const options = {
  excludes: [],
  allFiles: true,
  maxYaraBytes: 1 << 20,
  crossFilesystems: false,
  threads: 2,
  yaraTimeoutMs: 10_000,
  intel,
  intelDiagnostics: [],
  strict: false,
  toolVersion: 'test',
};

describe('scan', () => {
  it('keeps going when files vanish while it runs, and counts them', async () => {
    const files = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`d${i % 30}/f${i}.txt`, `file ${i} needle`]),
    );
    const root = tempTree(files);
    // Delete two thirds of the tree as soon as the first file has been swept.
    let removed: Promise<unknown> | undefined;
    const report = await scan({
      ...options,
      paths: [root],
      onFinding: () => {
        removed ??= new Promise((resolve) =>
          spawn('sh', ['-c', `rm -rf ${join(root, 'd1*')} ${join(root, 'd2*')}`]).on('exit', resolve),
        );
      },
    });
    await removed;
    ReportSchema.parse(report);
    const vanished = report.stats.skipped.vanished ?? 0;
    expect(report.stats.files + vanished).toBeLessThanOrEqual(3000);
    expect(report.stats.files).toBeLessThan(3000);
    expect(report.findings).toHaveLength(report.stats.files);
    expect(report.coverage.find((c) => c.name === 'read')?.problemCount).toBe(0);
    expect(report.coverage.find((c) => c.name === 'walk')?.problemCount).toBe(0);
  });

  it('refuses a path outside the image root', async () => {
    const image = tempTree({ 'x.txt': 'x' });
    await expect(scan({ ...options, paths: ['/etc'], imageRoot: image })).rejects.toThrow(
      /outside the image root/,
    );
  });
});
