import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { defaultHubConfig } from '../config.js';
import type { HubDeps } from '../http/hub-env.js';
import { hubModules } from '../modules.js';
import { type Listening, listenApp } from '../serve.js';
import { runHubCli, startServe } from '../testing/run-hub-cli.js';
import { openTestStore, type TestStore } from '../testing/test-db.js';
import { seedOrg } from '../testing/test-hub.js';
import { loadPackSettings, type PackOptionValues } from './pack-settings.js';
import { packArchiveBytes, sha256Indicator, type TestKey, writeVendorKeys } from './test-packs.js';

const chainsweep = (args: string[], home: string) => runHubCli(args, '', home);

describe('the hub feed, read by the real chainsweep packs update', () => {
  let store: TestStore;
  let server: Listening;
  let dir: string;
  let staff: string;
  let packKey: TestKey;
  let feedKey: TestKey;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chainsweep-hub-feed-'));
    // The organisation's own root vouches for its pack key and its hub's feed key, as packs keys sign does.
    ({ packKey, feedKey } = writeVendorKeys(dir));
    store = await openTestStore('sqlite');
    staff = (await seedOrg(store.db, 'Vendor')).apiTokens['vendor-staff'];
    server = await serveWith({
      packKeys: [join(dir, 'keys.json')],
      rootKeyrings: [join(dir, 'root.keyring.json')],
      feedKey: join(dir, 'feed.key'),
    });
  });
  /** The hub over the test store on a free port, with pack settings read as `serve` reads them. */
  async function serveWith(options: PackOptionValues): Promise<Listening> {
    const deps: HubDeps = {
      db: store.db,
      config: { ...defaultHubConfig(store.location.dataDir), packs: await loadPackSettings(options) },
      now: () => new Date(),
    };
    return listenApp(createApp(deps, hubModules(deps), { log: () => undefined }), '127.0.0.1', 0);
  }
  afterAll(async () => {
    await new Promise((r) => setTimeout(r, 50));
    await server?.close();
    await store?.cleanup();
  });

  it('installs a pack uploaded to the hub, then reports the feed not modified', async () => {
    const archive = await packArchiveBytes(
      'acme-2026',
      { indicators: [sha256Indicator('loader', 'e'.repeat(64))] },
      { key: packKey, sequence: 3 },
    );
    const uploaded = await fetch(`${server.url}/api/v1/packs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/gzip' },
      body: new Uint8Array(archive),
    });
    expect(uploaded.status).toBe(201);
    const home = mkdtempSync(join(tmpdir(), 'chainsweep-agent-home-'));
    const feed = `${server.url}/feed/`;
    const args = ['packs', 'update', '--feed', feed, '--root-keyring', join(dir, 'root.keyring.json')];
    const first = await chainsweep(args, home);
    expect(first.stdout).toMatch(/installed\s+acme-2026: installed #3/);
    expect(first.code).toBe(0);
    const second = await chainsweep(args, home);
    expect(second.stdout).toContain(`${feed}: not modified`);
    expect(second.code).toBe(0);
    expect(existsSync(join(home, 'packs', 'acme-2026', '3', 'manifest.json'))).toBe(true);

    // A hub trusting a plain keyring serves no key list: an agent given the hub's keys with --keyring
    // installs the pack, and later commands trust it; an agent without them refuses the index.
    writeFileSync(join(dir, 'hub.keyring.json'), JSON.stringify({ keys: [packKey.key, feedKey.key] }));
    const plain = await serveWith({
      packKeys: [join(dir, 'hub.keyring.json')],
      feedKey: join(dir, 'feed.key'),
    });
    try {
      const plainFeed = `${plain.url}/feed/`;
      const pinned = mkdtempSync(join(tmpdir(), 'chainsweep-agent-home-'));
      const byKeyring = await chainsweep(
        ['packs', 'update', '--feed', plainFeed, '--keyring', join(dir, 'hub.keyring.json')],
        pinned,
      );
      expect(byKeyring.stdout).toMatch(/installed\s+acme-2026: installed #3/);
      expect((await chainsweep(['packs', 'list'], pinned)).stdout).toMatch(/acme-2026/);
      const stranger = await chainsweep(
        ['packs', 'update', '--feed', plainFeed],
        mkdtempSync(join(tmpdir(), 'cs-')),
      );
      expect(stranger.stdout).toMatch(/refused .*latest\.json: signed by unknown key/);
      expect(stranger.code).toBe(2);
    } finally {
      await plain.close();
    }
  });

  it('is configured by chainsweep serve --pack-keys, --root-keyring and --feed-key', async () => {
    const data = mkdtempSync(join(tmpdir(), 'chainsweep-hub-serve-'));
    const common = ['--data', data, '--listen', '127.0.0.1:0'];
    const hub = await startServe([
      ...common,
      '--pack-keys',
      join(dir, 'keys.json'),
      '--root-keyring',
      join(dir, 'root.keyring.json'),
      '--feed-key',
      join(dir, 'feed.key'),
    ]);
    try {
      const latest = await fetch(`${hub.url}/feed/latest.json`);
      expect(latest.status).toBe(200);
      expect(((await latest.json()) as { packs: unknown[] }).packs).toEqual([]);
      expect((await fetch(`${hub.url}/feed/keys.json`)).status).toBe(200);
    } finally {
      hub.child.kill('SIGTERM');
      await hub.exited;
    }
    // A key list its roots do not vouch for, and a feed key that is not a key, stop serve with one line.
    const unvouched = await runHubCli(['serve', ...common, '--pack-keys', join(dir, 'keys.json')]);
    expect(unvouched.code).toBe(2);
    expect(unvouched.stderr).toMatch(/keys\.json: signed by unknown key .*not a pinned root key/);
    const badKey = await runHubCli(['serve', ...common, '--feed-key', join(dir, 'keys.json')]);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toMatch(/--feed-key .*keys\.json: not a PEM private key/);
  });
});
