import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { MAX_ARCHIVE_BYTES, readArchive, writeArchive } from './archive.js';
import { fetchBytes } from './http-fetch.js';
import { applyKeyList, type KeyList, verifyKeyList } from './key-list.js';
import { loadPrivateKey, signBytes, type TrustedKey } from './keys.js';
import type { PackStore } from './pack-store.js';
import { MAX_SIGNATURE_BYTES, verifySignedJson } from './signed-json.js';
import { parseJson } from './user-files.js';
import { verifyPack } from './verify-pack.js';

/** `latest.json`: the packs a feed offers now. Signed like a manifest; short-lived, so a frozen feed shows. */
export const FeedIndexSchema = z.object({
  schemaVersion: z.literal(1),
  feed: z.string().min(1),
  /** Grows with every publication; a lower one is a replayed index. */
  sequence: z.number().int().nonnegative(),
  published: z.string().datetime({ offset: true }),
  expires: z.string().datetime({ offset: true }),
  packs: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      sequence: z.number().int().nonnegative(),
      /** The pack archive, relative to the index. */
      archive: z
        .string()
        .regex(/^[A-Za-z0-9._/-]+$/)
        .refine((p) => !p.split('/').includes('..'), 'must stay inside the feed'),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      size: z.number().int().positive(),
    }),
  ),
});
export type FeedIndex = z.infer<typeof FeedIndexSchema>;

/** Limits on what a feed may send. */
const MAX_INDEX = 1024 * 1024;
const MAX_ARCHIVE = MAX_ARCHIVE_BYTES;

/** The pack's files as an archive (what `packs export` writes and feeds serve). */
export function packArchive(dir: string, files: readonly string[]): Buffer {
  return writeArchive(
    ['manifest.json', 'manifest.sig', ...files].map((path) => ({
      path,
      bytes: readFileSync(join(dir, path)),
    })),
  );
}

/**
 * Writes a static feed: each pack as `packs/<id>-<sequence>.tar.gz`, a signed `latest.json` listing them with
 * digests, and `feed.atom` whose entries link the archives as enclosures. The packs must verify first.
 */
export async function publishFeed(options: {
  packDirs: string[];
  keyring: readonly TrustedKey[];
  privateKeyPem: string;
  keySource: string;
  outDir: string;
  baseUrl: string;
  name: string;
  sequence: number;
  expiresInDays: number;
  now?: Date;
}): Promise<FeedIndex> {
  const now = options.now ?? new Date();
  const { privateKey, keyId } = loadPrivateKey(options.privateKeyPem, options.keySource);
  mkdirSync(join(options.outDir, 'packs'), { recursive: true });
  const packs: FeedIndex['packs'] = [];
  for (const dir of options.packDirs) {
    const pack = await verifyPack(dir, { keyring: options.keyring, requireFresh: true, now });
    const archive = packArchive(
      dir,
      pack.manifest.files.map((f) => f.path),
    );
    const name = `packs/${pack.manifest.id}-${pack.manifest.sequence}.tar.gz`;
    writeFileSync(join(options.outDir, name), archive);
    packs.push({
      id: pack.manifest.id,
      title: pack.manifest.title,
      sequence: pack.manifest.sequence,
      archive: name,
      sha256: sha256(archive),
      size: archive.length,
    });
  }
  const index: FeedIndex = {
    schemaVersion: 1,
    feed: options.name,
    sequence: options.sequence,
    published: now.toISOString(),
    expires: new Date(now.getTime() + options.expiresInDays * 86_400_000).toISOString(),
    packs,
  };
  const bytes = Buffer.from(`${JSON.stringify(index, null, 2)}\n`);
  writeFileSync(join(options.outDir, 'latest.json'), bytes);
  writeFileSync(
    join(options.outDir, 'latest.json.sig'),
    `${JSON.stringify({ keyId, signature: signBytes(bytes, privateKey) })}\n`,
  );
  writeFileSync(join(options.outDir, 'feed.atom'), atomFeed(index, options.baseUrl));
  return index;
}

