import { loadPrivateKey } from 'chainsweep/packs/keys.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultHubConfig } from '../../config.js';
import type { HubDeps } from '../../http/hub-env.js';
import type { HubPack } from '../../packs/hub-pack-store.js';
import { DEFAULT_PACK_SETTINGS, type PackSettings } from '../../packs/pack-settings.js';
import { packArchiveBytes, sha256Indicator, type TestKey, testKey } from '../../packs/test-packs.js';
import { DIALECTS, openTestStore, type TestStore } from '../../testing/test-db.js';
import { type SeededOrg, seedOrg, type TestApp, testApp } from '../../testing/test-hub.js';
import { XSS_PAYLOADS } from '../xss-corpus.js';
import { EMPTY_FEED_UPDATED } from './advisory-entry.js';
import { packAtomFeed } from './pack-atom-feed.js';
import { packAtomFeedRoutes } from './pack-feed-routes.js';
import { atomRuleViolations, parseFeed, xmllint } from './test-feed-parsers.js';

const PUBLIC_URL = 'http://127.0.0.1:8080';

function settingsFor(packKey: TestKey, feedKey?: TestKey): PackSettings {
  return {
    ...DEFAULT_PACK_SETTINGS,
    keyring: [packKey.key],
    ...(feedKey ? { feedKey: loadPrivateKey(feedKey.privateKeyPem, 'feed key') } : {}),
  };
}

/** A hub with the pack feed Atom route; `feedKey` decides whether it serves a feed at all. */
function hubWith(store: TestStore, packKey: TestKey, feedKey?: TestKey): TestApp {
  const deps: HubDeps = {
    db: store.db,
    config: {
      ...defaultHubConfig('/nonexistent'),
      publicUrl: PUBLIC_URL,
      packs: settingsFor(packKey, feedKey),
    },
    now: () => new Date(),
  };
  return testApp(store.db, { config: deps.config, extra: [packAtomFeedRoutes(deps)] });
}

