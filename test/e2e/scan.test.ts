import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReportSchema } from '../../src/core/report.js';
import { BUNDLED_PACKS_DIR } from '../../src/packs/load-intel.js';
import { NdjsonLineSchema } from '../../src/report/ndjson.js';
import { runCli } from '../../src/testing/run-cli.js';
import { indicatorsFile, makeSignedPack } from '../../src/testing/signed-pack.js';
import { tempTree } from '../../src/testing/temp-tree.js';

const EVIL = 'this file is known bad\n';
const sha256 = (text: string) => execFileSync('sha256sum', { input: text }).toString().slice(0, 64);
const parseJson = (text: string) => ReportSchema.parse(JSON.parse(text));

describe('chainsweep scan (end to end)', () => {
  it('exits 2 with one line for a path that does not exist', async () => {
    const result = await runCli(['scan', '/no/such/place', '--no-bundled']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'chainsweep: /no/such/place: no such file or directory',
    ]);
    expect(result.stdout).toBe('');
  });

  it('exits 0 on an empty tree', async () => {
    const result = await runCli(['scan', tempTree(), '--no-bundled']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('No findings.');
  });

  it('rejects bad options with one line and exit 2', async () => {
    for (const args of [
      ['scan', '--format', 'xml'],
      ['scan', '--bogus'],
      ['scan', '--max-yara-size', 'lots'],
      ['frobnicate'],
    ]) {
      const result = await runCli(args);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('finds a listed hash past a FIFO, a symlink loop and a dangling symlink, and reports bad IOC lines', async () => {
    const dir = tempTree({
      'a/b/evil.txt': EVIL,
      'a/clean.txt': 'fine\n',
      'iocs/hashes.txt': `${sha256(EVIL)};known bad test file\nnot-a-hash;oops\n`,
    });
    execFileSync('mkfifo', [join(dir, 'a/pipe')]);
    symlinkSync('..', join(dir, 'a/b/loop'));
    symlinkSync('/nowhere', join(dir, 'a/dangling'));
    const result = await runCli(
      ['scan', join(dir, 'a'), '--no-bundled', '--ioc', join(dir, 'iocs/hashes.txt'), '--format', 'json'],
      {
        timeoutMs: 20_000,
      },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('hashes.txt:2: error: not an MD5, SHA-1 or SHA-256 hash: "not-a-hash"');
    const report = parseJson(result.stdout);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({
      kind: 'sha256',
      packId: 'local',
      indicatorId: 'local:hashes.txt:1',
      title: 'known bad test file',
      subject: { path: join(dir, 'a/b/evil.txt') },
    });
    expect(report.stats.files).toBe(2);
    expect(report.stats.skipped).toMatchObject({ special: 1, symlink: 2 });
    expect(report.packs).toEqual([
      expect.objectContaining({ id: 'local', signed: false, title: 'local, unsigned' }),
    ]);
    // The rejected IOC line makes the intel coverage partial.
    expect(report.outcome).toBe('partial');
    expect(report.coverage.find((c) => c.name === 'intel')?.problemCount).toBe(1);
  });

  it('records unreadable folders and files, and exits 3 when nothing was found', async () => {
    const dir = tempTree({ 'open/ok.txt': 'ok\n', 'closed/secret.txt': 'x\n', 'open/locked.txt': 'y\n' });
    chmodSync(join(dir, 'closed'), 0o000);
    chmodSync(join(dir, 'open/locked.txt'), 0o000);
    const result = await runCli(['scan', dir, '--no-bundled', '--format', 'json'], { obeyPermissions: true });
    expect(result.code).toBe(3);
    const report = parseJson(result.stdout);
    const problems = Object.fromEntries(
      report.coverage.map((c) => [c.name, c.problems.map((p) => [p.path, p.code])]),
    );
    expect(problems.walk).toEqual([[join(dir, 'closed'), 'unreadable-dir']]);
    expect(problems.read).toEqual([[join(dir, 'open/locked.txt'), 'unreadable']]);
  });

  it('refuses a tampered pack before scanning, naming the file', async () => {
    const pack = await makeSignedPack('tamper-test', {
      'indicators.json': indicatorsFile([
        { id: 't.1', kind: 'filename', value: 'x.exe', title: 't', severity: 'high', confidence: 'high' },
      ]),
    });
    const keyring = join(tempTree({ 'k.json': JSON.stringify({ keys: [pack.key] }) }), 'k.json');
    const ok = await runCli(['scan', tempTree(), '--no-bundled', '--pack', pack.dir, '--keyring', keyring]);
    expect(ok.code).toBe(0);
    const unknownKey = await runCli(['scan', tempTree(), '--no-bundled', '--pack', pack.dir]);
    expect(unknownKey.code).toBe(2);
    expect(unknownKey.stderr).toMatch(/signed by unknown key/);
    writeFileSync(
      join(pack.dir, 'indicators.json'),
      readFileSync(join(pack.dir, 'indicators.json'), 'utf8').replace('x.exe', 'y.exe'),
    );
    const tampered = await runCli([
      'scan',
      tempTree(),
      '--no-bundled',
      '--pack',
      pack.dir,
      '--keyring',
      keyring,
    ]);
    expect(tampered.code).toBe(2);
    expect(tampered.stderr.trim()).toBe(
      'chainsweep: pack tamper-test: file indicators.json does not match its SHA-256 (tampered)',
    );
  });

  it('loads the rule files that compile, names the bad one with its line, and refuses with --strict', async () => {
    const dir = tempTree({
      'rules/good.yar': 'rule Marker { strings: $a = "MARKER-123" condition: $a }',
      'rules/nested/bad.yar': 'rule Bad {\n  strings:\n    $a = "x"\n  condition:\n    $b\n}\n',
      'files/hit.exe': 'MZ....MARKER-123....',
    });
    const loose = await runCli([
      'scan',
      join(dir, 'files'),
      '--no-bundled',
      '--yara',
      join(dir, 'rules'),
      '--format',
      'json',
    ]);
    expect(loose.stderr).toContain(`${join(dir, 'rules/nested/bad.yar')}:5:5: error: [E`);
    expect(loose.code).toBe(1);
    const report = parseJson(loose.stdout);
    expect(report.findings.map((f) => [f.kind, f.indicatorId])).toEqual([['yara', 'Marker']]);
    expect(report.coverage.find((c) => c.name === 'intel')).toMatchObject({
      outcome: 'partial',
      problemCount: 1,
    });

    const strict = await runCli([
      'scan',
      join(dir, 'files'),
      '--no-bundled',
      '--yara',
      join(dir, 'rules'),
      '--strict',
    ]);
    expect(strict.code).toBe(2);
    expect(strict.stderr.trim()).toMatch(/bad\.yar:5: \[E\d+\] unknown pattern/);
  });

  it('runs YARA only on malware file types unless --all-files', async () => {
    const dir = tempTree({
      'rules.yar': 'rule Marker { strings: $a = "MARKER-123" condition: $a }',
      'scan/notes.txt': 'text MARKER-123\n',
      'scan/tool.ps1': 'Write-Host MARKER-123\n',
    });
    const base = [
      'scan',
      join(dir, 'scan'),
      '--no-bundled',
      '--yara',
      join(dir, 'rules.yar'),
      '--format',
      'json',
    ];
    const byType = parseJson((await runCli(base)).stdout);
    expect(byType.findings.map((f) => f.subject.path)).toEqual([join(dir, 'scan/tool.ps1')]);
    expect(byType.stats.skipped['yara-not-malware-type']).toBe(1);
    expect(byType.scope.yaraFiles).toBe('malware-types');
    const all = parseJson((await runCli([...base, '--all-files'])).stdout);
    expect(all.findings).toHaveLength(2);
    expect(all.scope.yaraFiles).toBe('all-files');
  });

  it('hashes files above the YARA limit, says so, and marks coverage partial for executables', async () => {
    const dir = tempTree({
      'rules.yar': 'rule Marker { strings: $a = "MARKER" condition: $a }',
      'big.exe': `MZ${'A'.repeat(5000)}MARKER`,
    });
    const result = await runCli([
      'scan',
      join(dir, 'big.exe'),
      '--no-bundled',
      '--yara',
      join(dir, 'rules.yar'),
      '--max-yara-size',
      '4K',
      '--format',
      'json',
    ]);
    expect(result.code).toBe(3);
    const report = parseJson(result.stdout);
    expect(report.stats.bytes).toBe(5008);
    expect(report.coverage.find((c) => c.name === 'yara')?.problems).toEqual([
      { path: join(dir, 'big.exe'), code: 'too-large', message: '5008 bytes, above the YARA limit of 4096' },
    ]);
  });

  it('writes NDJSON: one line per finding, then a summary', async () => {
    const dir = tempTree({ 'x/a.txt': EVIL, 'x/b.txt': EVIL, 'iocs.txt': sha256(EVIL) });
    const result = await runCli([
      'scan',
      join(dir, 'x'),
      '--no-bundled',
      '--ioc',
      join(dir, 'iocs.txt'),
      '--format',
      'ndjson',
    ]);
    expect(result.code).toBe(1);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => NdjsonLineSchema.parse(JSON.parse(l)));
    expect(lines.map((l) => l.type)).toEqual(['finding', 'finding', 'summary']);
  });

  it('writes --output atomically and nothing to stdout; --fail-on raises the bar', async () => {
    const dir = tempTree({ 'x/a.txt': EVIL, 'iocs.txt': `${sha256(EVIL)};40;low one` });
    const out = join(dir, 'report.json');
    const result = await runCli([
      'scan',
      join(dir, 'x'),
      '--no-bundled',
      '--ioc',
      join(dir, 'iocs.txt'),
      '--format',
      'json',
      '--output',
      out,
      '--fail-on',
      'medium',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(parseJson(readFileSync(out, 'utf8')).findings[0]?.severity).toBe('low');
  });

  it('skips --exclude matches by name and by path', async () => {
    const dir = tempTree({
      'node_modules/x/a.txt': EVIL,
      'keep/a.txt': EVIL,
      'keep/media/b.iso': EVIL,
      'iocs.txt': sha256(EVIL),
    });
    const result = await runCli([
      'scan',
      dir,
      '--no-bundled',
      '--ioc',
      join(dir, 'iocs.txt'),
      '--format',
      'json',
      '--exclude',
      'node_modules',
      '--exclude',
      '*.iso',
    ]);
    expect(parseJson(result.stdout).findings.map((f) => f.subject.path)).toEqual([join(dir, 'keep/a.txt')]);
  });

  it('reports paths inside a mounted image as the imaged system saw them', async () => {
    const image = tempTree({
      'Users/alice/Library/Application Support/3CX Desktop App/UpdateAgent': 'not really\n',
      'Library/Graphics/Quartz': 'poolrat stand-in\n',
    });
    const result = await runCli(['scan', '--root', image, '--format', 'json']);
    expect(result.code).toBe(1);
    const report = parseJson(result.stdout);
    expect(report.scope.imageRoot).toBe(image);
    expect(report.findings.map((f) => f.subject.imagePath).sort()).toEqual([
      '/Library/Graphics/Quartz',
      '/Users/alice/Library/Application Support/3CX Desktop App/UpdateAgent',
    ]);
    expect(report.findings.every((f) => f.packId === '3cx-2023' && f.kind === 'filename')).toBe(true);
  });

  it('sweeps with the bundled 3CX pack by default, and never flags its own fixtures when scanning around them', async () => {
    const fixtures = join(BUNDLED_PACKS_DIR, '3cx-2023/tests/match');
    const direct = await runCli(['scan', fixtures, '--format', 'json']);
    expect(direct.code).toBe(1);
    expect(parseJson(direct.stdout).findings.length).toBeGreaterThanOrEqual(9);
    const around = await runCli([
      'scan',
      join(BUNDLED_PACKS_DIR, '..'),
      '--format',
      'json',
      '--exclude',
      'node_modules',
      '--exclude',
      '.git',
      '--exclude',
      '.work',
    ]);
    const report = parseJson(around.stdout);
    expect(report.findings).toEqual([]);
    expect(report.stats.skipped['chainsweep-own-files']).toBe(1);
  });

  it('hashes a 5 GiB sparse file without holding it in memory', async () => {
    const dir = tempTree();
    writeFileSync(join(dir, 'sparse.dat'), '');
    truncateSync(join(dir, 'sparse.dat'), 5 * 1024 ** 3);
    const zeros = '7f06c62352aebd8125b2a1841e2b9e1ffcbed602f381c3dcb3200200e383d1d5'; // SHA-256 of 5 GiB of zero bytes
    writeFileSync(join(dir, 'iocs.txt'), `${zeros};five gibibytes of zeros`);
    const result = await runCli(
      ['scan', join(dir, 'sparse.dat'), '--no-bundled', '--ioc', join(dir, 'iocs.txt'), '--format', 'json'],
      { timeoutMs: 120_000 },
    );
    const report = parseJson(result.stdout);
    expect(report.stats.bytes).toBe(5 * 1024 ** 3);
    expect(report.findings.map((f) => f.title)).toEqual(['five gibibytes of zeros']);
  });
});
