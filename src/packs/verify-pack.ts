import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, UserError } from '../core/errors.js';
import { MAX_PACK_BYTES, MAX_PACK_FILES, readArchive } from './archive.js';
import type { TrustedKey } from './keys.js';
import { MANIFEST_FILE, type PackManifest, PackManifestSchema, SIGNATURE_FILE } from './manifest.js';
import { refuseIncludes } from './pack-content.js';
import { MAX_SIGNATURE_BYTES, verifySignedJson } from './signed-json.js';

/** The largest manifest read: 10,000 files of long paths fit in 4 MiB. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** A pack's signature, file sizes and digests, all checked; wherever it came from, only these bytes are used. */
export interface VerifiedPackContent {
  manifest: PackManifest;
  keyId: string;
  /** SHA-256 of the exact manifest bytes: the pack's identity in reports. */
  digest: string;
  /** True when the pack is past its expiry date. */
  stale: boolean;
  /** Every file the manifest lists, by path (manifest and signature not included). */
  files: ReadonlyMap<string, Buffer>;
}

/** A verified pack read from a folder. */
export interface VerifiedPack extends VerifiedPackContent {
  dir: string;
}

export interface VerifyOptions {
  keyring: readonly TrustedKey[];
  now?: Date;
  /** Refuse an expired pack instead of warning. */
  requireFresh?: boolean;
}

/** Where a pack's files come from: a folder or bytes in memory. */
interface PackSource {
  /** How the pack is named in messages: `pack DIR`, the archive's name. */
  label: string;
  /** The size of a file, or undefined when it is absent; nothing is read. */
  size(path: string): Promise<number | undefined>;
  read(path: string): Promise<Buffer>;
}

/** Reads and verifies the pack in `dir`; throws a one-line UserError naming the pack and the file at fault. */
export async function verifyPack(dir: string, options: VerifyOptions): Promise<VerifiedPack> {
  const label = `pack ${dir}`;
  const fail = (path: string, error: unknown): never => {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(
      path === MANIFEST_FILE ? 'PACK_INVALID' : 'PACK_TAMPERED',
      `${label}: file ${path} cannot be read (${code ?? errorMessage(error)})`,
    );
  };
  const pack = await verifyFrom(
    {
      label,
      async size(path) {
        try {
          const info = await stat(join(dir, path));
          if (!info.isFile())
            throw new UserError('PACK_TAMPERED', `${label}: file ${path} is not a regular file`);
          return info.size;
        } catch (error) {
          if (error instanceof UserError) throw error;
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
          return fail(path, error);
        }
      },
      read: (path) => readFile(join(dir, path)).catch((error: unknown) => fail(path, error)),
    },
    options,
  );
  return { ...pack, dir };
}

/**
 * Verifies a pack given as files (path -> bytes, `manifest.json` and `manifest.sig` included), in memory. Unlike
 * a folder, the files must be exactly the manifest's: one it does not list is refused.
 */
export function verifyPackFiles(
  files: ReadonlyMap<string, Uint8Array>,
  options: VerifyOptions & { source?: string },
): Promise<VerifiedPackContent> {
  const label = options.source ?? 'pack';
  return verifyFrom(
    {
      label,
      size: async (path) => files.get(path)?.length,
      async read(path) {
        const bytes = files.get(path);
        if (!bytes) throw new UserError('PACK_TAMPERED', `${label}: file ${path} is missing`);
        return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
      },
    },
    options,
    (manifest) => {
      const listed = new Set([MANIFEST_FILE, SIGNATURE_FILE, ...manifest.files.map((f) => f.path)]);
      const extra = [...files.keys()].find((path) => !listed.has(path));
      if (extra !== undefined)
        throw new UserError(
          'PACK_TAMPERED',
          `pack ${manifest.id}: ${label} holds ${JSON.stringify(extra)}, which the signed manifest does not list`,
        );
    },
  );
}

/**
 * Verifies a pack archive (the gzipped tar `packs export` and feeds write) entirely in memory: no file system,
 * no environment. Bounded: MAX_ARCHIVE_BYTES in, MAX_PACK_FILES files, MAX_PACK_BYTES inflated; unsafe paths,
 * links, files missing from the archive and files the manifest does not list are refused.
 */
export async function verifyPackArchive(
  bytes: Uint8Array,
  options: VerifyOptions & { source?: string },
): Promise<VerifiedPackContent> {
  const source = options.source ?? 'pack archive';
  const entries = await readArchive(bytes, source, MAX_PACK_BYTES);
  return verifyPackFiles(new Map(entries.map((e) => [e.path, e.bytes])), { ...options, source });
}

