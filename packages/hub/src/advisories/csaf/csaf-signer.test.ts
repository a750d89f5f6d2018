import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, openTestStore, type TestStore } from '../../testing/test-db.js';
import { THREE_CX_ADVISORY } from '../test-advisories.js';
import { csafDocument, csafJson } from './csaf-document.js';
import { type CsafSigner, generateCsafKey, loadCsafSigner } from './csaf-signer.js';

const CONFIG = {
  publicUrl: 'https://hub.example',
  publisher: { name: 'PSIRT', namespace: 'https://hub.example' },
};

async function verifies(signer: CsafSigner, bytes: Uint8Array, armoredSignature: string): Promise<boolean> {
  const result = await openpgp.verify({
    message: await openpgp.createMessage({ binary: bytes }),
    signature: await openpgp.readSignature({ armoredSignature }),
    verificationKeys: await openpgp.readKey({ armoredKey: signer.publicKeyArmored }),
    format: 'binary',
  });
  return (
    result.signatures[0]?.verified.then(
      () => true,
      () => false,
    ) ?? false
  );
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'csaf-signer-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('loadCsafSigner from a file', () => {
  it('signs with the key in the file, a v4 Ed25519 key, fingerprint in upper-case hex', async () => {
    const file = join(dir, 'key.asc');
    await writeFile(file, await generateCsafKey('Vendor PSIRT'));
    const signer = await loadCsafSigner({ file });
    expect(signer.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    const key = await openpgp.readKey({ armoredKey: signer.publicKeyArmored });
    expect(key.isPrivate()).toBe(false);
    expect(key.keyPacket.version).toBe(4);
    expect(key.getAlgorithmInfo()).toMatchObject({ algorithm: 'eddsaLegacy', curve: 'ed25519Legacy' });
    const bytes = csafJson(csafDocument(THREE_CX_ADVISORY, CONFIG));
    const signature = await signer.sign(bytes);
    expect(signature).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
    expect(await verifies(signer, bytes, signature)).toBe(true);
    const tampered = Uint8Array.from(bytes);
    tampered[10] = (tampered[10] ?? 0) ^ 1;
    expect(await verifies(signer, tampered, signature)).toBe(false);
  });

  it('memoises the signature of the same bytes', async () => {
    const file = join(dir, 'memo.asc');
    await writeFile(file, await generateCsafKey('x'));
    const signer = await loadCsafSigner({ file });
    const bytes = new TextEncoder().encode('{}\n');
    const [a, b] = await Promise.all([signer.sign(bytes), signer.sign(Uint8Array.from(bytes))]);
    expect(a).toBe(b);
    expect(await signer.sign(new TextEncoder().encode('{ }\n'))).not.toBe(a);
  });

  it.each([
    ['a missing file', null, /cannot be read \(ENOENT\)/],
    ['a public key', 'public', /not an ASCII-armored OpenPGP private key/],
    ['garbage', 'garbage', /not an ASCII-armored OpenPGP private key/],
    ['a passphrase-protected key', 'encrypted', /protected by a passphrase/],
    ['a huge file', 'huge', /over 65536 bytes/],
  ])('refuses %s in one line naming the file', async (_, kind, message) => {
    const file = join(dir, `bad-${kind}.asc`);
    if (kind === 'public') {
      const key = await openpgp.readPrivateKey({ armoredKey: await generateCsafKey('x') });
      await writeFile(file, key.toPublic().armor());
    } else if (kind === 'garbage') await writeFile(file, '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nAAAA\n');
    else if (kind === 'encrypted')
      await writeFile(
        file,
        (
          await openpgp.generateKey({
            type: 'ecc',
            curve: 'ed25519Legacy',
            userIDs: [{ name: 'x' }],
            passphrase: 'secret',
          })
        ).privateKey,
      );
    else if (kind === 'huge') await writeFile(file, 'x'.repeat(70_000));
    const error = await loadCsafSigner({ file }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message.startsWith(`--csaf-key ${file}: `)).toBe(true);
    expect((error as Error).message).not.toContain('\n');
  });
});

describe('the signature checked by GnuPG', () => {
  it('verifies with gpg --verify against the published public key', async () => {
    const signer = await loadCsafSigner({ file: await writeKey('gpg.asc') });
    const bytes = csafJson(csafDocument(THREE_CX_ADVISORY, CONFIG));
    const home = await mkdtemp(join(tmpdir(), 'csaf-gnupg-'));
    try {
      await writeFile(join(dir, 'key.pub.asc'), signer.publicKeyArmored);
      await writeFile(join(dir, 'csw-2023-0001.json'), bytes);
      await writeFile(join(dir, 'csw-2023-0001.json.asc'), await signer.sign(bytes));
      const gpg = (...args: string[]) =>
        execFileSync('gpg', ['--batch', '--status-fd', '1', ...args], {
          env: { ...process.env, GNUPGHOME: home },
          stdio: ['ignore', 'pipe', 'pipe'],
        }).toString();
      gpg('--import', join(dir, 'key.pub.asc'));
      const status = gpg('--verify', join(dir, 'csw-2023-0001.json.asc'), join(dir, 'csw-2023-0001.json'));
      expect(status).toMatch(new RegExp(`\\[GNUPG:\\] VALIDSIG ${signer.fingerprint} `));
      expect(status).toContain('[GNUPG:] GOODSIG');
      await writeFile(join(dir, 'csw-2023-0001.json'), Buffer.concat([Buffer.from(bytes), Buffer.from(' ')]));
      expect(() =>
        gpg('--verify', join(dir, 'csw-2023-0001.json.asc'), join(dir, 'csw-2023-0001.json')),
      ).toThrow();
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

async function writeKey(name: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, await generateCsafKey('Vendor PSIRT'));
  return file;
}

describe.each(DIALECTS)('loadCsafSigner from the store on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openTestStore(dialect);
  });
  afterAll(() => store.cleanup());

  it('generates one key per database: every process signs with it, even when they start together', async () => {
    const other = await store.reopen();
    const signers = await Promise.all([
      loadCsafSigner({ db: store.db, userName: 'Vendor PSIRT' }),
      loadCsafSigner({ db: other, userName: 'Vendor PSIRT' }),
      loadCsafSigner({ db: other, userName: 'Vendor PSIRT' }),
    ]);
    expect(new Set(signers.map((s) => s.fingerprint)).size).toBe(1);
    const later = await loadCsafSigner({ db: await store.reopen(), userName: 'another name' });
    expect(later.fingerprint).toBe(signers[0]?.fingerprint);
    const bytes = new TextEncoder().encode('{"a":1}\n');
    expect(await verifies(later, bytes, await (signers[1] as CsafSigner).sign(bytes))).toBe(true);
  });
});
