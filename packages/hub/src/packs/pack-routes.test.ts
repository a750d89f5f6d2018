import { createHash, randomUUID } from 'node:crypto';
import { readArchive, writeArchive } from 'chainsweep/packs/archive.js';
import { FeedIndexSchema } from 'chainsweep/packs/feed.js';
import { loadPrivateKey } from 'chainsweep/packs/keys.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOrg } from '../auth/orgs.js';
import { recomputeHostState } from '../fleet/states.js';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import { type SeededOrg, seedOrg, type TestApp, testApp } from '../testing/test-hub.js';
import { DEFAULT_PACK_SETTINGS, type PackSettings } from './pack-settings.js';
import { runRetroHunt } from './retro-hunt.js';
import {
  affectedApp,
  packArchiveBytes,
  sha256Indicator,
  storeHost,
  type TestKey,
  testKey,
} from './test-packs.js';

const BAD = 'c'.repeat(64);
const OTHER = 'd'.repeat(64);

function settingsFor(packKey: TestKey, feedKey?: TestKey): PackSettings {
  return {
    ...DEFAULT_PACK_SETTINGS,
    keyring: [packKey.key],
    ...(feedKey ? { feedKey: loadPrivateKey(feedKey.privateKeyPem, 'feed key') } : {}),
  };
}

async function waitForRun(hub: TestApp, token: string, href: string) {
  for (let i = 0; i < 200; i++) {
    const run = (await (await get(hub, href, token)).json()) as { status: string };
    if (run.status === 'done' || run.status === 'failed') return run as Record<string, unknown>;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`retro-hunt ${href} did not finish`);
}

function upload(hub: TestApp, token: string, body: Uint8Array, type = 'application/gzip') {
  return hub.app.request('/api/v1/packs', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    body: new Uint8Array(body),
  });
}

function get(hub: TestApp, path: string, token?: string, headers: Record<string, string> = {}) {
  return hub.app.request(path, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
  });
}

