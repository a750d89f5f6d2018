import { createHash } from 'node:crypto';
import { type FeedIndex, FeedIndexSchema } from 'chainsweep/packs/feed.js';
import { signBytes } from 'chainsweep/packs/keys.js';
import type { Db } from '../store/db.js';
import { feedPacks, PACKS_LOCK, packsBasis } from './hub-pack-store.js';
import type { PackSettings } from './pack-settings.js';

/** One signed feed index, exactly the bytes `latest.json` and `latest.json.sig` serve. */
export interface FeedPublication {
  sequence: number;
  keyId: string;
  index: Buffer;
  signature: Buffer;
  /** A strong validator of the index bytes. */
  etag: string;
}

type PublicationRow = {
  sequence: number;
  key_id: string;
  basis: string;
  renew_at: string;
  index_json: string;
  signature: string;
};

/** The path of a pack version's archive in the feed, relative to `latest.json` (as `packs publish` names it). */
export function archivePath(id: string, sequence: number): string {
  return `packs/${id}-${sequence}.tar.gz`;
}

/**
 * The feed index to serve now: the last one published, unless it is signed by another key than the hub's,
 * is past its renewal time (half its life, or a listed pack's expiry) or predates an upload; then a new one is
 * signed and stored, by one hub process at a time. Every process serves the same bytes.
 */
export async function currentPublication(
  db: Db,
  settings: PackSettings & { feedKey: NonNullable<PackSettings['feedKey']> },
  now: Date,
): Promise<FeedPublication> {
  const usable = async (on: Db) => {
    const row = await latestRow(on);
    if (
      row &&
      row.key_id === settings.feedKey.keyId &&
      new Date(row.renew_at) > now &&
      row.basis === (await packsBasis(on))
    )
      return fromRow(row);
    return undefined;
  };
  return (
    (await usable(db)) ??
    db.transaction(async (tx) => (await usable(tx)) ?? publishFromStore(tx, settings, now), {
      lock: PACKS_LOCK,
    })
  );
}

/**
 * Signs and stores a new feed index listing the newest unexpired sequence of every stored pack, inside the
 * caller's transaction (holding PACKS_LOCK). Its sequence grows with every publication and is never below the
 * Unix time in seconds, so a hub whose database was rebuilt still publishes above what agents have seen.
 */
export async function publishFromStore(
  tx: Db,
  settings: PackSettings & { feedKey: NonNullable<PackSettings['feedKey']> },
  now: Date,
): Promise<FeedPublication> {
  const previous = await latestRow(tx);
  const sequence = Math.max((previous ? Number(previous.sequence) : 0) + 1, Math.floor(now.getTime() / 1000));
  const packs = await feedPacks(tx, now);
  const lifeMs = settings.feedExpiresDays * 86_400_000;
  const expires = new Date(now.getTime() + lifeMs);
  const renewAt = new Date(
    Math.min(now.getTime() + lifeMs / 2, ...packs.map((p) => new Date(p.expires).getTime())),
  );
  const index: FeedIndex = FeedIndexSchema.parse({
    schemaVersion: 1,
    feed: settings.feedName,
    sequence,
    published: now.toISOString(),
    expires: expires.toISOString(),
    packs: packs.map((p) => ({
      id: p.id,
      title: p.title,
      sequence: p.sequence,
      archive: archivePath(p.id, p.sequence),
      sha256: p.archiveSha256,
      size: p.archiveSize,
    })),
  });
  const bytes = Buffer.from(`${JSON.stringify(index, null, 2)}\n`);
  const signature = Buffer.from(
    `${JSON.stringify({ keyId: settings.feedKey.keyId, signature: signBytes(bytes, settings.feedKey.privateKey) })}\n`,
  );
  const row: PublicationRow = {
    sequence,
    key_id: settings.feedKey.keyId,
    basis: await packsBasis(tx),
    renew_at: renewAt.toISOString(),
    index_json: bytes.toString('utf8'),
    signature: signature.toString('utf8'),
  };
  await tx.run(
    `INSERT INTO feed_publications (sequence, key_id, basis, published_at, expires_at, renew_at, index_json, signature)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      sequence,
      row.key_id,
      row.basis,
      now.toISOString(),
      expires.toISOString(),
      row.renew_at,
      row.index_json,
      row.signature,
    ],
  );
  return fromRow(row);
}

/** A strong ETag of some bytes. */
export function etagOf(bytes: Uint8Array): string {
  return `"${createHash('sha256').update(bytes).digest('hex').slice(0, 40)}"`;
}

async function latestRow(db: Db): Promise<PublicationRow | undefined> {
  return db.get<PublicationRow>(
    'SELECT sequence, key_id, basis, renew_at, index_json, signature FROM feed_publications ORDER BY sequence DESC LIMIT 1',
  );
}

function fromRow(row: PublicationRow): FeedPublication {
  const index = Buffer.from(row.index_json, 'utf8');
  return {
    sequence: Number(row.sequence),
    keyId: row.key_id,
    index,
    signature: Buffer.from(row.signature, 'utf8'),
    etag: etagOf(index),
  };
}
