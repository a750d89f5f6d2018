import { createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { indicatorsFile, makeSignedPack } from '../testing/signed-pack.js';
import { tempTree } from '../testing/temp-tree.js';
import { publishFeed, storedKeyList, updateFromFeed } from './feed.js';
import { generateSigningKey, signBytes, type TrustedKey } from './keys.js';
import { PackStore } from './pack-store.js';

/** A static file server on 127.0.0.1 over `root`. */
let server: Server;
let base = '';
const root = tempTree();
beforeAll(async () => {
  server = createServer((req, res) => {
    const file = join(root, decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/'));
    if (!existsSync(file)) res.writeHead(404).end();
    else res.writeHead(200).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const INDICATORS = indicatorsFile([
  {
    id: 'f.1',
    kind: 'domain',
    value: 'feed-c2.example',
    title: 'C2',
    severity: 'high',
    confidence: 'high',
  },
]);

/** A feed in `root/name` offering one pack signed by its own key, the index signed by `indexKey`. */
async function feedSignedBy(name: string, indexKey: { key: TrustedKey; privateKeyPem: string }) {
  const pack = await makeSignedPack('feed-pack', { 'indicators.json': INDICATORS });
  await publishFeed({
    packDirs: [pack.dir],
    keyring: [pack.key],
    privateKeyPem: indexKey.privateKeyPem,
    keySource: 'test key',
    outDir: join(root, name),
    baseUrl: `${base}${name}/`,
    name: 'test feed',
    sequence: 1,
    expiresInDays: 7,
  });
  return { url: `${base}${name}/`, packKey: pack.key, store: new PackStore(join(tempTree(), 'packs')) };
}

async function refusal(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  expect((error as UserError).message).not.toContain('\n');
  return error as UserError;
}

describe('updateFromFeed and the validity window of the key that signs the index', () => {
  it.each([
    ['expired', { notAfter: '2025-01-01T00:00:00Z' }, /latest\.json: key index key expired on 2025-01-01/],
    [
      'not yet valid',
      { notBefore: '2099-01-01T00:00:00Z' },
      /latest\.json: key index key is not valid before 2099-01-01/,
    ],
  ])('refuses an index signed by a key that is %s, installing nothing', async (name, window, message) => {
    const indexKey = generateSigningKey('index key');
    const feed = await feedSignedBy(`lib-${name.replace(/ /g, '-')}`, indexKey);
    const error = await refusal(
      updateFromFeed(feed.url, {
        store: feed.store,
        keyring: [feed.packKey, { ...indexKey.key, ...window }],
        roots: [],
        allowStale: false,
      }),
    );
    expect(error.code).toBe('PACK_UNKNOWN_KEY');
    expect(error.message).toMatch(message);
    expect(feed.store.currentSequence('feed-pack')).toBeUndefined();
  });

  it('installs from an index whose key is inside its window', async () => {
    const indexKey = generateSigningKey('index key');
    const feed = await feedSignedBy('lib-valid', indexKey);
    const result = await updateFromFeed(feed.url, {
      store: feed.store,
      keyring: [
        feed.packKey,
        { ...indexKey.key, notBefore: '2020-01-01T00:00:00Z', notAfter: '2099-01-01T00:00:00Z' },
      ],
      roots: [],
      allowStale: false,
    });
    expect(result.outcomes.map((o) => o.result)).toEqual(['installed']);
    expect(feed.store.currentSequence('feed-pack')).toBe(1);
  });

  it('refuses a key list signed by a root key that has expired', async () => {
    const indexKey = generateSigningKey('index key');
    const feed = await feedSignedBy('lib-root-expired', indexKey);
    const rootKey = generateSigningKey('old root');
    const list = Buffer.from(
      JSON.stringify({
        schemaVersion: 1,
        version: 1,
        expires: '2099-01-01T00:00:00Z',
        keys: [],
        revoked: [],
      }),
    );
    writeFileSync(join(root, 'lib-root-expired', 'keys.json'), list);
    writeFileSync(
      join(root, 'lib-root-expired', 'keys.json.sig'),
      JSON.stringify({
        keyId: rootKey.key.keyId,
        signature: signBytes(list, createPrivateKey(rootKey.privateKeyPem)),
      }),
    );
    const error = await refusal(
      updateFromFeed(feed.url, {
        store: feed.store,
        keyring: [feed.packKey, indexKey.key],
        roots: [{ ...rootKey.key, notAfter: '2025-06-01T00:00:00Z' }],
        allowStale: false,
      }),
    );
    expect(error.message).toMatch(/keys\.json: key old root expired on 2025-06-01/);
  });
});

describe('a stored key list under a root other than the built-in ones', () => {
  it('is kept when something checks it against the built-in roots', async () => {
    const indexKey = generateSigningKey('index key');
    const feed = await feedSignedBy('own-root', indexKey);
    const rootKey = generateSigningKey('own root');
    const list = Buffer.from(
      JSON.stringify({
        schemaVersion: 1,
        version: 1,
        expires: '2099-01-01T00:00:00Z',
        keys: [],
        revoked: [],
      }),
    );
    writeFileSync(join(root, 'own-root', 'keys.json'), list);
    writeFileSync(
      join(root, 'own-root', 'keys.json.sig'),
      JSON.stringify({
        keyId: rootKey.key.keyId,
        signature: signBytes(list, createPrivateKey(rootKey.privateKeyPem)),
      }),
    );
    await updateFromFeed(feed.url, {
      store: feed.store,
      keyring: [feed.packKey, indexKey.key],
      roots: [rootKey.key],
      allowStale: false,
    });
    expect(storedKeyList(feed.store, [rootKey.key])?.version).toBe(1);
    // Another reader that trusts only the built-in roots cannot verify it, and must not delete it.
    expect(storedKeyList(feed.store, [])).toBeUndefined();
    expect(storedKeyList(feed.store, [rootKey.key])?.version).toBe(1);
  });
});
