import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../src/packs/keys.js';
import { runCli } from '../../src/testing/run-cli.js';
import { indicatorsFile } from '../../src/testing/signed-pack.js';
import { tempTree } from '../../src/testing/temp-tree.js';

/** A static file server on 127.0.0.1 over a temporary folder. */
let server: Server;
let base = '';
let root = '';
beforeAll(async () => {
  root = tempTree();
  server = createServer((req, res) => {
    const file = join(root, decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/'));
    if (!file.startsWith(root) || !existsSync(file)) res.writeHead(404).end();
    else res.writeHead(200).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('feed replay protection follows the feed, not its URL (HTTP on 127.0.0.1)', () => {
  it('refuses an old index of the same feed served from another URL', async () => {
    const dir = tempTree();
    const home = join(dir, 'home');
    const signing = generateSigningKey('feed identity test');
    writeFileSync(join(dir, 'k.key'), signing.privateKeyPem);
    writeFileSync(join(dir, 'k.json'), JSON.stringify({ keys: [signing.key] }));
    mkdirSync(join(dir, 'src'));
    writeFileSync(
      join(dir, 'src/manifest.json'),
      JSON.stringify({ id: 'acme-id', title: 'ACME', references: [] }),
    );
    writeFileSync(
      join(dir, 'src/indicators.json'),
      indicatorsFile([
        { id: 'a.1', kind: 'domain', value: 'a.example', title: 'C2', severity: 'high', confidence: 'high' },
      ]),
    );
    const publish = async () => {
      const built = join(dir, 'built');
      expect(
        (
          await runCli(['packs', 'build', join(dir, 'src'), '--key', join(dir, 'k.key'), '--out', built], {
            home,
          })
        ).code,
      ).toBe(0);
      const published = await runCli(
        [
          'packs',
          'publish',
          built,
          '--key',
          join(dir, 'k.key'),
          '--out',
          join(root, 'feed'),
          '--base-url',
          `${base}feed/`,
          '--keyring',
          join(dir, 'k.json'),
          '--name',
          'acme-feed',
        ],
        { home },
      );
      expect(published.code, published.stderr).toBe(0);
    };
    const update = (url: string) =>
      runCli(['packs', 'update', '--feed', url, '--keyring', join(dir, 'k.json')], { home });

    await publish();
    // An old copy of the feed, as a mirror (or an attacker) keeps it.
    cpSync(join(root, 'feed'), join(root, 'mirror'), { recursive: true });
    expect((await update(`${base}feed/`)).stdout).toMatch(/installed #1/);
    await publish();
    expect((await update(`${base}feed/`)).stdout).toMatch(/installed #2/);

    const replay = await update(`${base}mirror/`);
    expect(replay.code).toBe(2);
    expect(replay.stdout).toMatch(
      /index sequence 0 is older than the 1 already seen.*replayed index refused/,
    );
    // The same URL written differently is the same feed too.
    cpSync(join(root, 'mirror'), join(root, 'feed'), { recursive: true });
    expect((await update(`${base.replace('127.0.0.1', '127.1')}feed`)).stdout).toMatch(
      /replayed index refused/,
    );
  });
});
