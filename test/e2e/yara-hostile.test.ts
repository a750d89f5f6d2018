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