/** The one check of a pack, whatever holds its files: signature and key, listing, every size and digest, rules. */
async function verifyFrom(
  source: PackSource,
  options: VerifyOptions,
  checkListing?: (manifest: PackManifest) => void,
): Promise<VerifiedPackContent> {
  const now = options.now ?? new Date();
  const manifestBytes = await readBounded(source, MANIFEST_FILE, MAX_MANIFEST_BYTES, 'PACK_INVALID');
  const signatureBytes = await readBounded(source, SIGNATURE_FILE, MAX_SIGNATURE_BYTES, 'PACK_SIGNATURE');
  const { value: manifest, key } = verifySignedJson(manifestBytes, signatureBytes, {
    keyring: options.keyring,
    now,
    schema: PackManifestSchema,
    what: `${source.label}: ${MANIFEST_FILE}`,
    signatureWhat: `${source.label}: ${SIGNATURE_FILE}`,
  });
  refuseUnsafeListing(manifest);
  checkListing?.(manifest);

  const files = new Map<string, Buffer>();
  for (const entry of manifest.files) {
    const size = await source.size(entry.path);
    if (size === undefined)
      throw new UserError('PACK_TAMPERED', `pack ${manifest.id}: file ${entry.path} is missing`);
    // Sizes are compared before reading, and again after: a file that grows in between is still caught.
    const bytes = size === entry.size ? await source.read(entry.path) : undefined;
    if (bytes?.length !== entry.size) {
      throw new UserError(
        'PACK_TAMPERED',
        `pack ${manifest.id}: file ${entry.path} is ${bytes?.length ?? size} bytes, manifest says ${entry.size} (tampered)`,
      );
    }
    if (createHash('sha256').update(bytes).digest('hex') !== entry.sha256) {
      throw new UserError(
        'PACK_TAMPERED',
        `pack ${manifest.id}: file ${entry.path} does not match its SHA-256 (tampered)`,
      );
    }
    files.set(entry.path, bytes);
  }
  refuseIncludes(manifest.id, files);

  const stale = new Date(manifest.expires) < now;
  if (stale && options.requireFresh) {
    throw new UserError('PACK_EXPIRED', `pack ${manifest.id}: expired on ${manifest.expires}`);
  }
  return {
    manifest,
    keyId: key.keyId,
    digest: createHash('sha256').update(manifestBytes).digest('hex'),
    stale,
    files,
  };
}

/** A manifest or signature file, refused unread when absent or over `max` bytes. */
async function readBounded(
  source: PackSource,
  path: string,
  max: number,
  code: 'PACK_INVALID' | 'PACK_SIGNATURE',
): Promise<Buffer> {
  const size = await source.size(path);
  if (size === undefined) throw new UserError(code, `${source.label}: file ${path} is missing`);
  if (size > max)
    throw new UserError(code, `${source.label}: file ${path} is ${size} bytes, over the ${max}-byte limit`);
  return source.read(path);
}

/**
 * Refuses a listing no store could hold: too many files or bytes, a path listed twice (also in another letter
 * case or Unicode normalisation, which is one file on Windows and macOS), or a path that is both a file and a
 * folder.
 */
function refuseUnsafeListing(manifest: PackManifest): void {
  const refuse = (why: string): never => {
    throw new UserError('PACK_INVALID', `pack ${manifest.id}: ${MANIFEST_FILE}: ${why}`);
  };
  if (manifest.files.length > MAX_PACK_FILES)
    refuse(`lists ${manifest.files.length} files, over the limit of ${MAX_PACK_FILES}`);
  const total = manifest.files.reduce((sum, f) => sum + f.size, 0);
  if (total > MAX_PACK_BYTES)
    refuse(`its files add up to ${total} bytes, over the ${MAX_PACK_BYTES}-byte limit`);
  const seen = new Set<string>();
  for (const { path } of manifest.files) {
    const folded = foldPath(path);
    if (folded === MANIFEST_FILE || folded === SIGNATURE_FILE)
      refuse(`lists ${JSON.stringify(path)}, which is the pack's own signed manifest or signature`);
    if (seen.has(folded)) refuse(`lists ${JSON.stringify(path)} twice`);
    seen.add(folded);
  }
  for (const { path } of manifest.files) {
    const parts = foldPath(path).split('/');
    for (let i = 1; i < parts.length; i++)
      if (seen.has(parts.slice(0, i).join('/')))
        refuse(
          `lists ${JSON.stringify(parts.slice(0, i).join('/'))} as a file and as a folder of ${JSON.stringify(path)}`,
        );
  }
}

/** A path as a case-insensitive, normalising file system sees it. */
function foldPath(path: string): string {
  return path.normalize('NFC').toLowerCase();
}
