import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReportSchema } from '../../src/core/report.js';
import { BUNDLED_PACKS_DIR } from '../../src/packs/load-intel.js';
import { deepTree } from '../../src/testing/deep-tree.js';
import { runCli } from '../../src/testing/run-cli.js';
import { tempTree } from '../../src/testing/temp-tree.js';

const EVIL = 'this file is known bad\n';
const sha256 = (text: string) => execFileSync('sha256sum', { input: text }).toString().slice(0, 64);
const parseJson = (text: string) => ReportSchema.parse(JSON.parse(text));
const FIXTURES = join(BUNDLED_PACKS_DIR, '3cx-2023/tests/match');
/** `dir` + `/` + raw name bytes, as a Buffer path. */
const bytePath = (dir: string, ...parts: (string | number[])[]) =>
  Buffer.concat([Buffer.from(`${dir}/`), ...parts.map((p) => Buffer.from(p as string))]);

describe('chainsweep scan of hostile file names and trees', () => {
  it('finds a DLL whose name is not UTF-8 by YARA and a file by name in a folder that is not, and reports them escaped', async () => {
    const dir = tempTree();
    const dll = bytePath(dir, 'evil', [0xff], '.dll');
    writeFileSync(dll, readFileSync(join(FIXTURES, 'samcli.dll')));
    mkdirSync(bytePath(dir, 'bad', [0xfe]));
    const msi = bytePath(dir, 'bad', [0xfe], '/3CXDesktopApp-18.12.416.msi');
    writeFileSync(msi, 'installer stand-in\n');
    const result = await runCli(['scan', dir, '--format', 'json']);
    expect(result.code).toBe(1);
    const report = parseJson(result.stdout);
    expect(report.outcome).toBe('complete');
    expect(report.stats.skipped.vanished ?? 0).toBe(0);
    const byId = new Map(report.findings.map((f) => [f.indicatorId, f.subject]));
    expect(byId.get('CS_3CX_ICONIC_Loader')).toEqual({
      path: `${dir}/evil\\xFF.dll`,
      pathBytes: dll.toString('base64'),
    });
    expect(byId.get('3cx.name.3cxdesktopapp-18-12-416-msi')).toEqual({
      path: `${dir}/bad\\xFE/3CXDesktopApp-18.12.416.msi`,
      pathBytes: msi.toString('base64'),
    });

    const text = await runCli(['scan', dir]);
    expect(text.stdout).toContain(`    ${dir}/evil\\xFF.dll\n`);
    expect(text.stdout).not.toContain('\ufffd');

    // As a mounted image: the path inside the image is escaped, and carried exactly, the same way.
    const image = parseJson((await runCli(['scan', '--root', dir, '--format', 'json'])).stdout);
    const inImage = image.findings.find((f) => f.indicatorId === '3cx.name.3cxdesktopapp-18-12-416-msi');
    expect(inImage?.subject).toMatchObject({
      imagePath: '/bad\\xFE/3CXDesktopApp-18.12.416.msi',
      imagePathBytes: Buffer.from('/bad\xfe/3CXDesktopApp-18.12.416.msi', 'latin1').toString('base64'),
    });
  });

  it('finds a known-bad file 5,000 folders deep, far past PATH_MAX', async () => {
    const dir = deepTree({ 'iocs.txt': `${sha256(EVIL)};deep and bad\n` }, 'd', 5000, {
      5000: { 'evil.txt': EVIL },
    });
    const result = await runCli(
      ['scan', dir, '--no-bundled', '--ioc', join(dir, 'iocs.txt'), '--format', 'json'],
      {
        timeoutMs: 120_000,
      },
    );
    const report = parseJson(result.stdout);
    expect(report.findings.map((f) => f.title)).toEqual(['deep and bad']);
    expect(report.findings[0]?.subject.path).toBe(`${dir}/${'d/'.repeat(5000)}evil.txt`);
    expect(report.outcome).toBe('complete');
    expect(report.stats.files).toBe(2);
    expect(result.code).toBe(1);
  });

  it('follows a root that is a symlink, as find -H, and no symlink below it', async () => {
    const dir = tempTree({
      'real/a.txt': EVIL,
      'real/sub/b.txt': EVIL,
      'elsewhere/c.txt': EVIL,
      'iocs.txt': sha256(EVIL),
    });
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'real/sub/to-elsewhere'));
    symlinkSync(join(dir, 'elsewhere/c.txt'), join(dir, 'real/c-link.txt'));
    symlinkSync(join(dir, 'real'), join(dir, 'root-link'));
    symlinkSync(join(dir, 'real/a.txt'), join(dir, 'file-link'));
    const scan = async (path: string) => {
      const result = await runCli([
        'scan',
        path,
        '--no-bundled',
        '--ioc',
        join(dir, 'iocs.txt'),
        '--format',
        'json',
      ]);
      expect(result.code).toBe(1);
      return parseJson(result.stdout);
    };
    const linked = await scan(join(dir, 'root-link'));
    expect(linked.findings.map((f) => f.subject.path).sort()).toEqual([
      join(dir, 'root-link/a.txt'),
      join(dir, 'root-link/sub/b.txt'),
    ]);
    expect(linked.stats.skipped.symlink).toBe(2);
    const file = await scan(join(dir, 'file-link'));
    expect(file.findings.map((f) => f.subject.path)).toEqual([join(dir, 'file-link')]);

    // A large file named through a symlink is hashed in parts on several workers: each part follows it too.
    writeFileSync(join(dir, 'big.bin'), '');
    truncateSync(join(dir, 'big.bin'), 80 << 20);
    symlinkSync(join(dir, 'big.bin'), join(dir, 'big-link'));
    const big = await runCli(['scan', join(dir, 'big-link'), '--threads', '3', '--format', 'json']);
    const report = parseJson(big.stdout);
    expect(report.stats.files).toBe(1);
    expect(report.stats.bytes).toBe(80 << 20);
    expect(report.coverage.find((c) => c.name === 'read')?.problemCount).toBe(0);
  });

  it('refuses a root on a pseudo filesystem unless --allow-pseudo-fs', async () => {
    for (const path of ['/proc', '/proc/self/status', '/sys/kernel']) {
      const refused = await runCli(['scan', path, '--no-bundled']);
      expect(refused.code).toBe(2);
      expect(refused.stdout).toBe('');
      expect(refused.stderr.trim().split('\n')).toEqual([
        `chainsweep: ${path}: is on a pseudo filesystem (${path === '/proc' || path.startsWith('/proc/') ? 'proc' : 'sysfs'}); pass --allow-pseudo-fs to sweep it`,
      ]);
    }
    const allowed = await runCli([
      'scan',
      '/proc/self/status',
      '--no-bundled',
      '--allow-pseudo-fs',
      '--format',
      'json',
    ]);
    expect([0, 3]).toContain(allowed.code);
    expect(parseJson(allowed.stdout).stats.files).toBe(1);
  });

  it('escapes control characters in names: a file name cannot forge a line of the text report', async () => {
    const dir = tempTree({ 'iocs.txt': sha256(EVIL) });
    mkdirSync(join(dir, 'scan'));
    writeFileSync(join(dir, 'scan', 'x\nresult: no findings'), EVIL);
    writeFileSync(join(dir, 'scan', 'y\r\x1b[2K\u202eresult: no findings'), EVIL);
    const result = await runCli(['scan', join(dir, 'scan'), '--no-bundled', '--ioc', join(dir, 'iocs.txt')]);
    expect(result.code).toBe(1);
    const lines = result.stdout.split('\n');
    expect(lines.filter((l) => l.startsWith('result:'))).toEqual([
      'result: 2 findings (2 high); coverage complete',
    ]);
    for (const raw of ['\r', '\x1b', '\u202e']) expect(result.stdout).not.toContain(raw);
    expect(lines).toContain(`    ${dir}/scan/x\\x0Aresult: no findings`);
    expect(lines).toContain(`    ${dir}/scan/y\\x0D\\x1B[2K\\u{202E}result: no findings`);

    // JSON carries the names exactly (JSON escapes them itself).
    const json = parseJson(
      (
        await runCli([
          'scan',
          join(dir, 'scan'),
          '--no-bundled',
          '--ioc',
          join(dir, 'iocs.txt'),
          '--format',
          'json',
        ])
      ).stdout,
    );
    expect(json.findings.map((f) => f.subject.path).sort()).toEqual([
      join(dir, 'scan', 'x\nresult: no findings'),
      join(dir, 'scan', 'y\r\x1b[2K\u202eresult: no findings'),
    ]);
  });
});