describe.each(DIALECTS)('hub packs on %s', (dialect) => {
  let store: TestStore;
  let vendor: SeededOrg;
  let acme: SeededOrg;
  let packKey: TestKey;
  let feedKey: TestKey;
  let hub: TestApp;
  let staff: string;
  beforeEach(async () => {
    store = await openTestStore(dialect);
    vendor = await seedOrg(store.db, 'Vendor');
    acme = await seedOrg(store.db, 'Acme');
    packKey = testKey('pack key');
    feedKey = testKey('feed key');
    hub = testApp(store.db, { config: { packs: settingsFor(packKey, feedKey) } });
    staff = vendor.apiTokens['vendor-staff'];
  });
  afterEach(async () => {
    // Let background runs end before the store goes.
    await new Promise((r) => setTimeout(r, 50));
    await store.cleanup();
  });

  it('takes uploads from vendor staff only', async () => {
    const archive = await packArchiveBytes(
      'acme-2026',
      { indicators: [sha256Indicator('x', BAD)] },
      { key: packKey },
    );
    expect((await upload(hub, acme.apiTokens['org-admin'], archive)).status).toBe(403);
    expect((await upload(hub, vendor.apiTokens['org-admin'], archive)).status).toBe(403);
    expect((await hub.app.request('/api/v1/packs', { method: 'POST', body: archive })).status).toBe(401);
    const response = await upload(hub, staff, archive);
    expect(response.status).toBe(201);
    const body = (await response.json()) as {
      pack: { id: string; sequence: number };
      retroHunt: { id: string };
    };
    expect(body.pack).toMatchObject({ id: 'acme-2026', sequence: 1, keyId: packKey.key.keyId });
    expect(response.headers.get('location')).toBe(`/api/v1/retro-hunts/${body.retroHunt.id}`);

    const listed = await get(hub, '/api/v1/packs', acme.apiTokens['org-member']);
    expect(listed.status).toBe(200);
    const { packs } = (await listed.json()) as { packs: Record<string, unknown>[] };
    expect(packs).toHaveLength(1);
    expect(packs[0]).toMatchObject({ id: 'acme-2026', sequence: 1 });
    expect(packs[0]).not.toHaveProperty('uploadedBy');
    expect((await get(hub, '/api/v1/packs')).status).toBe(401);
  });

  it('refuses tampered, mixed-and-matched, unsigned, expired and non-archive uploads with 400 naming the problem', async () => {
    const good = await packArchiveBytes(
      'acme-2026',
      { indicators: [sha256Indicator('x', BAD)] },
      { key: packKey },
    );
    const entries = await readArchive(good, 'test');
    const tampered = writeArchive(
      entries.map((e) =>
        e.path === 'indicators.json'
          ? { ...e, bytes: Buffer.from(e.bytes.toString().replace(BAD, OTHER)) }
          : e,
      ),
    );
    const unsigned = writeArchive(entries.filter((e) => e.path !== 'manifest.sig'));
    // Mix and match: the signed manifest of one version with the (also signed) indicators of another.
    const later = await readArchive(
      await packArchiveBytes(
        'acme-2026',
        { indicators: [sha256Indicator('x', OTHER)] },
        { key: packKey, sequence: 2 },
      ),
      'test',
    );
    const mixed = writeArchive(
      entries.map((e) => (e.path === 'indicators.json' ? (later.find((l) => l.path === e.path) ?? e) : e)),
    );
    const strangerKey = testKey('stranger');
    const stranger = await packArchiveBytes('acme-2026', { indicators: [] }, { key: strangerKey });
    const expired = await packArchiveBytes(
      'acme-2026',
      { indicators: [] },
      { key: packKey, now: new Date(Date.now() - 30 * 86_400_000), expiresInDays: 2 },
    );
    const cases: [Uint8Array, string, RegExp][] = [
      [tampered, 'PACK_TAMPERED', /indicators\.json does not match its SHA-256/],
      [mixed, 'PACK_TAMPERED', /indicators\.json does not match its SHA-256/],
      [unsigned, 'PACK_SIGNATURE', /manifest\.sig is missing/],
      [stranger, 'PACK_UNKNOWN_KEY', /unknown key/],
      [expired, 'PACK_EXPIRED', /expired on/],
      [Buffer.from('not an archive'), 'PACK_INVALID', /gzip/],
    ];
    for (const [bytes, code, message] of cases) {
      const response = await upload(hub, staff, bytes);
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    }
    expect((await upload(hub, staff, good, 'application/json')).status).toBe(415);
    expect((await upload(hub, staff, new Uint8Array())).status).toBe(400);
    const { packs } = (await (await get(hub, '/api/v1/packs', staff)).json()) as { packs: unknown[] };
    expect(packs).toEqual([]);
  });

  it('refuses a sequence not above the stored one (409), whichever order', async () => {
    const at = (sequence: number) =>
      packArchiveBytes('acme-2026', { indicators: [sha256Indicator('x', BAD)] }, { key: packKey, sequence });
    expect((await upload(hub, staff, await at(5))).status).toBe(201);
    for (const sequence of [5, 4]) {
      const response = await upload(hub, staff, await at(sequence));
      expect(response.status).toBe(409);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('PACK_ROLLBACK');
    }
    expect((await upload(hub, staff, await at(6))).status).toBe(201);
  });

  it('stores one of two concurrent uploads of the same sequence from two hub processes', async () => {
    const other = testApp(await store.reopen(), { config: { packs: settingsFor(packKey, feedKey) } });
    const archive = await packArchiveBytes('acme-2026', { indicators: [] }, { key: packKey, sequence: 3 });
    const statuses = await Promise.all([upload(hub, staff, archive), upload(other, staff, archive)]);
    expect(statuses.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it('serves the signed feed with ETags, and 404 FEED_DISABLED without a feed key', async () => {
    const archive = await packArchiveBytes('acme-2026', { indicators: [] }, { key: packKey, sequence: 2 });
    await upload(hub, staff, archive);
    const latest = await get(hub, '/feed/latest.json');
    expect(latest.status).toBe(200);
    const etag = latest.headers.get('etag') as string;
    const index = FeedIndexSchema.parse(await latest.json());
    expect(index.packs).toEqual([
      expect.objectContaining({ id: 'acme-2026', sequence: 2, archive: 'packs/acme-2026-2.tar.gz' }),
    ]);
    const again = await get(hub, '/feed/latest.json', undefined, { 'if-none-match': `W/"x", ${etag}` });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const served = Buffer.from(await (await get(hub, '/feed/packs/acme-2026-2.tar.gz')).arrayBuffer());
    expect(createHash('sha256').update(served).digest('hex')).toBe(index.packs[0]?.sha256);
    expect(served.equals(archive)).toBe(true);
    expect((await get(hub, '/feed/packs/acme-2026-1.tar.gz')).status).toBe(404);
    expect((await get(hub, '/feed/packs/..%2Fx-1.tar.gz')).status).toBe(404);
    expect((await get(hub, '/feed/keys.json')).status).toBe(404);

    // A second process serves the same bytes (same ETag): agents behind a load balancer see one feed.
    const other = testApp(await store.reopen(), { config: { packs: settingsFor(packKey, feedKey) } });
    expect((await get(other, '/feed/latest.json')).headers.get('etag')).toBe(etag);
    // A new upload publishes a new index above the old one.
    await upload(hub, staff, await packArchiveBytes('other-pack', { indicators: [] }, { key: packKey }));
    const next = FeedIndexSchema.parse(await (await get(other, '/feed/latest.json')).json());
    expect(next.sequence).toBeGreaterThan(index.sequence);
    expect(next.packs.map((p) => p.id)).toEqual(['acme-2026', 'other-pack']);

    const noFeed = testApp(store.db, { config: { packs: settingsFor(packKey) } });
    const refused = await get(noFeed, '/feed/latest.json');
    expect(refused.status).toBe(404);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('FEED_DISABLED');
  });

  it('retro-hunts stored facts: flags the host holding the new digest and the one with an affected version', async () => {
    const byFile = await storeHost(store.db, acme.orgId, {
      name: 'pc-file',
      files: [{ path: 'C:/Users/a/AppData/Local/Programs/app/ffmpeg.dll', size: 4, sha256: BAD }],
    });
    const byApp = await storeHost(store.db, acme.orgId, {
      name: 'pc-app',
      apps: [{ name: 'Acme Desktop', version: '18.12.416' }],
    });
    const clean = await storeHost(store.db, acme.orgId, {
      name: 'pc-clean',
      apps: [{ name: 'Acme Desktop', version: '18.12.422' }],
      files: [{ path: 'C:/ok.dll', sha256: OTHER }],
    });
    const elsewhere = await createOrg(store.db, { name: 'Other' }, new Date());
    await storeHost(store.db, elsewhere.id, { name: 'far-clean', files: [{ path: '/x', sha256: OTHER }] });
    const archive = await packArchiveBytes(
      'acme-2026',
      {
        indicators: [sha256Indicator('ffmpeg-loader', BAD)],
        apps: [affectedApp('acme-desktop', 'Acme Desktop', ['18.12.416'], ['18.12.422'])],
      },
      { key: packKey, sequence: 7 },
    );
    const created = (await (await upload(hub, staff, archive)).json()) as { retroHunt: { href: string } };
    const run = await waitForRun(hub, staff, created.retroHunt.href);
    expect(run).toMatchObject({
      status: 'done',
      packSequence: 7,
      hostsChecked: 4,
      hostsFlagged: 2,
      findingsAdded: 2,
    });

    const findings = await store.db.all<{
      host_id: string;
      origin: string;
      pack_sequence: number;
      evidence: string;
    }>('SELECT host_id, origin, pack_sequence, evidence, kind FROM findings ORDER BY kind');
    expect(findings.map((f) => [f.host_id, f.origin, Number(f.pack_sequence)])).toEqual([
      [byApp, 'retro-hunt', 7],
      [byFile, 'retro-hunt', 7],
    ]);
    expect(JSON.parse(findings[1]?.evidence ?? '{}')).toMatchObject({
      matched: { fact: 'file', sha256: BAD, path: 'C:/Users/a/AppData/Local/Programs/app/ffmpeg.dll' },
    });
    const states = await store.db.all<{ id: string; state: string }>('SELECT id, state FROM hosts');
    const stateOf = (id: string) => states.find((s) => s.id === id)?.state;
    expect([stateOf(byFile), stateOf(byApp), stateOf(clean)]).toEqual(['hits', 'affected', 'clean']);

    // An organisation sees its own counts only.
    const own = await (await get(hub, created.retroHunt.href, acme.apiTokens['org-member'])).json();
    expect(own).toMatchObject({ hostsChecked: 3, hostsFlagged: 2 });
    const far = await (await get(hub, created.retroHunt.href, vendor.apiTokens['org-member'])).json();
    expect(far).toMatchObject({ hostsChecked: 0, hostsFlagged: 0 });
    expect((await get(hub, `/api/v1/retro-hunts/${randomUUID()}`, staff)).status).toBe(404);

    // Running it again (as after a restart) adds nothing.
    await store.db.run("UPDATE retro_hunts SET status = 'queued', cursor_host = NULL");
    const id = created.retroHunt.href.split('/').at(-1) as string;
    const rerun = await runRetroHunt(
      {
        db: store.db,
        settings: settingsFor(packKey),
        now: () => new Date(),
        recompute: (tx, org, host) => recomputeHostState(tx, org, host),
      },
      id,
    );
    expect(rerun?.status).toBe('done');
    expect(await store.db.get('SELECT COUNT(*) AS n FROM findings')).toEqual({ n: 2 });
  });
});