describe.each(DIALECTS)('the pack feed as Atom on %s', (dialect) => {
  let store: TestStore;
  let vendor: SeededOrg;
  let packKey: TestKey;
  let feedKey: TestKey;
  beforeEach(async () => {
    store = await openTestStore(dialect);
    vendor = await seedOrg(store.db, 'Vendor');
    packKey = testKey('pack key');
    feedKey = testKey('feed key');
  });
  afterEach(async () => {
    await new Promise((r) => setTimeout(r, 50));
    await store.cleanup();
  });

  const upload = (hub: TestApp, archive: Uint8Array) =>
    hub.app.request('/api/v1/packs', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${vendor.apiTokens['vendor-staff']}`,
        'content-type': 'application/gzip',
      },
      body: new Uint8Array(archive),
    });

  it('is 404 FEED_DISABLED, as JSON, when the hub has no feed key', async () => {
    const hub = hubWith(store, packKey);
    const response = await hub.app.request('/feed/feed.atom');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('FEED_DISABLED');
  });

  it('lists every stored pack version, its archive enclosed with its real size, and the enclosure downloads', async () => {
    const hub = hubWith(store, packKey, feedKey);
    const empty = await hub.app.request('/feed/feed.atom');
    expect(empty.status).toBe(200);
    expect(parseFeed(await empty.text()).entries).toEqual([]);

    const archives = new Map<string, Buffer>();
    for (const [id, sequence] of [
      ['acme-2026', 1],
      ['acme-2026', 2],
      ['other', 5],
    ] as const)
      archives.set(
        `${id}:${sequence}`,
        await packArchiveBytes(
          id,
          { indicators: [sha256Indicator(id, 'a'.repeat(64))] },
          { key: packKey, sequence },
        ),
      );
    for (const archive of archives.values()) expect((await upload(hub, archive)).status).toBe(201);

    const response = await hub.app.request('/feed/feed.atom');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    const xml = await response.text();
    expect(xmllint(xml)).toEqual({ status: 0, output: '' });
    const parsed = parseFeed(xml);
    expect(parsed.bozo, parsed.bozoException).toBe(false);
    expect(atomRuleViolations(parsed.tree)).toEqual([]);
    expect(parsed.feed.id).toBe('urn:chainsweep:feed:chainsweep-hub');
    expect(parsed.feed.links.find((l) => l.rel === 'self')?.href).toBe(`${PUBLIC_URL}/feed/feed.atom`);
    expect(parsed.entries.map((e) => e.id).sort()).toEqual([
      'urn:chainsweep:pack:acme-2026:1',
      'urn:chainsweep:pack:acme-2026:2',
      'urn:chainsweep:pack:other:5',
    ]);
    for (const entry of parsed.entries) {
      const [, id, sequence] = /^urn:chainsweep:pack:(.+):(\d+)$/.exec(entry.id ?? '') ?? [];
      const archive = archives.get(`${id}:${sequence}`);
      expect(entry.enclosures).toEqual([
        {
          href: `${PUBLIC_URL}/feed/packs/${id}-${sequence}.tar.gz`,
          type: 'application/gzip',
          length: String(archive?.length),
          title: `${id}-${sequence}.tar.gz`,
        },
      ]);
      const download = await hub.app.request(new URL(entry.enclosures[0]?.href ?? '').pathname);
      expect(download.status).toBe(200);
      expect(archive && Buffer.from(await download.arrayBuffer()).equals(archive)).toBe(true);
    }

    const etag = response.headers.get('etag') ?? '';
    expect((await hub.app.request('/feed/feed.atom', { headers: { 'if-none-match': etag } })).status).toBe(
      304,
    );
    const lastModified = response.headers.get('last-modified') ?? '';
    expect(
      (await hub.app.request('/feed/feed.atom', { headers: { 'if-modified-since': lastModified } })).status,
    ).toBe(304);
    await new Promise((r) => setTimeout(r, 1100));
    await upload(hub, await packArchiveBytes('other', { indicators: [] }, { key: packKey, sequence: 6 }));
    const after = await hub.app.request('/feed/feed.atom', {
      headers: { 'if-none-match': etag, 'if-modified-since': lastModified },
    });
    expect(after.status).toBe(200);
    expect(parseFeed(await after.text()).entries[0]?.id).toBe('urn:chainsweep:pack:other:6');
  });
});

describe('packAtomFeed', () => {
  const pack = (title: string, sequence: number): HubPack => ({
    id: 'acme-2026',
    sequence,
    title,
    manifestDigest: 'd'.repeat(64),
    keyId: 'k',
    published: '2026-03-30T09:00:00.000Z',
    expires: '2026-04-30T09:00:00.000Z',
    archiveSha256: 'a'.repeat(64),
    archiveSize: 1234,
    uploadedBy: 'token:x',
    uploadedAt: `2026-03-30T10:00:0${sequence % 10}.000Z`,
  });
  const config = { publicUrl: PUBLIC_URL, feedName: 'hub <&> \u0000', publisher: { name: 'Vendor' } };

  it('stays well-formed with hostile titles and a hostile feed name, newest first', () => {
    const xml = packAtomFeed(
      XSS_PAYLOADS.map((p, i) => pack(`${p}\u0008\uFFFE\uD800]]>`, i + 1)),
      config,
    );
    expect(xmllint(xml)).toEqual({ status: 0, output: '' });
    const parsed = parseFeed(xml);
    expect(parsed.bozo, parsed.bozoException).toBe(false);
    expect(parsed.entries).toHaveLength(XSS_PAYLOADS.length);
    expect(atomRuleViolations(parsed.tree)).toEqual([]);
    expect(parsed.raw.find((e) => e.name === 'updated')?.text).toBe(parsed.entries[0]?.updated);
  });

  it('has a fixed updated time when the hub holds no pack', () => {
    const parsed = parseFeed(packAtomFeed([], config));
    expect(parsed.bozo).toBe(false);
    expect(parsed.feed.updated).toBe(EMPTY_FEED_UPDATED);
  });
});
