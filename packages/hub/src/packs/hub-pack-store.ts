import { createHash } from 'node:crypto';
import type { VerifiedPackContent } from 'chainsweep/packs/verify-pack.js';
import { HttpError } from '../http/http-error.js';
import type { Db } from '../store/db.js';

/** Held by every upload, so two hub processes never both store a sequence of one pack or publish at once. */
export const PACKS_LOCK = 7_231_503;

/** A stored pack as the API lists it (no archive bytes). */
export interface HubPack {
  id: string;
  sequence: number;
  title: string;
  manifestDigest: string;
  keyId: string;
  published: string;
  expires: string;
  archiveSha256: string;
  archiveSize: number;
  uploadedBy: string;
  uploadedAt: string;
}

type PackRow = {
  pack_id: string;
  sequence: number;
  title: string;
  manifest_digest: string;
  key_id: string;
  published: string;
  expires: string;
  archive_sha256: string;
  archive_size: number;
  uploaded_by: string;
  uploaded_at: string;
};

const PACK_COLUMNS =
  'pack_id, sequence, title, manifest_digest, key_id, published, expires, archive_sha256, archive_size, uploaded_by, uploaded_at';

/**
 * Stores a verified pack and its archive, inside the caller's transaction (which holds PACKS_LOCK). A sequence
 * not above the stored one of the same pack id is a rollback: 409, nothing stored.
 */
export async function insertPack(
  tx: Db,
  pack: VerifiedPackContent,
  archive: Buffer,
  upload: { by: string; at: Date },
): Promise<HubPack> {
  const { id, sequence } = pack.manifest;
  const stored = await tx.get<{ sequence: number | null }>(
    'SELECT MAX(sequence) AS sequence FROM hub_packs WHERE pack_id = ?',
    [id],
  );
  if (stored?.sequence != null && sequence <= stored.sequence)
    throw new HttpError(
      409,
      'PACK_ROLLBACK',
      `pack ${id} #${sequence} is not above the stored #${stored.sequence} (rollback refused)`,
    );
  const row: PackRow = {
    pack_id: id,
    sequence,
    title: pack.manifest.title,
    manifest_digest: pack.digest,
    key_id: pack.keyId,
    published: pack.manifest.published,
    expires: pack.manifest.expires,
    archive_sha256: createHash('sha256').update(archive).digest('hex'),
    archive_size: archive.length,
    uploaded_by: upload.by,
    uploaded_at: upload.at.toISOString(),
  };
  await tx.run(
    `INSERT INTO hub_packs (${PACK_COLUMNS}, archive) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [...Object.values(row), archive.toString('base64')],
  );
  return fromRow(row);
}

/** Every stored pack version, newest upload first. */
export async function listPacks(db: Db): Promise<HubPack[]> {
  const rows = await db.all<PackRow>(
    `SELECT ${PACK_COLUMNS} FROM hub_packs ORDER BY pack_id, sequence DESC LIMIT 1000`,
  );
  return rows.map(fromRow);
}

/** The highest sequence of each pack id that has not expired at `now`: what the feed offers. */
export async function feedPacks(db: Db, now: Date): Promise<HubPack[]> {
  const rows = await db.all<PackRow>(
    `SELECT ${PACK_COLUMNS} FROM hub_packs p
     WHERE sequence = (SELECT MAX(sequence) FROM hub_packs q WHERE q.pack_id = p.pack_id) AND expires > ?
     ORDER BY pack_id`,
    [now.toISOString()],
  );
  return rows.map(fromRow);
}

/** One pack version with its archive bytes, or undefined. */
export async function packWithArchive(
  db: Db,
  id: string,
  sequence: number,
): Promise<{ pack: HubPack; archive: Buffer } | undefined> {
  const row = await db.get<PackRow & { archive: string }>(
    `SELECT ${PACK_COLUMNS}, archive FROM hub_packs WHERE pack_id = ? AND sequence = ?`,
    [id, sequence],
  );
  return row ? { pack: fromRow(row), archive: Buffer.from(row.archive, 'base64') } : undefined;
}

/** What a feed index is built from, as a short string: it changes with every upload. */
export async function packsBasis(db: Db): Promise<string> {
  const row = await db.get<{ n: number; last: string | null }>(
    'SELECT COUNT(*) AS n, MAX(uploaded_at) AS last FROM hub_packs',
  );
  return `${row?.n ?? 0}:${row?.last ?? ''}`;
}

function fromRow(row: PackRow): HubPack {
  return {
    id: row.pack_id,
    sequence: Number(row.sequence),
    title: row.title,
    manifestDigest: row.manifest_digest,
    keyId: row.key_id,
    published: row.published,
    expires: row.expires,
    archiveSha256: row.archive_sha256,
    archiveSize: Number(row.archive_size),
    uploadedBy: row.uploaded_by,
    uploadedAt: row.uploaded_at,
  };
}
