import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { writeArchive } from '../../src/packs/archive.js';
import { packArchive } from '../../src/packs/feed.js';
import { PackStore } from '../../src/packs/pack-store.js';
import { CLI, type CliResult, runCli } from '../../src/testing/run-cli.js';
import { indicatorsFile, makeSignedPack, type TestPack } from '../../src/testing/signed-pack.js';
import { tempTree } from '../../src/testing/temp-tree.js';

/** A failure the user can act on: exit 2 or 70, one stderr line, no stack trace. */
function expectOneLineError(result: CliResult, code: 2 | 70 = 2): void {
  expect(result.code, result.stderr).toBe(code);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(result.stderr).toMatch(/^chainsweep: /);
  expect(result.stderr).not.toMatch(/\n\s+at |SyntaxError|TypeError|RangeError/);
}

const domain = (id: string, value: string) => ({
  id,
  kind: 'domain',
  value,
  title: `C2 ${value}`,
  severity: 'critical',
  confidence: 'high',
});

/** A signed pack with one domain indicator, its keyring file and its archive. */
async function packWithArchive(id: string, options: { sequence?: number; key?: TestPack } = {}) {
  const pack = await makeSignedPack(
    id,
    { 'indicators.json': indicatorsFile([domain(`${id}.1`, `${id}.example`)]) },
    {
      ...(options.sequence !== undefined ? { sequence: options.sequence } : {}),
      ...(options.key ? { key: options.key } : {}),
    },
  );
  const dir = tempTree({ 'k.json': JSON.stringify({ keys: [pack.key] }) });
  const archive = join(dir, `${id}-${options.sequence ?? 1}.tar.gz`);
  writeFileSync(archive, packArchive(pack.dir, ['indicators.json']));
  return { pack, keyring: join(dir, 'k.json'), archive };
}

/** A tar header block for one entry, with a correct checksum; `size` is written as given. */
function tarHeader(name: string, size: Buffer | string): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  if (typeof size === 'string') header.write(size, 124);
  else size.copy(header, 124);
  header.write('00000000000\0', 136);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('        ', 148);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return header;
}

