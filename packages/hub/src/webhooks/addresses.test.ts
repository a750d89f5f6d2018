import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPublicAddress, resolvePublic } from './addresses.js';
import { newSigningSecret, openSecret, sealSecret } from './secret-box.js';
import { loadWebhookKey } from './webhook-settings.js';

describe('endpoint addresses', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '0.0.0.0',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.1.2.3',
    '::ffff:a9fe:a9fe',
    '::127.0.0.1',
    '64:ff9b::a00:1',
    '2002:7f00:1::',
    '2002:c0a8:101::1',
    '[::1]',
    'localhost',
    'not-an-address',
    '1.2.3',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '172.32.0.1',
    '192.169.0.1',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('accepts %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it('resolves names and checks every address', async () => {
    await expect(resolvePublic('localhost', false)).rejects.toThrow(
      /localhost resolves to .*not a public address/,
    );
    expect((await resolvePublic('localhost', true)).length).toBeGreaterThan(0);
    await expect(resolvePublic('[::1]', false)).rejects.toThrow('::1 is not a public address');
    await expect(resolvePublic('no-such-host.invalid', true)).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('sealed signing secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainsweep-webhook-key-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens only with the key and the webhook id it was sealed with', () => {
    const key = randomBytes(32);
    const secret = newSigningSecret();
    const sealed = sealSecret(key, 'hook-1', secret);
    expect(sealed).not.toContain(secret.slice(10));
    expect(openSecret(key, 'hook-1', sealed)).toBe(secret);
    expect(() => openSecret(randomBytes(32), 'hook-1', sealed)).toThrow('does not open');
    expect(() => openSecret(key, 'hook-2', sealed)).toThrow('does not open');
    const [v, iv, tag, data] = sealed.split('.') as [string, string, string, string];
    const flipped = `${data[0] === 'A' ? 'B' : 'A'}${data.slice(1)}`;
    expect(() => openSecret(key, 'hook-1', [v, iv, tag, flipped].join('.'))).toThrow('does not open');
    expect(() => openSecret(key, 'hook-1', 'plain')).toThrow('unknown form');
  });

  it('creates a private key file once, reads it back, and refuses bad ones', () => {
    const file = join(dir, 'webhook.key');
    const key = loadWebhookKey(file, { create: true });
    expect(key).toHaveLength(32);
    expect(loadWebhookKey(file, { create: true })).toEqual(key);
    expect(loadWebhookKey(file)).toEqual(key);
    expect(() => loadWebhookKey(join(dir, 'missing.key'))).toThrow(/cannot be read \(ENOENT\)/);
    const short = join(dir, 'short.key');
    writeFileSync(short, randomBytes(16).toString('base64'), { mode: 0o600 });
    expect(() => loadWebhookKey(short)).toThrow('base64 of 32 bytes');
    chmodSync(file, 0o644);
    expect(() => loadWebhookKey(file)).toThrow('mode 0600');
    chmodSync(file, 0o600);
    const link = join(dir, 'link.key');
    symlinkSync(file, link);
    expect(() => loadWebhookKey(link, { create: true })).toThrow(/not a regular file/);
  });
});
