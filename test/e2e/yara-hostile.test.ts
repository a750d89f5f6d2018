import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeEngineAvailable } from '../../src/matchers/yara-native.js';
import { signByHand } from '../../src/testing/hand-signed-pack.js';
import { runCli } from '../../src/testing/run-cli.js';
import { tempTree, writeTree } from '../../src/testing/temp-tree.js';

const engines = nativeEngineAvailable() ? ['wasm', 'native'] : ['wasm'];

describe('a signed pack whose rules include an unsigned file (end to end)', () => {
  it('is refused by packs sign, packs verify and scan --pack on every engine, and the include never runs', async () => {
    const dir = tempTree({
      'x.yar': 'rule injected { meta: severity = "critical" strings: $a = "HELLO" condition: $a }\n',
      'target/greeting.txt': 'HELLO',
      'draft/manifest.json': JSON.stringify({ id: 'inc', title: 'includes', references: [] }),
    });
    const rule = `rule mine { condition: false }\n\ninclude "${join(dir, 'x.yar')}"\n`;
    writeTree(join(dir, 'draft'), { 'rules/a.yar': rule });
    expect((await runCli(['packs', 'keygen', '--out', join(dir, 'k')])).code).toBe(0);
    const keyring = join(dir, 'k.keyring.json');

    const sign = await runCli(['packs', 'sign', join(dir, 'draft'), '--key', join(dir, 'k.key')]);
    expect(sign.code).toBe(2);
    expect(sign.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/inc: rules\/a\.yar:3: include .*x\.yar/),
    ]);

    const signed = join(dir, 'signed');
    signByHand(signed, 'inc', { 'rules/a.yar': rule }, readFileSync(join(dir, 'k.key'), 'utf8'));
    const verify = await runCli(['packs', 'verify', signed, '--keyring', keyring]);
    expect(verify.code).toBe(2);
    expect(verify.stdout).toMatch(/^FAIL pack inc: rules\/a\.yar:3: include .*x\.yar.*\n$/);

    for (const engine of engines) {
      const scan = await runCli([
        'scan',
        join(dir, 'target'),
        '--pack',
        signed,
        '--keyring',
        keyring,
        '--all-files',
        '--yara-engine',
        engine,
        '--format',
        'json',
      ]);
      expect(scan.code, engine).toBe(2);
      expect(scan.stdout).toBe('');
      expect(scan.stderr.trim().split('\n')).toEqual([expect.stringMatching(/rules\/a\.yar:3: include/)]);
    }
  });
});

/** Quadratic in the file size: a few hundred KB take the native engine minutes, the WebAssembly one hours. */
const SLOW_RULE = `rule quadratic {
  condition: filesize > 100000 and
    for any i in (0..filesize) : ( for any j in (0..filesize) : ( uint8(i) == uint8(j) + 300 ) )
}
rule marker { meta: severity = "high" strings: $a = "MARKER-7731" condition: $a }
`;

interface JsonReport {
  outcome: string;
  findings: { indicatorId: string; subject: { path?: string } }[];
  coverage: { name: string; outcome: string; problems: { path: string; code: string }[] }[];
  stats: { files: number };
}

describe.each(engines)(
  'a YARA rule that runs for hours on some files, with the %s engine (end to end)',
  (engine) => {
    const slow = Buffer.alloc(300_000);
    const files: Record<string, string | Uint8Array> = {
      'rules/slow.yar': SLOW_RULE,
      'tree/a-slow.bin': slow,
      'tree/m-slow.bin': Buffer.concat([slow, Buffer.from('x')]),
    };
    for (let n = 0; n < 30; n++) files[`tree/f${String(n).padStart(2, '0')}.txt`] = `file ${n}\n`;

    it('stops each such file at --yara-timeout, records it timed-out, and sweeps every other file', async () => {
      const dir = tempTree(files);
      const started = Date.now();
      const result = await runCli(
        [
          'scan',
          join(dir, 'tree'),
          '--no-bundled',
          '--yara',
          join(dir, 'rules'),
          '--all-files',
          '--yara-engine',
          engine,
          '--yara-timeout',
          '1',
          '--threads',
          '2',
          '--format',
          'json',
        ],
        { timeoutMs: 60_000 },
      );
      const seconds = (Date.now() - started) / 1000;
      expect(result.code, result.stderr).toBe(3);
      const report = JSON.parse(result.stdout) as JsonReport;
      expect(report.stats.files).toBe(32);
      const yara = report.coverage.find((c) => c.name === 'yara');
      expect(yara?.outcome).toBe('partial');
      expect(yara?.problems.map((p) => [p.path.slice(dir.length), p.code]).sort()).toEqual([
        ['/tree/a-slow.bin', 'yara-timed-out'],
        ['/tree/m-slow.bin', 'yara-timed-out'],
      ]);
      expect(seconds).toBeLessThan(20);
    });

    it('still reports what the timed-out file matched by hash, and what the other files matched', async () => {
      const dir = tempTree({
        ...files,
        'tree/f05.txt': 'MARKER-7731',
        'iocs.txt': `${createHash('sha256').update(slow).digest('hex')}  a-slow.bin\n`,
      });
      const result = await runCli(
        [
          'scan',
          join(dir, 'tree'),
          '--no-bundled',
          '--yara',
          join(dir, 'rules'),
          '--ioc',
          join(dir, 'iocs.txt'),
          '--all-files',
          '--yara-engine',
          engine,
          '--yara-timeout',
          '1',
          '--threads',
          '1',
          '--format',
          'json',
        ],
        { timeoutMs: 60_000 },
      );
      expect(result.code, result.stderr).toBe(1);
      const report = JSON.parse(result.stdout) as JsonReport;
      expect(report.findings.map((f) => f.subject.path?.slice(dir.length)).sort()).toEqual([
        '/tree/a-slow.bin',
        '/tree/f05.txt',
      ]);
      expect(report.stats.files).toBe(32);
    });
  },
);
