import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/testing/run-cli.js';
import { indicatorsFile, makeSignedPack } from '../../src/testing/signed-pack.js';
import { tempTree } from '../../src/testing/temp-tree.js';

describe('chainsweep packs (end to end)', () => {
  it('makes a key, signs a pack, verifies it, lists it and scans with it', async () => {
    const dir = tempTree({
      'acme-2026/manifest.json': JSON.stringify({
        id: 'acme-2026',
        title: 'ACME updater compromise',
        references: [],
      }),
      'acme-2026/indicators.json': indicatorsFile([
        {
          id: 'acme.1',
          kind: 'filename',
          value: 'acme-updater.exe',
          title: 'ACME trojanized updater',
          severity: 'critical',
          confidence: 'high',
        },
      ]),
      'acme-2026/rules/acme.yar':
        'rule ACME_Marker { meta: severity = "high" strings: $a = "ACME-IMPLANT" condition: uint16(0) == 0x5A4D and $a }',
      'acme-2026/tests/match/x.exe': 'MZ ACME-IMPLANT',
      'target/acme-updater.exe': 'MZ ACME-IMPLANT',
    });
    const keygen = await runCli(['packs', 'keygen', '--out', join(dir, 'k'), '--name', 'acme test']);
    expect(keygen.code).toBe(0);
    expect(keygen.stdout).toMatch(/^key id [0-9a-f]{64}\n/);
    expect(keygen.stdout).not.toContain('PRIVATE KEY');
    expect(statSync(join(dir, 'k.key')).mode & 0o777).toBe(0o600);
    expect((await runCli(['packs', 'keygen', '--out', join(dir, 'k')])).code).toBe(2);

    const sign = await runCli(['packs', 'sign', join(dir, 'acme-2026'), '--key', join(dir, 'k.key')]);
    expect(sign.stdout).toMatch(/signed acme-2026 sequence 1: 2 files/);
    const manifest = JSON.parse(readFileSync(join(dir, 'acme-2026/manifest.json'), 'utf8'));
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual([
      'indicators.json',
      'rules/acme.yar',
    ]);

    const keyring = join(dir, 'k.keyring.json');
    const verify = await runCli(['packs', 'verify', join(dir, 'acme-2026'), '--keyring', keyring]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^ok {3}acme-2026 #1/);
    expect((await runCli(['packs', 'verify', join(dir, 'acme-2026')])).stdout).toMatch(/^FAIL .*unknown key/);

    const list = await runCli(['packs', 'list', '--pack', join(dir, 'acme-2026'), '--keyring', keyring]);
    expect(list.stdout).toContain('3cx-2023 #');
    expect(list.stdout).toContain('acme-2026 #1  ACME updater compromise');

    const scan = await runCli([
      'scan',
      join(dir, 'target'),
      '--pack',
      join(dir, 'acme-2026'),
      '--keyring',
      keyring,
      '--format',
      'json',
    ]);
    expect(scan.code).toBe(1);
    const ids = JSON.parse(scan.stdout)
      .findings.map((f: { indicatorId: string }) => f.indicatorId)
      .sort();
    expect(ids).toEqual(['ACME_Marker', 'acme.1']);

    const resign = await runCli(['packs', 'sign', join(dir, 'acme-2026'), '--key', join(dir, 'k.key')]);
    expect(resign.stdout).toMatch(/sequence 2/);
  });

  it('refuses to sign a pack whose rules do not compile or whose indicators are malformed', async () => {
    const dir = tempTree({
      'bad/manifest.json': JSON.stringify({ id: 'bad', title: 'bad', references: [] }),
      'bad/rules/x.yar': 'rule X {\n condition: $nope\n}',
    });
    await runCli(['packs', 'keygen', '--out', join(dir, 'k')]);
    const sign = await runCli(['packs', 'sign', join(dir, 'bad'), '--key', join(dir, 'k.key')]);
    expect(sign.code).toBe(2);
    expect(sign.stderr).toMatch(/bad\/rules\/x\.yar:2:13: error/);
    writeFileSync(join(dir, 'bad/rules/x.yar'), 'rule X { condition: true }');
    writeFileSync(
      join(dir, 'bad/indicators.json'),
      indicatorsFile([
        { id: 'x', kind: 'sha256', value: 'abc', title: 't', severity: 'high', confidence: 'high' },
      ]),
    );
    const again = await runCli(['packs', 'sign', join(dir, 'bad'), '--key', join(dir, 'k.key')]);
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toBe(
      'chainsweep: pack bad: indicators.json: indicators[0].value: sha256 must be 64 lowercase hex digits',
    );
  });

  it('warns about an expired pack, and refuses it with --require-fresh', async () => {
    const pack = await makeSignedPack(
      'old',
      { 'indicators.json': indicatorsFile([]) },
      { now: new Date('2024-01-01'), expiresInDays: 30 },
    );
    const keyring = join(tempTree({ 'k.json': JSON.stringify({ keys: [pack.key] }) }), 'k.json');
    const args = ['scan', tempTree(), '--no-bundled', '--pack', pack.dir, '--keyring', keyring];
    const stale = await runCli(args);
    expect(stale.code).toBe(0);
    expect(stale.stderr).toContain('pack old expired on 2024-01-31');
    const strict = await runCli([...args, '--require-fresh']);
    expect(strict.code).toBe(2);
    expect(strict.stderr.trim()).toBe('chainsweep: pack old: expired on 2024-01-31T00:00:00.000Z');
  });
});

describe('chainsweep packs convert (end to end)', () => {
  it('turns a STIX bundle into a signed pack, reports rejects, and the pack scans', async () => {
    const dir = tempTree({
      'bundle.json': JSON.stringify({
        type: 'bundle',
        id: 'bundle--x',
        objects: [
          {
            type: 'indicator',
            id: 'indicator--1',
            name: 'Dropper name',
            pattern_type: 'stix',
            pattern: "[file:name = 'dropper.exe']",
          },
          {
            type: 'indicator',
            id: 'indicator--2',
            name: 'Mutex',
            pattern_type: 'stix',
            pattern: "[mutex:name = 'Global\\\\x']",
          },
        ],
      }),
      'target/dropper.exe': 'MZ',
    });
    await runCli(['packs', 'keygen', '--out', join(dir, 'k')]);
    const converted = await runCli([
      'packs',
      'convert',
      join(dir, 'bundle.json'),
      '--from',
      'stix',
      '--id',
      'vendor-stix',
      '--title',
      'Vendor STIX',
      '--out',
      join(dir, 'pack'),
      '--key',
      join(dir, 'k.key'),
    ]);
    expect(converted.code).toBe(0);
    expect(converted.stdout).toMatch(/read 1 filename; rejected 1/);
    expect(converted.stderr).toMatch(/rejected indicator--2: unsupported object path mutex:name/);
    const scan = await runCli([
      'scan',
      join(dir, 'target'),
      '--no-bundled',
      '--pack',
      join(dir, 'pack'),
      '--keyring',
      join(dir, 'k.keyring.json'),
      '--format',
      'json',
    ]);
    expect(JSON.parse(scan.stdout).findings.map((f: { title: string }) => f.title)).toEqual(['Dropper name']);
    // Unsigned output is usable as a local IOC list.
    await runCli([
      'packs',
      'convert',
      join(dir, 'bundle.json'),
      '--from',
      'stix',
      '--id',
      'vendor-stix',
      '--out',
      join(dir, 'unsigned'),
    ]);
    const local = await runCli([
      'scan',
      join(dir, 'target'),
      '--no-bundled',
      '--ioc',
      join(dir, 'unsigned/indicators.json'),
      '--format',
      'json',
    ]);
    expect(JSON.parse(local.stdout).findings.map((f: { packId: string }) => f.packId)).toEqual(['local']);
  });
});
