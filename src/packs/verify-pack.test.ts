import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { indicatorsFile, makeSignedPack } from '../testing/signed-pack.js';
import { generateSigningKey } from './keys.js';
import { verifyPack } from './verify-pack.js';

const INDICATORS = indicatorsFile([
  {
    id: 'x.1',
    kind: 'sha256',
    value: 'a'.repeat(64),
    title: 'bad thing',
    severity: 'high',
    confidence: 'high',
  },
]);

async function expectRefusal(promise: Promise<unknown>, code: string, text: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  expect((error as UserError).code).toBe(code);
  expect((error as UserError).message).toMatch(text);
  expect((error as UserError).message).not.toContain('\n');
}

describe('verifyPack', () => {
  it('accepts a pack signed by a trusted key and returns exactly the listed files', async () => {
    const pack = await makeSignedPack('good', {
      'indicators.json': INDICATORS,
      'rules/a.yar': 'rule a { condition: false }',
    });
    const verified = await verifyPack(pack.dir, { keyring: [pack.key] });
    expect(verified.manifest.id).toBe('good');
    expect(verified.manifest.sequence).toBe(1);
    expect([...verified.files.keys()].sort()).toEqual(['indicators.json', 'rules/a.yar']);
    expect(verified.stale).toBe(false);
    expect(verified.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a tampered file and names it', async () => {
    const pack = await makeSignedPack('tampered', {
      'indicators.json': INDICATORS,
      'rules/a.yar': 'rule a { condition: false }',
    });
    writeFileSync(join(pack.dir, 'rules/a.yar'), 'rule b { condition: false }');
    await expectRefusal(
      verifyPack(pack.dir, { keyring: [pack.key] }),
      'PACK_TAMPERED',
      /rules\/a\.yar.*SHA-256/,
    );
  });

  it('refuses a file whose size changed', async () => {
    const pack = await makeSignedPack('grown', { 'indicators.json': INDICATORS });
    writeFileSync(join(pack.dir, 'indicators.json'), `${INDICATORS}\n`);
    await expectRefusal(
      verifyPack(pack.dir, { keyring: [pack.key] }),
      'PACK_TAMPERED',
      /indicators\.json is \d+ bytes/,
    );
  });

  it('refuses a listed file that is missing', async () => {
    const pack = await makeSignedPack('missing', { 'indicators.json': INDICATORS });
    rmSync(join(pack.dir, 'indicators.json'));
    await expectRefusal(
      verifyPack(pack.dir, { keyring: [pack.key] }),
      'PACK_TAMPERED',
      /indicators\.json is missing/,
    );
  });

  it('refuses an edited manifest', async () => {
    const pack = await makeSignedPack('edited', { 'indicators.json': INDICATORS });
    const path = join(pack.dir, 'manifest.json');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"sequence": 1', '"sequence": 99'));
    await expectRefusal(
      verifyPack(pack.dir, { keyring: [pack.key] }),
      'PACK_SIGNATURE',
      /does not match its signature/,
    );
  });

  it('refuses a signature by a key that claims a trusted key id', async () => {
    const pack = await makeSignedPack('forged', { 'indicators.json': INDICATORS });
    const impostor = generateSigningKey('impostor');
    await expectRefusal(
      verifyPack(pack.dir, { keyring: [{ ...impostor.key, keyId: pack.key.keyId }] }),
      'PACK_SIGNATURE',
      /does not match its signature/,
    );
  });

  it('refuses a pack signed by an unknown key', async () => {
    const pack = await makeSignedPack('unknown', { 'indicators.json': INDICATORS });
    const other = generateSigningKey('other');
    await expectRefusal(verifyPack(pack.dir, { keyring: [other.key] }), 'PACK_UNKNOWN_KEY', /unknown key/);
  });

  it('refuses a key outside its validity window', async () => {
    const pack = await makeSignedPack('retired', { 'indicators.json': INDICATORS });
    const key = { ...pack.key, notAfter: '2020-01-01T00:00:00Z' };
    await expectRefusal(verifyPack(pack.dir, { keyring: [key] }), 'PACK_UNKNOWN_KEY', /expired on 2020/);
  });

  it('marks an expired pack stale, and refuses it with requireFresh', async () => {
    const pack = await makeSignedPack(
      'old',
      { 'indicators.json': INDICATORS },
      { now: new Date('2024-01-01'), expiresInDays: 30 },
    );
    const verified = await verifyPack(pack.dir, { keyring: [pack.key] });
    expect(verified.stale).toBe(true);
    await expectRefusal(
      verifyPack(pack.dir, { keyring: [pack.key], requireFresh: true }),
      'PACK_EXPIRED',
      /expired on 2024-01-31/,
    );
  });

  it('refuses a malformed signature file', async () => {
    const pack = await makeSignedPack('badsig', { 'indicators.json': INDICATORS });
    writeFileSync(join(pack.dir, 'manifest.sig'), '{"keyId": "nope"}');
    await expectRefusal(verifyPack(pack.dir, { keyring: [pack.key] }), 'PACK_SIGNATURE', /malformed/);
  });

  it('refuses an oversized signature file without reading it, and a listed file that is a folder', async () => {
    const pack = await makeSignedPack('bounded', { 'indicators.json': INDICATORS });
    const signature = readFileSync(join(pack.dir, 'manifest.sig'));
    writeFileSync(join(pack.dir, 'manifest.sig'), Buffer.alloc(1 << 20, 0x20));
    await expectRefusal(
      verifyPack(pack.dir, { keyring: [pack.key] }),
      'PACK_SIGNATURE',
      /file manifest\.sig is 1048576 bytes, over the 4096-byte limit/,
    );
    writeFileSync(join(pack.dir, 'manifest.sig'), signature);
    rmSync(join(pack.dir, 'indicators.json'));
    mkdirSync(join(pack.dir, 'indicators.json'));
    await expectRefusal(
      verifyPack(pack.dir, { keyring: [pack.key] }),
      'PACK_TAMPERED',
      /file indicators\.json is not a regular file/,
    );
  });
});
