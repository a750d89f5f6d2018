/** @module Packs signed without any content check, as an older or hostile signer could make them, for tests. */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPrivateKey, signBytes } from '../packs/keys.js';
import { writeTree } from './temp-tree.js';

/** Writes `files`, a manifest listing them and its signature into `dir`; nothing about the content is checked. */
export function signByHand(
  dir: string,
  id: string,
  files: Record<string, string>,
  privateKeyPem: string,
): void {
  writeTree(dir, files);
  const now = Date.now();
  const manifest = {
    schemaVersion: 1,
    id,
    title: id,
    sequence: 1,
    published: new Date(now).toISOString(),
    expires: new Date(now + 86_400_000).toISOString(),
    references: [],
    files: Object.entries(files).map(([path, text]) => ({
      path,
      sha256: createHash('sha256').update(text).digest('hex'),
      size: Buffer.byteLength(text),
    })),
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const { privateKey, keyId } = loadPrivateKey(privateKeyPem, 'test key');
  writeFileSync(join(dir, 'manifest.json'), bytes);
  writeFileSync(
    join(dir, 'manifest.sig'),
    JSON.stringify({ keyId, signature: signBytes(bytes, privateKey) }),
  );
}
