/**
 * Every bundled pack: signed by a key of the default keyring, rules compile cleanly, and its crafted fixtures
 * (tests/match, tests/nomatch) give exactly the findings tests/cases.json lists. Debian's yara, when installed,
 * must agree with our engine on every fixture.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileYara } from '../src/matchers/yara-engine.js';
import { DEFAULT_KEYRING } from '../src/packs/keyring.js';
import { BUNDLED_PACKS_DIR } from '../src/packs/load-intel.js';
import { readPackContent } from '../src/packs/pack-content.js';
import { verifyPack } from '../src/packs/verify-pack.js';
import { scan } from '../src/scan/scan.js';

const packIds = readdirSync(BUNDLED_PACKS_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(BUNDLED_PACKS_DIR, e.name, 'manifest.json')))
  .map((e) => e.name);
const hasYara = (() => {
  try {
    execFileSync('yara', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

describe.each(packIds)('bundled pack %s', (id) => {
  const dir = join(BUNDLED_PACKS_DIR, id);
  const testsDir = join(dir, 'tests');

  it('verifies with the default keyring and is not expired', async () => {
    const pack = await verifyPack(dir, { keyring: DEFAULT_KEYRING, requireFresh: true });
    expect(pack.manifest.id).toBe(id);
  });

  it('has rules that compile without errors or warnings', async () => {
    const content = readPackContent(await verifyPack(dir, { keyring: DEFAULT_KEYRING }));
    const compiled = compileYara(content.yara);
    compiled.rules?.dispose();
    expect(compiled.diagnostics).toEqual([]);
  });

  it('finds exactly what tests/cases.json expects in its fixtures', async () => {
    const expected = JSON.parse(readFileSync(join(testsDir, 'cases.json'), 'utf8')) as Record<
      string,
      string[]
    >;
    const intel = readPackContent(await verifyPack(dir, { keyring: DEFAULT_KEYRING }));
    const report = await scan({
      paths: [join(testsDir, 'match'), join(testsDir, 'nomatch')],
      excludes: [],
      allFiles: true,
      maxYaraBytes: 64 << 20,
      crossFilesystems: false,
      threads: 1,
      yaraTimeoutMs: 10_000,
      intel,
      intelDiagnostics: [],
      strict: true,
      inventory: false,
      toolVersion: 'test',
    });
    const found: Record<string, string[]> = {};
    for (const f of report.findings.filter((x) => x.packId === id)) {
      const file = relative(testsDir, f.subject.path ?? '');
      found[file] = [...(found[file] ?? []), f.indicatorId].sort();
    }
    const want = Object.fromEntries(Object.entries(expected).map(([file, ids]) => [file, [...ids].sort()]));
    expect(found).toEqual(want);
    expect(report.outcome).toBe('complete');
  });

  it.runIf(hasYara)("agrees with Debian's yara on every fixture", async () => {
    const content = readPackContent(await verifyPack(dir, { keyring: DEFAULT_KEYRING }));
    for (const rules of content.yara) {
      const ours = compileYara([rules]).rules;
      const ruleFile = join(dir, rules.file.slice(id.length + 1));
      const output = execFileSync('yara', ['-r', '-w', ruleFile, testsDir], { encoding: 'utf8' });
      const theirs = output
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const space = line.indexOf(' ');
          return `${line.slice(0, space)} ${relative(testsDir, line.slice(space + 1))}`;
        });
      const mine: string[] = [];
      for (const file of listFiles(testsDir)) {
        for (const m of ours?.scan(readFileSync(file), {}) ?? [])
          mine.push(`${m.rule} ${relative(testsDir, file)}`);
      }
      ours?.dispose();
      expect(mine.sort()).toEqual(theirs.sort());
    }
  });
});

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}
