import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IntelSet } from '../core/intel.js';
import { MAX_FACT_FILES, ReportSchema } from '../core/report.js';
import { tempTree } from '../testing/temp-tree.js';
import { scan } from './scan.js';

/** Only an MD5 indicator: the facts still carry every executable's SHA-256. */
const intel: IntelSet = {
  packs: [],
  apps: [],
  yara: [],
  indicators: [
    {
      id: 'l.1',
      kind: 'md5',
      value: 'f'.repeat(32),
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
  allFiles: false,
  maxYaraBytes: 1 << 20,
  crossFilesystems: false,
  threads: 2,
  yaraTimeoutMs: 10_000,
  intel,
  intelDiagnostics: [],
  strict: false,
  inventory: false,
  toolVersion: 'test',
};
const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

describe('the facts of a scan report', () => {
  it('list every executable and library with its digests, and no other file', async () => {
    const pe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 7)]);
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(100, 1)]);
    const root = tempTree({
      'Program Files/3CX/ffmpeg.dll': pe,
      'bin/tool': elf,
      'notes.txt': 'notes, not an executable',
      'readme.md': 'plain text',
    });
    const report = ReportSchema.parse(await scan({ ...options, paths: [root] }));
    const files = report.facts?.files ?? [];
    expect(files.map((f) => f.path.slice(root.length)).sort()).toEqual([
      '/Program Files/3CX/ffmpeg.dll',
      '/bin/tool',
    ]);
    const dll = files.find((f) => f.path.endsWith('ffmpeg.dll'));
    expect(dll).toMatchObject({ size: pe.length, sha256: sha256(pe) });
    expect(dll?.md5).toMatch(/^[0-9a-f]{32}$/);
    expect(report.facts?.filesOmitted).toBe(0);
  });

  it('show paths as the imaged system saw them', async () => {
    const pe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(64, 3)]);
    const image = tempTree({ 'Users/a/AppData/Local/Programs/3CXDesktopApp/ffmpeg.dll': pe });
    const report = await scan({ ...options, paths: [], imageRoot: image });
    expect(report.facts?.files.map((f) => f.path)).toEqual([
      '/Users/a/AppData/Local/Programs/3CXDesktopApp/ffmpeg.dll',
    ]);
  });

  it(`hold at most ${MAX_FACT_FILES} files and count the rest`, async () => {
    const files = Object.fromEntries(
      Array.from({ length: MAX_FACT_FILES + 7 }, (_, i) => [`d${i % 50}/f${i}.exe`, `MZ${i}`]),
    );
    const report = ReportSchema.parse(await scan({ ...options, paths: [tempTree(files)] }));
    expect(report.facts?.files).toHaveLength(MAX_FACT_FILES);
    expect(report.facts?.filesOmitted).toBe(7);
  });
});
