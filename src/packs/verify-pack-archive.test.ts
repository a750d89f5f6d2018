import { createHash, createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { indicatorsFile, makeSignedPack, type TestPack } from '../testing/signed-pack.js';
import { tempTree } from '../testing/temp-tree.js';
import { type ArchiveEntry, MAX_ARCHIVE_BYTES, MAX_PACK_FILES, writeArchive } from './archive.js';
import { packArchive } from './feed.js';
import { generateSigningKey, signBytes } from './keys.js';
import { readPackContent } from './pack-content.js';
import { PackStore } from './pack-store.js';
import { verifyPack, verifyPackArchive } from './verify-pack.js';

const INDICATORS = indicatorsFile([
  {
    id: 'arc.1',
    kind: 'sha256',
    value: 'b'.repeat(64),
    title: 'bad build',
    severity: 'critical',
    confidence: 'high',
  },
]);
const RULE = 'rule arc { strings: $a = "x" condition: $a }';

async function signedArchive(options: { now?: Date; expiresInDays?: number } = {}) {
  const pack = await makeSignedPack(
    'arc-pack',
    { 'indicators.json': INDICATORS, 'rules/a.yar': RULE },
    options,
  );
  return { pack, bytes: packArchive(pack.dir, ['indicators.json', 'rules/a.yar']) };
}

/** The archive's entries as files a test may change, then archive again. */
function entriesOf(
  pack: TestPack,
  paths = ['manifest.json', 'manifest.sig', 'indicators.json', 'rules/a.yar'],
) {
  return paths.map((path) => ({ path, bytes: readFileSync(join(pack.dir, path)) }));
}

/** An archive whose manifest lists `files` as given (any path, any size), signed by `pack`'s key. */
function handSigned(pack: TestPack, files: object[], content: ArchiveEntry[] = []): Buffer {
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 1,
      id: 'arc-pack',
      title: 'hand signed',
      sequence: 1,
      published: '2026-12-01T00:00:00Z',
      expires: '2027-12-01T00:00:00Z',
      references: [],
      files,
    }),
  );
  const signature = JSON.stringify({
    keyId: pack.key.keyId,
    signature: signBytes(manifest, createPrivateKey(pack.privateKeyPem)),
  });
  return writeArchive([
    { path: 'manifest.json', bytes: manifest },
    { path: 'manifest.sig', bytes: Buffer.from(signature) },
    ...content,
  ]);
}

const listed = (path: string, bytes: Buffer) => ({
  path,
  sha256: createHash('sha256').update(bytes).digest('hex'),
  size: bytes.length,
});

async function refusal(promise: Promise<unknown>, code: string, text: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  expect((error as UserError).code).toBe(code);
  expect((error as UserError).message).toMatch(text);
  expect((error as UserError).message).not.toContain('\n');
}

