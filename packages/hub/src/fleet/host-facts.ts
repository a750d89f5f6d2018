import { createHash } from 'node:crypto';
import type { Report } from 'chainsweep/core/report.js';
import type { Db, SqlValue } from '../store/db.js';
import { canonicalAddress } from './addresses.js';
import { insertRows } from './rows.js';

/** One file a report's `facts.files` lists. */
export interface FileFact {
  path: string;
  size?: number;
  sha256?: string;
  sha1?: string;
  md5?: string;
}

const HEX = { sha256: /^[0-9a-f]{64}$/, sha1: /^[0-9a-f]{40}$/, md5: /^[0-9a-f]{32}$/ } as const;

/**
 * The `facts.files` of a report, when it has that array; entries that are not a file fact are skipped (the
 * report schema checks them once it describes them).
 */
export function fileFactsOf(report: Report): FileFact[] | undefined {
  const files = (report as { facts?: { files?: unknown } }).facts?.files;
  if (!Array.isArray(files)) return undefined;
  const out: FileFact[] = [];
  for (const item of files) {
    if (!item || typeof item !== 'object') continue;
    const f = item as Record<string, unknown>;
    if (typeof f.path !== 'string') continue;
    const fact: FileFact = { path: f.path };
    if (typeof f.size === 'number' && Number.isSafeInteger(f.size) && f.size >= 0) fact.size = f.size;
    for (const algorithm of ['sha256', 'sha1', 'md5'] as const) {
      const digest = typeof f[algorithm] === 'string' ? (f[algorithm] as string).toLowerCase() : undefined;
      if (digest && HEX[algorithm].test(digest)) fact[algorithm] = digest;
    }
    out.push(fact);
  }
  return out;
}

const APP_COLUMNS = [
  'org_id',
  'host_id',
  'position',
  'name',
  'name_key',
  'version',
  'publisher',
  'bundle_id',
  'source',
  'location',
  'app',
  'verdicts',
  'affected',
];

/**
 * Replaces a host's installed apps with a report's inventory, each with the verdicts the report gave it; nothing is
 * written when the rows would be those stored (`storedDigest`); `stored` is false when the host has no app rows.
 */
export async function replaceHostApps(
  tx: Db,
  orgId: string,
  hostId: string,
  report: Report,
  storedDigest: string | null,
  stored: boolean,
): Promise<{ changed: boolean; digest: string }> {
  const verdicts = new Map<number, Report['inventory']['verdicts']>();
  for (const v of report.inventory.verdicts) verdicts.set(v.app, [...(verdicts.get(v.app) ?? []), v]);
  const rows: SqlValue[][] = report.inventory.apps.map((app, position) => {
    const own = verdicts.get(position) ?? [];
    return [
      position,
      app.name,
      app.name.toLowerCase(),
      app.version,
      app.publisher ?? null,
      app.bundleId ?? null,
      app.source,
      app.location,
      JSON.stringify(app),
      JSON.stringify(own),
      own.some((v) => v.verdict === 'affected') ? 1 : 0,
    ];
  });
  const digest = digestOf(rows);
  if (digest === storedDigest) return { changed: false, digest };
  if (stored) await tx.run('DELETE FROM host_apps WHERE host_id = ? AND org_id = ?', [hostId, orgId]);
  await insertRows(
    tx,
    'host_apps',
    APP_COLUMNS,
    rows.map((row) => [orgId, hostId, ...row]),
  );
  return { changed: true, digest };
}

/**
 * Replaces a host's file facts; false (nothing written) when they are the same as those stored; `stored` is false
 * when the host has no file rows.
 */
export async function replaceHostFiles(
  tx: Db,
  orgId: string,
  hostId: string,
  files: readonly FileFact[],
  storedDigest: string | null,
  stored: boolean,
): Promise<{ changed: boolean; digest: string }> {
  const digest = digestOf(files);
  if (digest === storedDigest) return { changed: false, digest };
  if (stored) await tx.run('DELETE FROM host_files WHERE host_id = ? AND org_id = ?', [hostId, orgId]);
  await insertRows(
    tx,
    'host_files',
    ['org_id', 'host_id', 'position', 'path', 'size', 'sha256', 'sha1', 'md5'],
    files.map((f, i) => [
      orgId,
      hostId,
      i,
      f.path,
      f.size ?? null,
      f.sha256 ?? null,
      f.sha1 ?? null,
      f.md5 ?? null,
    ]),
  );
  return { changed: true, digest };
}

/**
 * Replaces a host's addresses (canonical text) with those a report claims; nothing is written when they are those
 * stored (`stored`, the JSON text of the host's `addresses`, `[]` when it has no address rows).
 */
export async function replaceHostAddresses(
  tx: Db,
  orgId: string,
  hostId: string,
  addresses: readonly string[],
  stored: string | null,
): Promise<string> {
  const canonical = [...new Set(addresses.map(canonicalAddress).filter((a): a is string => a !== undefined))];
  const text = JSON.stringify(canonical);
  if (text === stored) return text;
  if (stored !== '[]')
    await tx.run('DELETE FROM host_addresses WHERE host_id = ? AND org_id = ?', [hostId, orgId]);
  await insertRows(
    tx,
    'host_addresses',
    ['org_id', 'host_id', 'address'],
    canonical.map((a) => [orgId, hostId, a]),
  );
  return text;
}

function digestOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}