/** An Atom 1.0 feed (RFC 4287) with one entry per pack version, its archive as the enclosure. */
function atomFeed(index: FeedIndex, baseUrl: string): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const esc = (s: string) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const entries = index.packs.map(
    (p) => `  <entry>
    <id>urn:chainsweep:pack:${esc(p.id)}:${p.sequence}</id>
    <title>${esc(p.title)} (#${p.sequence})</title>
    <updated>${index.published}</updated>
    <link rel="enclosure" type="application/gzip" length="${p.size}" href="${esc(new URL(p.archive, base).href)}"/>
    <summary>Signature pack ${esc(p.id)}, sequence ${p.sequence}, SHA-256 ${p.sha256}</summary>
  </entry>`,
  );
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>urn:chainsweep:feed:${esc(index.feed)}</id>
  <title>${esc(index.feed)} signature packs</title>
  <updated>${index.published}</updated>
  <link rel="self" type="application/atom+xml" href="${esc(new URL('feed.atom', base).href)}"/>
  <link rel="alternate" type="application/json" href="${esc(new URL('latest.json', base).href)}"/>
${entries.join('\n')}
</feed>
`;
}

/** What one update did for each pack the feed offers. */
export interface UpdateOutcome {
  id: string;
  result: 'installed' | 'up-to-date' | 'refused';
  sequence: number;
  message: string;
}

/** Per feed URL: the HTTP validators of the last index taken whole. */
const UrlStateSchema = z.object({
  etag: z.string().optional(),
  lastModified: z.string().optional(),
});
/** Per feed identity (its trust anchor and signed name, whatever URL served it): the highest index seen. */
const FeedSeenSchema = z.object({ identity: z.string(), indexSequence: z.number().int() });

export interface UpdateOptions {
  store: PackStore;
  keyring: readonly TrustedKey[];
  roots: readonly TrustedKey[];
  allowStale: boolean;
  now?: Date;
  timeoutMs?: number;
  /** Remember keys outside `trusted` that signed installed packs (see PackStore.install). */
  recordTrust?: { trusted: readonly TrustedKey[]; source: string };
}

/**
 * Fetches a feed and installs what is newer. Every pack is checked on its own (the signed index's digest and size
 * for the archive, then the pack's own signature, digests, sequence and expiry) and installed atomically; a
 * refused pack leaves the installed one untouched and the others still install. A replayed (older) index, an
 * expired index (unless `allowStale`) or a bad signature stops the update before anything is fetched. Replay is
 * judged per feed identity, the root (or key) that signs it and its signed name, so another URL for the same
 * feed (a mirror, `localhost` for `127.0.0.1`) cannot serve an older index. The whole update holds the store lock.
 */
export function updateFromFeed(
  feedUrl: string,
  options: UpdateOptions,
): Promise<{ outcomes: UpdateOutcome[]; warnings: string[]; notModified: boolean }> {
  return options.store.withLock(() => updateLocked(feedUrl, options));
}

async function updateLocked(
  feedUrl: string,
  options: UpdateOptions,
): Promise<{ outcomes: UpdateOutcome[]; warnings: string[]; notModified: boolean }> {
  const now = options.now ?? new Date();
  const base = feedUrl.endsWith('/') ? feedUrl : `${feedUrl}/`;
  const limits = {
    timeoutMs: options.timeoutMs ?? 15_000,
    deadlineMs: Math.max(30_000, (options.timeoutMs ?? 15_000) * 4),
  };
  const warnings: string[] = [];
  const stateFile = join(options.store.dir, '.feeds', `${sha256(Buffer.from(base)).slice(0, 32)}.json`);
  const state = readState(stateFile, UrlStateSchema) ?? {};

  const signed = await fetchKeyList(base, options.store, options.roots, now, limits);
  const keyring = applyKeyList(options.keyring, signed?.list);

  const conditional: Record<string, string> = {};
  if (state.etag) conditional['if-none-match'] = state.etag;
  if (state.lastModified) conditional['if-modified-since'] = state.lastModified;
  const indexResponse = await fetchBytes(new URL('latest.json', base).href, {
    ...limits,
    maxBytes: MAX_INDEX,
    headers: conditional,
  });
  if (indexResponse.status === 304) return { outcomes: [], warnings, notModified: true };
  if (indexResponse.status !== 200)
    throw new UserError('FEED_INVALID', `${base}latest.json: HTTP ${indexResponse.status}`);
  const sigResponse = await fetchBytes(new URL('latest.json.sig', base).href, {
    ...limits,
    maxBytes: MAX_SIGNATURE_BYTES,
  });
  if (sigResponse.status !== 200)
    throw new UserError('FEED_INVALID', `${base}latest.json.sig: HTTP ${sigResponse.status}`);
  const { value: index, key } = verifySignedJson(indexResponse.body, sigResponse.body, {
    keyring,
    now,
    schema: FeedIndexSchema,
    what: `${base}latest.json`,
    trustedAs: 'a trusted key (or it was revoked by the key list)',
    invalidCode: 'FEED_INVALID',
  });
  const anchor = signed?.list.keys.some((k) => k.keyId === key.keyId)
    ? `root:${signed.root}`
    : `key:${key.keyId}`;
  const identity = `${anchor} feed:${index.feed}`;
  const seenFile = join(
    options.store.dir,
    '.feeds',
    `feed-${sha256(Buffer.from(identity)).slice(0, 32)}.json`,
  );
  const seen = readState(seenFile, FeedSeenSchema)?.indexSequence ?? -1;
  if (index.sequence < seen) {
    throw new UserError(
      'PACK_ROLLBACK',
      `${base}latest.json: index sequence ${index.sequence} is older than the ${seen} already seen for feed ${JSON.stringify(index.feed)} (replayed index refused)`,
    );
  }
  if (new Date(index.expires) < now) {
    if (!options.allowStale)
      throw new UserError(
        'PACK_EXPIRED',
        `${base}latest.json expired on ${index.expires} (the feed may be frozen; --allow-stale to use it anyway)`,
      );
    warnings.push(`${base}latest.json expired on ${index.expires}; used because of --allow-stale`);
  }

  const outcomes: UpdateOutcome[] = [];
  for (const entry of index.packs) {
    const installed = options.store.currentSequence(entry.id);
    if (installed !== undefined && entry.sequence <= installed) {
      outcomes.push({
        id: entry.id,
        result: 'up-to-date',
        sequence: installed,
        message: `installed #${installed}, feed offers #${entry.sequence}`,
      });
      continue;
    }
    try {
      const archive = await fetchBytes(new URL(entry.archive, base).href, {
        ...limits,
        maxBytes: Math.min(MAX_ARCHIVE, entry.size),
      });
      if (archive.status !== 200)
        throw new UserError('FEED_INVALID', `${entry.archive}: HTTP ${archive.status}`);
      if (archive.body.length !== entry.size || sha256(archive.body) !== entry.sha256) {
        throw new UserError(
          'PACK_TAMPERED',
          `${entry.archive} does not match the size and SHA-256 the signed index gives`,
        );
      }
      const files = new Map((await readArchive(archive.body, entry.archive)).map((e) => [e.path, e.bytes]));
      const pack = await options.store.install(files, {
        keyring: (id) => options.store.keyringFor(id, keyring, signed?.list),
        allowStale: options.allowStale,
        now,
        source: entry.archive,
        ...(options.recordTrust ? { recordTrust: options.recordTrust } : {}),
      });
      if (pack.newlyTrusted)
        warnings.push(
          `trusting key ${pack.newlyTrusted.keyId.slice(0, 16)}… (${pack.newlyTrusted.name}) for pack ${pack.manifest.id} from now on (${options.recordTrust?.source})`,
        );
      if (pack.manifest.id !== entry.id || pack.manifest.sequence !== entry.sequence) {
        warnings.push(
          `${entry.archive}: holds ${pack.manifest.id} #${pack.manifest.sequence}, the index said ${entry.id} #${entry.sequence}`,
        );
      }
      outcomes.push({
        id: entry.id,
        result: 'installed',
        sequence: pack.manifest.sequence,
        message: `installed #${pack.manifest.sequence}${installed !== undefined ? ` (was #${installed})` : ''}`,
      });
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      outcomes.push({ id: entry.id, result: 'refused', sequence: entry.sequence, message: error.message });
    }
  }
  mkdirSync(join(options.store.dir, '.feeds'), { recursive: true });
  const etag = indexResponse.headers.etag;
  const lastModified = indexResponse.headers['last-modified'];
  // Remember the index's validators only when everything in it was taken, so a refused pack is tried again.
  const complete = outcomes.every((o) => o.result !== 'refused');
  writeFileSync(seenFile, JSON.stringify({ identity, indexSequence: Math.max(seen, index.sequence) }));
  writeFileSync(
    stateFile,
    JSON.stringify({
      ...(complete && etag ? { etag } : {}),
      ...(complete && lastModified ? { lastModified } : {}),
    }),
  );
  return { outcomes, warnings, notModified: false };
}

