import { spawn } from 'node:child_process';
import { createHash, createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readArchive, writeArchive } from '../../src/packs/archive.js';
import { generateSigningKey, signBytes } from '../../src/packs/keys.js';
import { PackStore } from '../../src/packs/pack-store.js';
import { CLI, runCli } from '../../src/testing/run-cli.js';
import { indicatorsFile } from '../../src/testing/signed-pack.js';
import { tempTree } from '../../src/testing/temp-tree.js';

/** A static file server on 127.0.0.1 whose answers a test can override per path. */
let server: Server;
let base = '';
let root = '';
const overrides = new Map<string, (res: import('node:http').ServerResponse) => void>();
beforeAll(async () => {
  root = tempTree();
  server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/').replace(/^\/+/, '');
    const override = overrides.get(path);
    if (override) return override(res);
    const file = join(root, path);
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const body = readFileSync(file);
    const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304).end();
      return;
    }
    res.writeHead(200, { 'content-length': body.length, etag }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

interface Setup {
  home: string;
  feed: string;
  keyring: string;
  key: string;
  packSrc: string;
}

/** A signing key, a keyring file trusting it, and a pack source folder with one indicator. */
function setup(name: string): Setup {
  const dir = tempTree();
  const signing = generateSigningKey('feed test');
  writeFileSync(join(dir, 'k.key'), signing.privateKeyPem);
  writeFileSync(join(dir, 'k.keyring.json'), JSON.stringify({ keys: [signing.key] }));
  const packSrc = join(dir, 'src');
  mkdirSync(packSrc);
  writeFileSync(
    join(packSrc, 'manifest.json'),
    JSON.stringify({ id: 'acme-2026', title: 'ACME', references: [] }),
  );
  writeFileSync(
    join(packSrc, 'indicators.json'),
    indicatorsFile([
      {
        id: 'acme.1',
        kind: 'domain',
        value: 'acme-c2.example',
        title: 'ACME C2',
        severity: 'critical',
        confidence: 'high',
      },
    ]),
  );
  const feed = join(root, name);
  mkdirSync(feed, { recursive: true });
  return {
    home: join(dir, 'home'),
    feed,
    keyring: join(dir, 'k.keyring.json'),
    key: join(dir, 'k.key'),
    packSrc,
  };
}

async function buildAndPublish(s: Setup, args: string[] = []) {
  const built = join(s.feed, '..', `${s.feed.split('/').pop()}-built`);
  expect(
    (await runCli(['packs', 'build', s.packSrc, '--key', s.key, '--out', built], { home: s.home })).code,
  ).toBe(0);
  const published = await runCli(
    [
      'packs',
      'publish',
      built,
      '--key',
      s.key,
      '--out',
      s.feed,
      '--base-url',
      `${base}${s.feed.slice(root.length + 1)}/`,
      '--keyring',
      s.keyring,
      ...args,
    ],
    { home: s.home },
  );
  expect(published.code, published.stderr).toBe(0);
  return built;
}

const update = (s: Setup, extra: string[] = []) =>
  runCli(
    [
      'packs',
      'update',
      '--feed',
      `${base}${s.feed.slice(root.length + 1)}/`,
      '--keyring',
      s.keyring,
      ...extra,
    ],
    { home: s.home },
  );
const installed = (s: Setup) => new PackStore(join(s.home, 'packs')).currentSequence('acme-2026');

describe('pack feeds (end to end, HTTP on 127.0.0.1)', () => {
  it('publishes, updates, serves Atom with enclosures, and scans with the installed pack', async () => {
    const s = setup('happy');
    await buildAndPublish(s);
    const first = await update(s);
    expect(first.stdout).toMatch(/^installed +acme-2026: installed #1/m);
    expect(installed(s)).toBe(1);
    const atom = readFileSync(join(s.feed, 'feed.atom'), 'utf8');
    expect(atom).toMatch(
      /<link rel="enclosure" type="application\/gzip" length="\d+" href="http:\/\/127\.0\.0\.1:\d+\/happy\/packs\/acme-2026-1\.tar\.gz"\/>/,
    );
    expect((await update(s)).stdout).toMatch(/not modified|up-to-date/);
    // A newer version installs; the previous one is kept beside it.
    await buildAndPublish(s);
    expect((await update(s)).stdout).toMatch(/installed #2 \(was #1\)/);
    expect(existsSync(join(s.home, 'packs/acme-2026/1'))).toBe(true);
    const logs = tempTree({ 'dns.log': '{"query":"www.acme-c2.example","client_ip":"10.0.0.1"}\n' });
    const hunt = await runCli(['hunt', logs, '--keyring', s.keyring, '--format', 'json'], { home: s.home });
    expect(JSON.parse(hunt.stdout).findings.map((f: { indicatorId: string }) => f.indicatorId)).toEqual([
      'acme.1',
    ]);
  });

  it('refuses a tampered archive, a replayed index, an expired index and an unknown key, leaving the installed pack alone', async () => {
    const s = setup('attacks');
    await buildAndPublish(s);
    await update(s);
    expect(installed(s)).toBe(1);
    const oldIndex = readFileSync(join(s.feed, 'latest.json'));
    const oldSig = readFileSync(join(s.feed, 'latest.json.sig'));
    await buildAndPublish(s);
    const archive = join(s.feed, 'packs/acme-2026-2.tar.gz');
    const good = readFileSync(archive);
    const bad = Buffer.from(good);
    bad[bad.length - 20] = (bad[bad.length - 20] as number) ^ 0xff;
    writeFileSync(archive, bad);
    expect((await update(s)).stdout).toMatch(
      /^refused +acme-2026: .*does not match the size and SHA-256 the signed index gives/m,
    );
    expect(installed(s)).toBe(1);
    writeFileSync(archive, good);

    // Replay: the old, validly signed index after a newer one was seen.
    expect((await update(s)).stdout).toMatch(/installed #2/);
    writeFileSync(join(s.feed, 'latest.json'), oldIndex);
    writeFileSync(join(s.feed, 'latest.json.sig'), oldSig);
    const replay = await update(s);
    expect(replay.code).toBe(2);
    expect(replay.stdout).toMatch(/replayed index refused/);

    // Freeze: an expired index is refused unless --allow-stale.
    const keyPem = readFileSync(s.key, 'utf8');
    const stale = { ...JSON.parse(oldIndex.toString()), sequence: 99, expires: '2024-01-01T00:00:00.000Z' };
    const staleBytes = Buffer.from(JSON.stringify(stale));
    writeFileSync(join(s.feed, 'latest.json'), staleBytes);
    const keyId = JSON.parse(oldSig.toString()).keyId;
    writeFileSync(
      join(s.feed, 'latest.json.sig'),
      JSON.stringify({ keyId, signature: signBytes(staleBytes, createPrivateKey(keyPem)) }),
    );
    expect((await update(s)).stdout).toMatch(/expired on 2024-01-01.*--allow-stale/);
    expect((await update(s, ['--allow-stale'])).stdout).toMatch(/up-to-date +acme-2026/);

    // An index signed by a key nobody trusts (a new index: an unchanged one is answered 304 and not re-read).
    const stranger = generateSigningKey('stranger');
    const forged = Buffer.from(JSON.stringify({ ...stale, sequence: 100 }));
    writeFileSync(join(s.feed, 'latest.json'), forged);
    writeFileSync(
      join(s.feed, 'latest.json.sig'),
      JSON.stringify({
        keyId: stranger.key.keyId,
        signature: signBytes(forged, createPrivateKey(stranger.privateKeyPem)),
      }),
    );
    expect((await update(s, ['--allow-stale'])).stdout).toMatch(
      /latest\.json: signed by unknown key [0-9a-f]{16}…, which is not a trusted key \(or it was revoked/,
    );
    expect(installed(s)).toBe(2);
  });

  it.each([
    [
      'expired',
      { notAfter: '2025-01-01T00:00:00Z' },
      /latest\.json: key feed index key expired on 2025-01-01/,
    ],
    [
      'not yet valid',
      { notBefore: '2099-01-01T00:00:00Z' },
      /latest\.json: key feed index key is not valid before 2099-01-01/,
    ],
  ])('refuses an index signed by a key that is %s, installing nothing', async (name, window, message) => {
    const s = setup(`index-key-${name.replace(/ /g, '-')}`);
    await buildAndPublish(s);
    // The pack keeps its valid signer; only the index is signed by a key outside its validity window.
    const indexKey = generateSigningKey('feed index key');
    const bytes = readFileSync(join(s.feed, 'latest.json'));
    writeFileSync(
      join(s.feed, 'latest.json.sig'),
      JSON.stringify({
        keyId: indexKey.key.keyId,
        signature: signBytes(bytes, createPrivateKey(indexKey.privateKeyPem)),
      }),
    );
    const keyring = JSON.parse(readFileSync(s.keyring, 'utf8'));
    keyring.keys.push({ ...indexKey.key, ...window });
    writeFileSync(s.keyring, JSON.stringify(keyring));
    const result = await update(s);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(message);
    expect(installed(s)).toBeUndefined();
  });

  it('refuses a mix-and-match archive (a newer manifest with an older file) even under a valid index', async () => {
    const s = setup('mix');
    const built = await buildAndPublish(s);
    const oldIndicators = readFileSync(join(built, 'indicators.json'));
    writeFileSync(
      join(s.packSrc, 'indicators.json'),
      indicatorsFile([
        {
          id: 'acme.2',
          kind: 'domain',
          value: 'acme-c2-two.example',
          title: 'ACME C2 2',
          severity: 'critical',
          confidence: 'high',
        },
      ]),
    );
    const built2 = await buildAndPublish(s);
    const mixed = writeArchive([
      { path: 'manifest.json', bytes: readFileSync(join(built2, 'manifest.json')) },
      { path: 'manifest.sig', bytes: readFileSync(join(built2, 'manifest.sig')) },
      { path: 'indicators.json', bytes: oldIndicators },
    ]);
    writeFileSync(join(s.feed, 'packs/acme-2026-2.tar.gz'), mixed);
    const index = JSON.parse(readFileSync(join(s.feed, 'latest.json'), 'utf8'));
    index.packs[0].size = mixed.length;
    index.packs[0].sha256 = (await import('node:crypto')).createHash('sha256').update(mixed).digest('hex');
    const bytes = Buffer.from(JSON.stringify(index));
    writeFileSync(join(s.feed, 'latest.json'), bytes);
    const keyId = JSON.parse(readFileSync(join(s.feed, 'latest.json.sig'), 'utf8')).keyId;
    writeFileSync(
      join(s.feed, 'latest.json.sig'),
      JSON.stringify({ keyId, signature: signBytes(bytes, createPrivateKey(readFileSync(s.key, 'utf8'))) }),
    );
    const result = await update(s);
    expect(result.stdout).toMatch(
      /refused +acme-2026: .*indicators\.json (does not match its SHA-256|is \d+ bytes)/,
    );
    expect(installed(s)).toBeUndefined();
  });

  it('honours a root-signed key list: a revoked key can no longer sign, a listed one can', async () => {
    const s = setup('keys');
    await buildAndPublish(s);
    const rootKey = generateSigningKey('test root');
    const rootsFile = join(s.home, '..', 'roots.json');
    writeFileSync(rootsFile, JSON.stringify({ keys: [rootKey.key] }));
    const signer = JSON.parse(readFileSync(s.keyring, 'utf8')).keys[0];
    const list = Buffer.from(
      JSON.stringify({
        schemaVersion: 1,
        version: 3,
        expires: '2099-01-01T00:00:00Z',
        keys: [],
        revoked: [signer.keyId],
      }),
    );
    writeFileSync(join(s.feed, 'keys.json'), list);
    writeFileSync(
      join(s.feed, 'keys.json.sig'),
      JSON.stringify({
        keyId: rootKey.key.keyId,
        signature: signBytes(list, createPrivateKey(rootKey.privateKeyPem)),
      }),
    );
    const result = await update(s, ['--root-keyring', rootsFile]);
    expect(result.stdout).toMatch(/signed by unknown key .*or it was revoked by the key list/);
    // A key list signed by a key that is not a pinned root is refused outright.
    expect((await update(s)).stdout).toMatch(/not a pinned root key/);
  });

  it('bounds what a feed may send: oversized answers and endless slow ones are refused', async () => {
    const s = setup('limits');
    await buildAndPublish(s);
    const path = `${s.feed.slice(root.length + 1)}/latest.json`;
    overrides.set(path, (res) =>
      res.writeHead(200, { 'content-length': 5 * 1024 * 1024 }).end(Buffer.alloc(5 * 1024 * 1024, 0x20)),
    );
    expect((await update(s)).stdout).toMatch(/over the 1048576-byte limit/);
    overrides.set(path, (res) => {
      res.writeHead(200);
      res.write('{');
      // never ends
    });
    const started = Date.now();
    expect((await update(s, ['--timeout', '1'])).stdout).toMatch(/no data for 1 s|no complete answer/);
    expect(Date.now() - started).toBeLessThan(15_000);
    overrides.delete(path);
  });
});

describe('pack archives (import and export)', () => {
  it('exports a bundled pack and imports it on another host', async () => {
    const dir = tempTree();
    const out = join(dir, '3cx.tar.gz');
    expect((await runCli(['packs', 'export', '3cx-2023', '--out', out])).code).toBe(0);
    const home = join(dir, 'home');
    const imported = await runCli(['packs', 'import', out], { home });
    expect(imported.stdout).toMatch(/installed 3cx-2023 #\d+/);
    expect((await runCli(['packs', 'import', out], { home })).stderr).toMatch(/rollback refused/);
  });

  it.each([
    [
      'a path that climbs out',
      [{ path: '../evil.json', bytes: Buffer.from('x') }],
      /unsafe path "..\/evil.json"/,
    ],
    [
      'an absolute path',
      [{ path: '/etc/cron.d/evil', bytes: Buffer.from('x') }],
      /unsafe path "\/etc\/cron.d\/evil"/,
    ],
  ])('refuses an archive with %s', async (_, entries, message) => {
    const dir = tempTree({ 'a.tar.gz': writeArchive(entries) });
    const result = await runCli(['packs', 'import', join(dir, 'a.tar.gz')], { home: join(dir, 'home') });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('refuses an archive holding a file its signed manifest does not list, writing nothing', async () => {
    const dir = tempTree();
    const out = join(dir, 'x.tar.gz');
    expect((await runCli(['packs', 'export', 'xz-2024', '--out', out])).code).toBe(0);
    const extracted = new Map<string, Buffer>();
    for (const e of await readArchive(readFileSync(out), out)) extracted.set(e.path, e.bytes);
    extracted.set('rules/smuggled.yar', Buffer.from('rule smuggled { condition: true }'));
    writeFileSync(
      join(dir, 'extra.tar.gz'),
      writeArchive([...extracted].map(([path, bytes]) => ({ path, bytes }))),
    );
    const home = join(dir, 'home');
    const result = await runCli(['packs', 'import', join(dir, 'extra.tar.gz')], { home });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/holds "rules\/smuggled\.yar", which the signed manifest does not list/);
    expect(existsSync(join(home, 'packs/xz-2024'))).toBe(false);
  });

  it('refuses a symlink entry and a truncated archive', async () => {
    const tar = Buffer.alloc(1536);
    tar.write('link', 0);
    tar.write('0000777\0', 100);
    tar.write('00000000000\0', 124);
    tar.write('2', 156);
    tar.write('/etc/passwd', 157);
    tar.write('ustar\0', 257);
    let sum = 0;
    tar.write('        ', 148);
    for (let i = 0; i < 512; i++) sum += tar[i] as number;
    tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    const dir = tempTree({ 'link.tar.gz': gzipSync(tar) });
    expect(
      (await runCli(['packs', 'import', join(dir, 'link.tar.gz')], { home: join(dir, 'h') })).stderr,
    ).toMatch(/not a regular file \(tar type "2"\)/);
    const out = join(dir, 'x.tar.gz');
    await runCli(['packs', 'export', 'xz-2024', '--out', out]);
    writeFileSync(join(dir, 'cut.tar.gz'), readFileSync(out).subarray(0, 300));
    expect(
      (await runCli(['packs', 'import', join(dir, 'cut.tar.gz')], { home: join(dir, 'h') })).stderr,
    ).toMatch(/not a complete gzip archive|truncated/);
  });

  it('keeps the old pack usable when the import is killed at any moment', async () => {
    const dir = tempTree();
    const home = join(dir, 'home');
    const v1 = join(dir, 'v1.tar.gz');
    await runCli(['packs', 'export', '3cx-2023', '--out', v1]);
    await runCli(['packs', 'import', v1], { home });
    const store = new PackStore(join(home, 'packs'));
    const before = store.currentSequence('3cx-2023');
    // A newer 3cx-2023 cannot be made without the project key, so kill imports of the same archive at random
    // moments: whatever happens, current.json must name a complete, verifiable version.
    for (const delay of [5, 20, 40, 80]) {
      const child = spawn(process.execPath, [CLI, 'packs', 'import', v1], {
        env: { ...process.env, CHAINSWEEP_HOME: home },
        stdio: 'ignore',
      });
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      expect(store.currentSequence('3cx-2023')).toBe(before);
      const list = await runCli(['packs', 'list'], { home });
      expect(list.code).toBe(0);
    }
  });
});