describe('verifyPackArchive', () => {
  it('returns the manifest and exactly the listed files, and the same intel as the pack folder', async () => {
    const { pack, bytes } = await signedArchive();
    const verified = await verifyPackArchive(new Uint8Array(bytes), { keyring: [pack.key] });
    expect(verified.manifest.id).toBe('arc-pack');
    expect(verified.keyId).toBe(pack.key.keyId);
    expect(verified.stale).toBe(false);
    expect([...verified.files.keys()].sort()).toEqual(['indicators.json', 'rules/a.yar']);
    expect(verified.files.get('rules/a.yar')?.toString()).toBe(RULE);
    const fromFolder = await verifyPack(pack.dir, { keyring: [pack.key] });
    expect(verified.digest).toBe(fromFolder.digest);
    expect(readPackContent(verified)).toEqual(readPackContent(fromFolder));
    expect(readPackContent(verified).indicators.map((i) => i.id)).toEqual(['arc.1']);
  });

  it('refuses a tampered file inside a well-formed archive', async () => {
    const { pack } = await signedArchive();
    const entries = entriesOf(pack).map((e) =>
      e.path === 'rules/a.yar' ? { ...e, bytes: Buffer.from(RULE.replace('"x"', '"y"')) } : e,
    );
    await refusal(
      verifyPackArchive(writeArchive(entries), { keyring: [pack.key] }),
      'PACK_TAMPERED',
      /^pack arc-pack: file rules\/a\.yar does not match its SHA-256/,
    );
  });

  it('refuses a damaged archive', async () => {
    const { pack, bytes } = await signedArchive();
    const damaged = Buffer.from(bytes);
    damaged[damaged.length - 12] = (damaged[damaged.length - 12] as number) ^ 0xff;
    await refusal(
      verifyPackArchive(damaged, { keyring: [pack.key], source: 'upload.tar.gz' }),
      'PACK_INVALID',
      /^upload\.tar\.gz: not a complete gzip archive/,
    );
  });

  it('refuses a pack signed by a key the keyring lacks', async () => {
    const { bytes } = await signedArchive();
    await refusal(
      verifyPackArchive(bytes, { keyring: [generateSigningKey('other').key] }),
      'PACK_UNKNOWN_KEY',
      /^pack archive: manifest\.json: signed by unknown key/,
    );
  });

  it.each([
    ['expired', { notAfter: '2026-06-01T00:00:00Z' }, /expired on 2026-06-01/],
    ['not yet valid', { notBefore: '2027-06-01T00:00:00Z' }, /is not valid before 2027-06-01/],
  ])('refuses a pack signed by a key that is %s', async (_, window, text) => {
    const { pack, bytes } = await signedArchive();
    await refusal(
      verifyPackArchive(bytes, {
        keyring: [{ ...pack.key, ...window }],
        now: new Date('2026-12-02T00:00:00Z'),
      }),
      'PACK_UNKNOWN_KEY',
      text,
    );
  });

  it('marks an expired pack stale, and refuses it with requireFresh', async () => {
    const { pack, bytes } = await signedArchive({ now: new Date('2024-01-01'), expiresInDays: 30 });
    expect((await verifyPackArchive(bytes, { keyring: [pack.key] })).stale).toBe(true);
    await refusal(
      verifyPackArchive(bytes, { keyring: [pack.key], requireFresh: true }),
      'PACK_EXPIRED',
      /expired on 2024-01-31/,
    );
  });

  it('refuses an archive over the size limit without inflating it', async () => {
    const { pack } = await signedArchive();
    await refusal(
      verifyPackArchive(Buffer.alloc(MAX_ARCHIVE_BYTES + 1), { keyring: [pack.key] }),
      'PACK_INVALID',
      /archive is 67108865 bytes, over the 67108864-byte limit/,
    );
  });

  it('refuses an archive that inflates past its bound (a gzip bomb)', async () => {
    const { pack } = await signedArchive();
    const bomb = writeArchive([{ path: 'zeros', bytes: Buffer.alloc(20 * 1024 * 1024) }]);
    expect(bomb.length).toBeLessThan(100_000);
    await refusal(
      verifyPackArchive(bomb, { keyring: [pack.key] }),
      'PACK_INVALID',
      /would inflate to more than/,
    );
  });

  it('refuses an archive with more files than a pack may hold', async () => {
    const { pack } = await signedArchive();
    const many = Array.from({ length: MAX_PACK_FILES + 1 }, (_, i) => ({
      path: `f${i}`,
      bytes: Buffer.alloc(0),
    }));
    await refusal(
      verifyPackArchive(writeArchive(many), { keyring: [pack.key] }),
      'PACK_INVALID',
      /more than 10000 files in archive/,
    );
  });

  it.each([
    ['../x', /unsafe path "\.\.\/x"/],
    ['rules/../../x', /unsafe path/],
    ['/etc/passwd', /unsafe path/],
    ['C:/x', /unsafe path/],
  ])('refuses an archive entry %s', async (path, text) => {
    const { pack } = await signedArchive();
    const entries = [...entriesOf(pack), { path, bytes: Buffer.from('x') }];
    await refusal(verifyPackArchive(writeArchive(entries), { keyring: [pack.key] }), 'PACK_INVALID', text);
  });

  it('refuses a signed manifest that lists a path outside the pack', async () => {
    const { pack } = await signedArchive();
    const x = Buffer.from('x');
    await refusal(
      verifyPackArchive(handSigned(pack, [listed('../x', x)]), { keyring: [pack.key] }),
      'PACK_INVALID',
      /manifest\.json: files\.0\.path: must be a relative path that stays inside the pack/,
    );
  });

  it('refuses a pack whose manifest lists a file the archive lacks', async () => {
    const { pack } = await signedArchive();
    await refusal(
      verifyPackArchive(writeArchive(entriesOf(pack, ['manifest.json', 'manifest.sig', 'indicators.json'])), {
        keyring: [pack.key],
      }),
      'PACK_TAMPERED',
      /^pack arc-pack: file rules\/a\.yar is missing/,
    );
  });

  it('refuses an archive without its signature', async () => {
    const { pack } = await signedArchive();
    await refusal(
      verifyPackArchive(writeArchive(entriesOf(pack, ['manifest.json', 'indicators.json', 'rules/a.yar'])), {
        keyring: [pack.key],
      }),
      'PACK_SIGNATURE',
      /manifest\.sig is missing/,
    );
  });

  it('refuses extra files the signed manifest does not list', async () => {
    const { pack } = await signedArchive();
    const entries = [
      ...entriesOf(pack),
      { path: 'rules/extra.yar', bytes: Buffer.from('rule e { condition: true }') },
    ];
    await refusal(
      verifyPackArchive(writeArchive(entries), { keyring: [pack.key] }),
      'PACK_TAMPERED',
      /^pack arc-pack: pack archive holds "rules\/extra\.yar", which the signed manifest does not list/,
    );
  });

  it('refuses a signed listing no store could hold, before reading any file', async () => {
    const { pack } = await signedArchive();
    const a = Buffer.from('a');
    const cases: [object[], ArchiveEntry[], RegExp][] = [
      [[{ ...listed('big', a), size: 300 * 1024 * 1024 }], [], /add up to 314572800 bytes, over the/],
      [
        [listed('a', a), listed('A', a)],
        [
          { path: 'a', bytes: a },
          { path: 'A', bytes: a },
        ],
        /lists "A" twice/,
      ],
      [
        [listed('r', a), listed('r/x', a)],
        [{ path: 'r', bytes: a }],
        /"r" as a file and as a folder of "r\/x"/,
      ],
      [
        [listed('MANIFEST.JSON', a)],
        [{ path: 'MANIFEST.JSON', bytes: a }],
        /own signed manifest or signature/,
      ],
      [
        [listed('caf\u00e9.yar', a), listed('cafe\u0301.yar', a)],
        [
          { path: 'caf\u00e9.yar', bytes: a },
          { path: 'cafe\u0301.yar', bytes: a },
        ],
        /lists "cafe\u0301\.yar" twice/,
      ],
    ];
    for (const [files, content, text] of cases)
      await refusal(
        verifyPackArchive(handSigned(pack, files, content), { keyring: [pack.key] }),
        'PACK_INVALID',
        text,
      );
  });

  it('refuses a listed file of another size, without hashing it', async () => {
    const { pack } = await signedArchive();
    const archive = handSigned(
      pack,
      [{ ...listed('a', Buffer.from('a')), size: 5 }],
      [{ path: 'a', bytes: Buffer.from('a') }],
    );
    await refusal(
      verifyPackArchive(archive, { keyring: [pack.key] }),
      'PACK_TAMPERED',
      /file a is 1 bytes, manifest says 5/,
    );
  });
});

describe('PackStore.install checks in memory first', () => {
  it('writes nothing, not even the pack folder, for a refused pack', async () => {
    const { pack } = await signedArchive();
    const store = new PackStore(join(tempTree(), 'packs'));
    const files = new Map(
      [...entriesOf(pack), { path: 'rules/extra.yar', bytes: Buffer.from('rule e { condition: true }') }].map(
        (e) => [e.path, e.bytes],
      ),
    );
    await refusal(
      store.install(files, { keyring: () => [pack.key], source: 'test.tar.gz' }),
      'PACK_TAMPERED',
      /test\.tar\.gz holds "rules\/extra\.yar"/,
    );
    expect(existsSync(join(store.dir, 'arc-pack'))).toBe(false);
    files.delete('rules/extra.yar');
    const installed = await store.install(files, { keyring: () => [pack.key], source: 'test.tar.gz' });
    expect(installed.dir).toBe(join(store.dir, 'arc-pack', '1'));
    expect((await verifyPack(installed.dir, { keyring: [pack.key] })).digest).toBe(installed.digest);
  });
});
