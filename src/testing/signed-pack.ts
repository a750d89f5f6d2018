/** @module Signed packs made with throwaway keys, for tests. */
import { join } from 'node:path';
import { generateSigningKey, type TrustedKey } from '../packs/keys.js';
import { signPack } from '../packs/sign-pack.js';
import { tempTree, writeTree } from './temp-tree.js';

export interface TestPack {
  dir: string;
  key: TrustedKey;
  privateKeyPem: string;
}

/** Writes a pack folder with `files` plus a draft manifest, and signs it with a new key. */
export async function makeSignedPack(
  id: string,
  files: Record<string, string | Uint8Array>,
  options: {
    now?: Date;
    expiresInDays?: number;
    sequence?: number;
    key?: { key: TrustedKey; privateKeyPem: string };
  } = {},
): Promise<TestPack> {
  const root = tempTree();
  const dir = join(root, id);
  writeTree(dir, {
    'manifest.json': JSON.stringify({ id, title: `test pack ${id}`, references: [] }),
    ...files,
  });
  const signing = options.key ?? generateSigningKey('test key');
  await signPack(dir, {
    privateKeyPem: signing.privateKeyPem,
    keySource: 'test key',
    ...(options.now ? { now: options.now } : {}),
    ...(options.expiresInDays ? { expiresInDays: options.expiresInDays } : {}),
    ...(options.sequence !== undefined ? { sequence: options.sequence } : {}),
  });
  return { dir, key: signing.key, privateKeyPem: signing.privateKeyPem };
}

/** An indicators.json body with the given indicators. */
export function indicatorsFile(indicators: object[]): string {
  return JSON.stringify({ schemaVersion: 1, sources: {}, indicators });
}