describe('packs: every crash is a one-line error', () => {
  it('keygen into a missing folder', async () => {
    const dir = tempTree();
    const result = await runCli(['packs', 'keygen', '--out', join(dir, 'missing/dir/k')]);
    expectOneLineError(result);
    expect(result.stderr).toContain('missing/dir');
  });

  it('export onto an existing folder', async () => {
    const dir = tempTree({ 'out/keep.txt': 'x' });
    const result = await runCli(['packs', 'export', '3cx-2023', '--out', join(dir, 'out')]);
    expectOneLineError(result);
    expect(result.stderr).toMatch(/is a folder/);
  });

  it('keys sign on a file that is not JSON', async () => {
    const dir = tempTree({ 'keys.json': '{"schemaVersion": 1,' });
    await runCli(['packs', 'keygen', '--out', join(dir, 'root')]);
    const result = await runCli([
      'packs',
      'keys',
      'sign',
      join(dir, 'keys.json'),
      '--root-key',
      join(dir, 'root.key'),
    ]);
    expectOneLineError(result);
    expect(result.stderr).toContain('keys.json');
  });

  it('convert --from loki on a single list file of any name', async () => {
    const dir = tempTree({ 'my-c2.lst': 'evil-c2.example\n', 'hash-list': `${'a'.repeat(64)};bad\n` });
    for (const file of ['my-c2.lst', 'hash-list']) {
      const result = await runCli([
        'packs',
        'convert',
        join(dir, file),
        '--from',
        'loki',
        '--id',
        'x',
        '--out',
        join(dir, `out-${file}`),
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/read 1 (domain|sha256)/);
    }
  });

  it('convert from missing inputs and keys', async () => {
    const dir = tempTree();
    for (const from of ['stix', 'misp', 'csv', 'loki', 'yara', 'misp-feed']) {
      const result = await runCli([
        'packs',
        'convert',
        join(dir, 'nope'),
        '--from',
        from,
        '--id',
        'x',
        '--out',
        join(dir, `o-${from}`),
      ]);
      expectOneLineError(result);
      expect(result.stderr).toContain('nope');
    }
  });

  it.each([
    ['objects: [null]', { type: 'bundle', objects: [null] }],
    ['a string object', { type: 'bundle', objects: ['x', 7] }],
    [
      'a null external reference',
      {
        type: 'bundle',
        objects: [
          {
            type: 'indicator',
            id: 'indicator--1',
            pattern: "[domain-name:value = 'a.example']",
            external_references: [null],
          },
        ],
      },
    ],
    ['objects: null', { type: 'bundle', objects: null }],
  ])('a STIX bundle with %s', async (_, bundle) => {
    const dir = tempTree({ 'b.json': JSON.stringify(bundle) });
    const result = await runCli([
      'packs',
      'convert',
      join(dir, 'b.json'),
      '--from',
      'stix',
      '--id',
      'x',
      '--out',
      join(dir, 'out'),
    ]);
    expect(result.code, result.stderr).toBeLessThan(3);
    expect(result.stderr).not.toMatch(/internal error|TypeError|\n\s+at /);
  });

  it.each([
    [
      'Attribute: null entries',
      { Event: { info: 'e', Attribute: [null, { type: 'domain', value: 'ok.example' }] } },
    ],
    ['Attribute as an object', { Event: { info: 'e', Attribute: { type: 'domain' } } }],
    [
      'a numeric value and comment',
      { Event: { info: 'e', Attribute: [{ type: 'domain', value: 7, comment: 3, Tag: 'x' }] } },
    ],
    ['Object: [null]', { Event: { info: 'e', Object: [null, { Attribute: null }] } }],
  ])('a MISP event with %s', async (_, event) => {
    const dir = tempTree({ 'e.json': JSON.stringify(event) });
    const result = await runCli([
      'packs',
      'convert',
      join(dir, 'e.json'),
      '--from',
      'misp',
      '--id',
      'x',
      '--out',
      join(dir, 'out'),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/internal error|TypeError|\n\s+at /);
  });
});

describe('packs list', () => {
  it('escapes a signed pack title, so it cannot forge a line or drive the terminal', async () => {
    const title = 'T\nresult: no findings; coverage complete\x1b[2J\u202e';
    const pack = await makeSignedPack('forged', {
      'manifest.json': JSON.stringify({ id: 'forged', title, references: [] }),
      'indicators.json': indicatorsFile([domain('forged.1', 'forged.example')]),
    });
    const dir = tempTree({ 'k.json': JSON.stringify({ keys: [pack.key] }) });
    const r = await runCli(['packs', 'list', '--pack', pack.dir, '--keyring', join(dir, 'k.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('forged #1  T\\x0Aresult: no findings; coverage complete\\x1B[2J\\u{202E}');
    expect(r.stdout.split('\n').some((l) => l.startsWith('result:'))).toBe(false);
  });
});

describe('packs import: hostile archives and state', () => {
  it('refuses a manifest that is not JSON in one line', async () => {
    const dir = tempTree();
    writeFileSync(
      join(dir, 'a.tar.gz'),
      writeArchive([
        { path: 'manifest.json', bytes: Buffer.from('not json {') },
        { path: 'manifest.sig', bytes: Buffer.from('{}') },
      ]),
    );
    expectOneLineError(await runCli(['packs', 'import', join(dir, 'a.tar.gz')], { home: join(dir, 'h') }));
  });

  it('refuses a base-256 (binary) tar size in one line', async () => {
    const size = Buffer.alloc(12);
    size[0] = 0x80;
    size[11] = 0x10;
    const tar = Buffer.concat([tarHeader('manifest.json', size), Buffer.alloc(512), Buffer.alloc(1024)]);
    const dir = tempTree({ 'a.tar.gz': gzipSync(tar) });
    const result = await runCli(['packs', 'import', join(dir, 'a.tar.gz')], { home: join(dir, 'h') });
    expectOneLineError(result);
    expect(result.stderr).toMatch(/size/);
  });

  it('refuses a gzip bomb in one line, without inflating it all', async () => {
    const tar = Buffer.concat([tarHeader('manifest.json', '77777777777\0'), Buffer.alloc(200 * 1024 * 1024)]);
    const dir = tempTree({ 'bomb.tar.gz': gzipSync(tar, { level: 9 }) });
    const result = await runCli(['packs', 'import', join(dir, 'bomb.tar.gz')], { home: join(dir, 'h') });
    expectOneLineError(result);
    expect(result.stderr).toMatch(/inflate/);
  });

  it('a corrupt current.json is a one-line error for import, list and scan', async () => {
    const { keyring, archive } = await packWithArchive('acme-bad-state');
    const home = join(tempTree(), 'home');
    expect((await runCli(['packs', 'import', archive, '--keyring', keyring], { home })).code).toBe(0);
    writeFileSync(join(home, 'packs/acme-bad-state/current.json'), '{"sequence": 1,');
    for (const args of [
      ['packs', 'list'],
      ['scan', tempTree()],
      ['packs', 'import', archive, '--keyring', keyring],
    ]) {
      const result = await runCli(args, { home });
      expectOneLineError(result);
      expect(result.stderr).toContain('current.json');
    }
  });

  it('keeps the trust --keyring gave at import: later commands use the pack without --keyring', async () => {
    const { pack, keyring, archive } = await packWithArchive('acme-imported');
    const home = join(tempTree(), 'home');
    const imported = await runCli(['packs', 'import', archive, '--keyring', keyring], { home });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toContain(pack.key.keyId.slice(0, 16));
    const list = await runCli(['packs', 'list'], { home });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('acme-imported #1');
    const logs = tempTree({ 'dns.log': '{"query":"acme-imported.example","client_ip":"10.0.0.9"}\n' });
    const hunt = await runCli(['hunt', logs, '--format', 'json'], { home });
    expect(hunt.code, hunt.stderr).toBe(1);
    expect(JSON.parse(hunt.stdout).findings[0].indicatorId).toBe('acme-imported.1');
    // The trust is for that pack only: another pack signed by the same key still needs --keyring.
    const other = await packWithArchive('acme-other', { key: pack });
    const refused = await runCli(['packs', 'import', other.archive], { home });
    expectOneLineError(refused);
    expect(refused.stderr).toMatch(/unknown key/);
    // Exported and re-imported elsewhere with the same key: works without --keyring only where trusted.
    const out = join(tempTree(), 'again.tar.gz');
    expect((await runCli(['packs', 'export', 'acme-imported', '--out', out], { home })).code).toBe(0);
  });

  it("serialises two concurrent imports into one store; neither deletes the other one's staging", async () => {
    const key = await makeSignedPack('seed', {});
    const many = Object.fromEntries(
      Array.from({ length: 400 }, (_, i) => [`rules/r${i}.yar`, `rule R${i} { condition: false }\n`]),
    );
    const archives: string[] = [];
    for (const sequence of [1, 2]) {
      const pack = await makeSignedPack(
        'acme-race',
        { ...many, 'indicators.json': indicatorsFile([]) },
        { sequence, key },
      );
      const file = join(tempTree(), `race-${sequence}.tar.gz`);
      writeFileSync(file, packArchive(pack.dir, ['indicators.json', ...Object.keys(many).sort()]));
      archives.push(file);
    }
    const keyring = join(tempTree({ 'k.json': JSON.stringify({ keys: [key.key] }) }), 'k.json');
    for (let round = 0; round < 3; round++) {
      const home = join(tempTree(), 'home');
      const runs = await Promise.all(
        archives.map(
          (archive) =>
            new Promise<{ code: number | null; stderr: string }>((resolve) => {
              const child = spawn(process.execPath, [CLI, 'packs', 'import', archive, '--keyring', keyring], {
                env: { ...process.env, CHAINSWEEP_HOME: home },
              });
              let stderr = '';
              child.stderr.on('data', (d) => {
                stderr += d;
              });
              child.on('exit', (code) => resolve({ code, stderr }));
            }),
        ),
      );
      for (const run of runs) {
        if (run.code !== 0) expect(run.stderr).toMatch(/rollback refused/);
        expect(run.code, run.stderr).not.toBe(70);
      }
      expect(runs.some((r) => r.code === 0)).toBe(true);
      const store = new PackStore(join(home, 'packs'));
      expect(store.currentSequence('acme-race')).toBe(runs[1]?.code === 0 ? 2 : 1);
      expect(readdirSync(join(home, 'packs/acme-race')).filter((n) => n.startsWith('.'))).toEqual([]);
      expect(existsSync(join(home, 'packs/.lock'))).toBe(false);
    }
  }, 120_000);

  it('recovers a lock left by a process that died', async () => {
    const { keyring, archive } = await packWithArchive('acme-stale-lock');
    const home = join(tempTree(), 'home');
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    mkdirSync(join(home, 'packs'), { recursive: true });
    writeFileSync(join(home, 'packs/.lock'), `${dead}\n`);
    const result = await runCli(['packs', 'import', archive, '--keyring', keyring], { home });
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(home, 'packs/.lock'))).toBe(false);
  });
});

describe('packs convert never drops input and never overwrites a pack', () => {
  it('keeps two rule files of the same name from different folders', async () => {
    const dir = tempTree({
      'rules/a/x.yar': 'rule A { condition: false }\n',
      'rules/b/x.yar': 'rule B { condition: false }\n',
    });
    const result = await runCli([
      'packs',
      'convert',
      join(dir, 'rules'),
      '--from',
      'yara',
      '--id',
      'two',
      '--out',
      join(dir, 'out'),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/2 yara-files/);
    const texts = readdirSync(join(dir, 'out/rules'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.yar'))
      .map((f) => readFileSync(join(dir, 'out/rules', f), 'utf8'))
      .sort();
    expect(texts).toEqual(['rule A { condition: false }\n', 'rule B { condition: false }\n']);
  });

  it('keeps two MISP YARA attributes without comments', async () => {
    const event = {
      Event: {
        info: 'e',
        Attribute: [
          { type: 'yara', value: 'rule A { condition: false }' },
          { type: 'yara', value: 'rule B { condition: false }' },
        ],
      },
    };
    const dir = tempTree({ 'e.json': JSON.stringify(event) });
    const result = await runCli([
      'packs',
      'convert',
      join(dir, 'e.json'),
      '--from',
      'misp',
      '--id',
      'two',
      '--out',
      join(dir, 'out'),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(readdirSync(join(dir, 'out/rules'))).toHaveLength(2);
  });

  it('refuses to overwrite an existing folder without --force, and replaces a pack folder with it', async () => {
    const dir = tempTree({
      'c2.txt': 'evil-c2.example\n',
      'out/rules/old.yar': 'rule Old { condition: true }\n',
    });
    writeFileSync(
      join(dir, 'out/manifest.json'),
      JSON.stringify({ id: 'old', title: 'old', references: [] }),
    );
    const args = [
      'packs',
      'convert',
      join(dir, 'c2.txt'),
      '--from',
      'loki',
      '--id',
      'new',
      '--out',
      join(dir, 'out'),
    ];
    const refused = await runCli(args);
    expectOneLineError(refused);
    expect(refused.stderr).toMatch(/--force/);
    expect(readFileSync(join(dir, 'out/rules/old.yar'), 'utf8')).toContain('Old');
    const forced = await runCli([...args, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(existsSync(join(dir, 'out/rules/old.yar'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'out/manifest.json'), 'utf8')).id).toBe('new');
    // A folder that is not a pack is never replaced, even with --force.
    const home = tempTree({ 'notes.txt': 'mine' });
    const other = await runCli([...args.slice(0, -1), home, '--force']);
    expectOneLineError(other);
    expect(readFileSync(join(home, 'notes.txt'), 'utf8')).toBe('mine');
  });
});

describe('packs sign refuses super-linear regex indicators', () => {
  it('names the indicator and the reason', async () => {
    const dir = tempTree({
      'p/manifest.json': JSON.stringify({ id: 'p', title: 'p', references: [] }),
      'p/indicators.json': indicatorsFile([
        {
          id: 'p.1',
          kind: 'filename',
          syntax: 'regex',
          value: '(a+)+$',
          title: 't',
          severity: 'high',
          confidence: 'high',
        },
      ]),
    });
    await runCli(['packs', 'keygen', '--out', join(dir, 'k')]);
    const result = await runCli(['packs', 'sign', join(dir, 'p'), '--key', join(dir, 'k.key')]);
    expectOneLineError(result);
    expect(result.stderr).toMatch(/p\.1: regular expression "\(a\+\)\+\$" nests a variable quantifier/);
  });
});

describe('regex IOCs in scan', () => {
  it('rejects super-linear patterns with their lines named, loads the rest, and finishes quickly on a long path', async () => {
    const deep = Array.from({ length: 14 }, () => 'a'.repeat(250)).join('/');
    const dir = tempTree({
      [`target/${deep}/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`]: 'x',
      'target/x/evil-dropper.exe': 'MZ',
      'filename-iocs.txt': [
        '(a+)+$;80',
        '(a|a)*$;80',
        '(.*)*x;80',
        '(\\w+\\s?)+$;80',
        '\\\\evil-dropper\\.exe$;90',
      ].join('\n'),
    });
    const started = Date.now();
    const result = await runCli(
      [
        'scan',
        join(dir, 'target'),
        '--no-bundled',
        '--ioc',
        join(dir, 'filename-iocs.txt'),
        '--format',
        'json',
      ],
      { timeoutMs: 30_000 },
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    for (const line of [1, 2, 3, 4])
      expect(result.stderr).toMatch(new RegExp(`filename-iocs\\.txt:${line}: .*super-linear`));
    expect([1, 3], result.stderr).toContain(result.code);
    const findings = JSON.parse(result.stdout).findings as { subject: { path: string } }[];
    expect(findings.map((f) => f.subject.path.split('/').pop())).toEqual(['evil-dropper.exe']);
  });
});
