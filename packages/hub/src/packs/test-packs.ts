/** @module Signed pack archives made with throwaway keys, for the hub's pack tests. */

import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IntelSet } from 'chainsweep/core/intel.js';
import { packArchive } from 'chainsweep/packs/feed.js';
import { generateSigningKey, loadPrivateKey, signBytes, type TrustedKey } from 'chainsweep/packs/keys.js';
import { readPackContent } from 'chainsweep/packs/pack-content.js';
import { signPack } from 'chainsweep/packs/sign-pack.js';
import { verifyPackArchive } from 'chainsweep/packs/verify-pack.js';
import type { Db } from '../store/db.js';

/** A signing key pair as `packs keygen` makes one. */
export interface TestKey {
  key: TrustedKey;
  privateKeyPem: string;
}

/** A vendor's keys as `serve` and scanners take them, written to `dir`. */
export interface VendorKeys {
  packKey: TestKey;
  feedKey: TestKey;
  /** `keys.json` (+ `.sig`): the pack and feed keys, vouched for by the root in `root.keyring.json`. */
  keyList: string;
  rootKeyring: string;
  /** The feed's private key (`serve --feed-key`). */
  feedKeyFile: string;
}

/** A root, a pack key and a feed key; the root signs a key list of the other two, as `packs keys sign` does. */
export function writeVendorKeys(dir: string): VendorKeys {
  const root = testKey('vendor root');
  const packKey = testKey('vendor packs');
  const feedKey = testKey('vendor hub feed');
  const list = Buffer.from(
    JSON.stringify({
      schemaVersion: 1,
      version: 1,
      expires: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      keys: [packKey.key, feedKey.key],
      revoked: [],
    }),
  );
  const { privateKey, keyId } = loadPrivateKey(root.privateKeyPem, 'root');
  const keys = {
    packKey,
    feedKey,
    keyList: join(dir, 'keys.json'),
    rootKeyring: join(dir, 'root.keyring.json'),
    feedKeyFile: join(dir, 'feed.key'),
  };
  writeFileSync(keys.keyList, list);
  writeFileSync(`${keys.keyList}.sig`, JSON.stringify({ keyId, signature: signBytes(list, privateKey) }));
  writeFileSync(keys.rootKeyring, JSON.stringify({ keys: [root.key] }));
  writeFileSync(keys.feedKeyFile, feedKey.privateKeyPem);
  return keys;
}

/** A fresh signing key. */
export function testKey(name = 'test pack key'): TestKey {
  return generateSigningKey(name);
}

/** What a test pack holds: indicators and affected apps. */
export interface TestPackContent {
  indicators?: object[];
  apps?: object[];
}

/** A pack archive (what `packs export` writes) signed by `key`. */
export async function packArchiveBytes(
  id: string,
  content: TestPackContent,
  options: { key: TestKey; sequence?: number; now?: Date; expiresInDays?: number },
): Promise<Buffer> {
  const files: Record<string, string> = {};
  if (content.indicators)
    files['indicators.json'] = JSON.stringify({
      schemaVersion: 1,
      sources: {},
      indicators: content.indicators,
    });
  if (content.apps) files['apps.json'] = JSON.stringify({ schemaVersion: 1, apps: content.apps });
  const dir = mkdtempSync(join(tmpdir(), 'chainsweep-hub-pack-'));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ id, title: `test pack ${id}`, references: [] }));
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  await signPack(dir, {
    privateKeyPem: options.key.privateKeyPem,
    keySource: 'test key',
    ...(options.sequence !== undefined ? { sequence: options.sequence } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.expiresInDays ? { expiresInDays: options.expiresInDays } : {}),
  });
  return packArchive(dir, Object.keys(files));
}

/** The IntelSet of a pack archive, verified with its own key. */
export async function intelOf(archive: Buffer, key: TestKey): Promise<IntelSet> {
  return readPackContent(await verifyPackArchive(archive, { keyring: [key.key] }));
}

/** A SHA-256 indicator. */
export function sha256Indicator(id: string, value: string): object {
  return { id, kind: 'sha256', value, title: `sample ${id}`, severity: 'critical', confidence: 'high' };
}

/** An affected-app entry for a Windows product named `name`. */
export function affectedApp(id: string, name: string, affected: string[], fixed: string[] = []): object {
  return {
    id,
    product: name,
    platforms: ['windows'],
    match: { names: [name] },
    affected,
    fixed,
    severity: 'critical',
    title: `${name} is trojanized`,
    references: [],
  };
}

/** A host with stored facts, as ingestion leaves it: the host row, its latest report, apps and files. */
export async function storeHost(
  db: Db,
  orgId: string,
  facts: { name: string; os?: string; apps?: { name: string; version: string }[]; files?: object[] },
): Promise<string> {
  const hostId = randomUUID();
  const reportId = randomUUID();
  const at = new Date().toISOString();
  await db.run(
    `INSERT INTO hosts (id, org_id, claimed_host_id, hostname, hostname_key, os_family, state, base_state, state_since, last_report_at, apps_report_id, files_report_id)
     VALUES (?, ?, ?, ?, ?, ?, 'clean', 'clean', ?, ?, ?, ?)`,
    [hostId, orgId, randomUUID(), facts.name, facts.name, facts.os ?? 'windows', at, at, reportId, reportId],
  );
  await db.run(
    `INSERT INTO reports (id, org_id, report_id, host_id, origin, command, tool_version, hostname, received_at, started_at, finished_at, observed_at, outcome, size_bytes, findings_count, packs, coverage)
     VALUES (?, ?, ?, ?, 'agent', 'scan', '0.1.0', ?, ?, ?, ?, ?, 'complete', 1, 0, '[]', '[]')`,
    [reportId, orgId, randomUUID(), hostId, facts.name, at, at, at, at],
  );
  for (const [position, app] of (facts.apps ?? []).entries()) {
    const fact = { ...app, source: 'windows-uninstall', location: `HKLM\\Uninstall\\${app.name}` };
    await db.run(
      `INSERT INTO host_apps (org_id, host_id, position, name, name_key, version, source, location, app)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        orgId,
        hostId,
        position,
        app.name,
        app.name.toLowerCase(),
        app.version,
        fact.source,
        fact.location,
        JSON.stringify(fact),
      ],
    );
  }
  for (const [position, file] of (facts.files ?? []).entries()) {
    const f = file as { path: string; size?: number; sha256?: string };
    await db.run(
      'INSERT INTO host_files (org_id, host_id, position, path, size, sha256) VALUES (?, ?, ?, ?, ?, ?)',
      [orgId, hostId, position, f.path, f.size ?? null, f.sha256 ?? null],
    );
  }
  return hostId;
}
