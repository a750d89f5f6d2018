import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { generateSigningKey, signBytes, type TrustedKey } from './keys.js';
import { verifySignedJson } from './signed-json.js';

const Schema = z.object({ schemaVersion: z.literal(1), name: z.string() });
const NOW = new Date('2026-12-02T12:00:00Z');
const signer = generateSigningKey('doc key');

function signed(text: string, by = signer) {
  const bytes = Buffer.from(text);
  const signature = Buffer.from(
    JSON.stringify({ keyId: by.key.keyId, signature: signBytes(bytes, createPrivateKey(by.privateKeyPem)) }),
  );
  return { bytes, signature };
}

function check(
  bytes: Uint8Array,
  signature: Uint8Array,
  keyring: readonly TrustedKey[] = [signer.key],
  extra: { trustedAs?: string; invalidCode?: 'FEED_INVALID' } = {},
) {
  return verifySignedJson(bytes, signature, {
    keyring,
    now: NOW,
    schema: Schema,
    what: 'doc.json',
    ...extra,
  });
}

function refusal(run: () => unknown, code: string, text: RegExp): void {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(UserError);
  expect((error as UserError).code).toBe(code);
  expect((error as UserError).message).toMatch(text);
  expect((error as UserError).message).not.toContain('\n');
}

describe('verifySignedJson', () => {
  it('returns the typed value and the key that signed it, from a Buffer or a plain Uint8Array', () => {
    const doc = signed('{"schemaVersion": 1, "name": "x"}');
    expect(check(doc.bytes, doc.signature)).toEqual({
      value: { schemaVersion: 1, name: 'x' },
      key: signer.key,
    });
    expect(check(new Uint8Array(doc.bytes), new Uint8Array(doc.signature)).value.name).toBe('x');
  });

  it('accepts a key inside its validity window', () => {
    const doc = signed('{"schemaVersion": 1, "name": "x"}');
    const windowed = { ...signer.key, notBefore: '2026-01-01T00:00:00Z', notAfter: '2027-01-01T00:00:00Z' };
    expect(check(doc.bytes, doc.signature, [windowed]).key).toBe(windowed);
  });

  it('refuses a key that expired, naming the document, the key and the date', () => {
    const doc = signed('{"schemaVersion": 1, "name": "x"}');
    refusal(
      () => check(doc.bytes, doc.signature, [{ ...signer.key, notAfter: '2026-12-01T00:00:00Z' }]),
      'PACK_UNKNOWN_KEY',
      /^doc\.json: key doc key expired on 2026-12-01T00:00:00Z$/,
    );
  });

  it('refuses a key that is not valid yet', () => {
    const doc = signed('{"schemaVersion": 1, "name": "x"}');
    refusal(
      () => check(doc.bytes, doc.signature, [{ ...signer.key, notBefore: '2026-12-03T00:00:00Z' }]),
      'PACK_UNKNOWN_KEY',
      /^doc\.json: key doc key is not valid before 2026-12-03/,
    );
  });

  it('refuses an unknown key, saying what a signer must be', () => {
    const doc = signed('{"schemaVersion": 1, "name": "x"}', generateSigningKey('stranger'));
    refusal(
      () => check(doc.bytes, doc.signature, [signer.key], { trustedAs: 'a pinned root key' }),
      'PACK_UNKNOWN_KEY',
      /^doc\.json: signed by unknown key [0-9a-f]{16}…, which is not a pinned root key$/,
    );
  });

  it('refuses changed bytes, and a key that claims another key id', () => {
    const doc = signed('{"schemaVersion": 1, "name": "x"}');
    const changed = Buffer.from('{"schemaVersion": 1, "name": "y"}');
    refusal(() => check(changed, doc.signature), 'PACK_SIGNATURE', /^doc\.json does not match its signature/);
    const impostor = generateSigningKey('impostor');
    refusal(
      () => check(doc.bytes, doc.signature, [{ ...impostor.key, keyId: signer.key.keyId }]),
      'PACK_SIGNATURE',
      /does not match its signature/,
    );
    // One byte of whitespace added outside the JSON value is still a change of the signed bytes.
    refusal(
      () => check(Buffer.concat([doc.bytes, Buffer.from(' ')]), doc.signature),
      'PACK_SIGNATURE',
      /does not match/,
    );
  });

  it.each([
    ['not JSON', 'nope'],
    ['no key id', '{"signature": "AAAA"}'],
    ['a short key id', '{"keyId": "abc", "signature": "AAAA"}'],
    ['an empty signature', `{"keyId": "${'a'.repeat(64)}", "signature": ""}`],
    ['an array', '[]'],
  ])('refuses a signature file that is %s', (_, text) => {
    const doc = signed('{"schemaVersion": 1, "name": "x"}');
    refusal(() => check(doc.bytes, Buffer.from(text)), 'PACK_SIGNATURE', /^doc\.json\.sig/);
  });

  it('refuses an oversized signature file before parsing it', () => {
    const doc = signed('{"schemaVersion": 1, "name": "x"}');
    refusal(
      () => check(doc.bytes, Buffer.alloc(5000, 0x20)),
      'PACK_SIGNATURE',
      /doc\.json\.sig is 5000 bytes, over the 4096-byte limit/,
    );
  });

  it('refuses a well-signed document that is not JSON or not of the schema, with the given code and field', () => {
    const notJson = signed('{"schemaVersion": 1,');
    refusal(() => check(notJson.bytes, notJson.signature), 'PACK_INVALID', /^doc\.json: not valid JSON/);
    const wrong = signed('{"schemaVersion": 1, "name": 7}');
    refusal(
      () => check(wrong.bytes, wrong.signature, [signer.key], { invalidCode: 'FEED_INVALID' }),
      'FEED_INVALID',
      /^doc\.json: name: /,
    );
  });
});

describe('key validity windows that cannot be read', () => {
  it.each([
    ['notAfter', { notAfter: 'soon' }],
    ['notBefore', { notBefore: '2026-13-45' }],
  ])('refuse a key whose %s is not a date, instead of treating it as valid', (_, window) => {
    const doc = signed('{"schemaVersion": 1, "name": "x"}');
    refusal(
      () => check(doc.bytes, doc.signature, [{ ...signer.key, ...window }]),
      'PACK_UNKNOWN_KEY',
      /^doc\.json: key doc key has an unreadable validity window/,
    );
  });
});