/** A small state file of the store, or undefined when absent; a damaged one is a one-line error. */
function readState<T>(path: string, schema: z.ZodType<T>): T | undefined {
  if (!existsSync(path)) return undefined;
  const parsed = schema.safeParse(parseJson(readFileSync(path), path));
  if (!parsed.success)
    throw new UserError(
      'PACK_INVALID',
      `${path}: ${parsed.error.issues[0]?.message} (remove it to start over)`,
    );
  return parsed.data;
}

/**
 * The feed's key list, and the root that signed it, when it has one that verifies and is not older than the
 * stored one (which it replaces).
 */
async function fetchKeyList(
  base: string,
  store: PackStore,
  roots: readonly TrustedKey[],
  now: Date,
  limits: { timeoutMs: number; deadlineMs: number },
): Promise<{ list: KeyList; root: string } | undefined> {
  const stored = readStoredKeyList(store, roots, now);
  const list = await fetchBytes(new URL('keys.json', base).href, { ...limits, maxBytes: MAX_INDEX });
  if (list.status === 404) return stored ? { list: stored.list, root: stored.root.keyId } : undefined;
  const sig = await fetchBytes(new URL('keys.json.sig', base).href, {
    ...limits,
    maxBytes: MAX_SIGNATURE_BYTES,
  });
  if (list.status !== 200 || sig.status !== 200)
    throw new UserError('FEED_INVALID', `${base}keys.json: HTTP ${list.status}/${sig.status}`);
  const fresh = verifyKeyList(list.body, sig.body, roots, now);
  if (stored && fresh.list.version < stored.list.version) {
    throw new UserError(
      'PACK_ROLLBACK',
      `${base}keys.json version ${fresh.list.version} is older than the stored ${stored.list.version} (rollback refused)`,
    );
  }
  mkdirSync(store.dir, { recursive: true });
  writeFileSync(join(store.dir, 'keys.json'), list.body);
  writeFileSync(join(store.dir, 'keys.json.sig'), sig.body);
  return { list: fresh.list, root: fresh.root.keyId };
}

/** The key list kept in the store from an earlier update, if it still verifies. */
export function storedKeyList(
  store: PackStore,
  roots: readonly TrustedKey[],
  now = new Date(),
): KeyList | undefined {
  return readStoredKeyList(store, roots, now)?.list;
}

/**
 * The stored key list and the root that signed it, when it verifies under `roots`. One that does not is ignored,
 * never removed: a reader with other roots (the agent's own) may still trust it, and the next update replaces it.
 */
function readStoredKeyList(
  store: PackStore,
  roots: readonly TrustedKey[],
  now: Date,
): { list: KeyList; root: TrustedKey } | undefined {
  const path = join(store.dir, 'keys.json');
  if (!existsSync(path) || !existsSync(`${path}.sig`)) return undefined;
  try {
    return verifyKeyList(readFileSync(path), readFileSync(`${path}.sig`), roots, now);
  } catch {
    return undefined;
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
