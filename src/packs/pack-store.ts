import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { applyKeyList, type KeyList } from './key-list.js';
import type { TrustedKey } from './keys.js';
import { MANIFEST_FILE, SIGNATURE_FILE } from './manifest.js';
import { stateDir } from './state-dir.js';
import { acquireLock, releaseLock } from './store-lock.js';
import { parseJson } from './user-files.js';
import { type VerifiedPack, verifyPackFiles } from './verify-pack.js';

const CurrentSchema = z.object({
  sequence: z.number().int().nonnegative(),
  installedAt: z.string(),
  previous: z.number().int().optional(),
});

/** `trusted-keys.json`: keys a user trusted for given packs when importing them, and how. */
const TrustFileSchema = z.object({
  schemaVersion: z.literal(1),
  keys: z.array(
    z.object({
      keyId: z.string().regex(/^[0-9a-f]{64}$/),
      publicKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
      name: z.string().min(1),
      notBefore: z.string().datetime({ offset: true }).optional(),
      notAfter: z.string().datetime({ offset: true }).optional(),
      /** The one pack this key may sign here. */
      pack: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
      trustedAt: z.string(),
      /** The command and keyring file that gave the trust. */
      source: z.string(),
    }),
  ),
});
type TrustEntry = z.infer<typeof TrustFileSchema>['keys'][number];

const PACK_ID = /^[a-z0-9][a-z0-9.-]*$/;
const LOCK_FILE = '.lock';
const TRUST_FILE = 'trusted-keys.json';

/** The installed-packs folder: $CHAINSWEEP_HOME/packs by default. */
export function defaultPackStoreDir(): string {
  return join(stateDir(), 'packs');
}

/** How to check a pack being installed, and whether to remember the key that signed it. */
export interface InstallOptions {
  /** The keys that may sign the pack with this id (before the store's own trust for it is added). */
  keyring: (id: string) => readonly TrustedKey[];
  allowStale?: boolean;
  now?: Date;
  source: string;
  /**
   * Remember the signing key for this pack when it is not among `trusted` (it came from a `--keyring` the user
   * gave for this command), with `source` as the provenance: later commands then verify the pack without it.
   */
  recordTrust?: { trusted: readonly TrustedKey[]; source: string };
}

/**
 * Installed packs: `<id>/<sequence>/` holds each version, `<id>/current.json` names the one in use. Installing
 * writes and verifies the new version beside the old, then switches current.json with one rename, so a crash
 * at any point leaves the previous version in use. The previous version is kept; older ones are removed.
 * Changes hold the store's lock file, so two processes installing into one store take turns.
 */
export class PackStore {
  private held = 0;

  constructor(
    readonly dir: string,
    private readonly lockTimeoutMs = 10 * 60_000,
  ) {}

  /** The folder of every installed pack's current version. */
  currentDirs(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && PACK_ID.test(e.name))
      .flatMap((e) => {
        const sequence = this.currentSequence(e.name);
        return sequence === undefined ? [] : [join(this.dir, e.name, String(sequence))];
      });
  }

  /** The installed sequence of a pack, or undefined; a damaged current.json is a one-line error, never ignored. */
  currentSequence(id: string): number | undefined {
    const path = join(this.dir, id, 'current.json');
    if (!existsSync(path)) return undefined;
    const parsed = CurrentSchema.safeParse(parseJson(readFileSync(path), path));
    if (!parsed.success)
      throw new UserError(
        'PACK_INVALID',
        `${path}: ${parsed.error.issues[0]?.path.join('.') || 'file'}: ${parsed.error.issues[0]?.message} (the store is damaged; remove ${join(this.dir, id)} and install the pack again)`,
      );
    return parsed.data.sequence;
  }

  /** The keys the user trusted for pack `id` when importing it. */
  trustedKeysFor(id: string): TrustedKey[] {
    return this.trustEntries()
      .filter((e) => e.pack === id)
      .map(({ keyId, publicKey, name, notBefore, notAfter }) => ({
        keyId,
        publicKey,
        name,
        ...(notBefore ? { notBefore } : {}),
        ...(notAfter ? { notAfter } : {}),
      }));
  }

  /** The keys that may sign installed pack `id`: `base` plus the store's trust for it, less what `list` revokes. */
  keyringFor(id: string, base: readonly TrustedKey[], list: KeyList | undefined): TrustedKey[] {
    return applyKeyList([...base, ...this.trustedKeysFor(id)], list);
  }

  /** Runs `fn` holding the store's lock (re-entrant within one process). */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    if (this.held > 0) {
      this.held++;
      try {
        return await fn();
      } finally {
        this.held--;
      }
    }
    mkdirSync(this.dir, { recursive: true });
    const lock = join(this.dir, LOCK_FILE);
    await acquireLock(lock, this.lockTimeoutMs);
    this.held = 1;
    try {
      return await fn();
    } finally {
      this.held = 0;
      releaseLock(lock);
    }
  }

  /**
   * Installs a pack from its files (path -> bytes, manifest and signature included) after checking them with the
   * keyring: signature, every digest and size, freshness, and a sequence above the installed one.
   */
  install(
    files: ReadonlyMap<string, Buffer>,
    options: InstallOptions,
  ): Promise<VerifiedPack & { newlyTrusted?: TrustedKey }> {
    return this.withLock(() => this.installLocked(files, options));
  }

  private async installLocked(
    files: ReadonlyMap<string, Buffer>,
    options: InstallOptions,
  ): Promise<VerifiedPack & { newlyTrusted?: TrustedKey }> {
    const manifest = files.get(MANIFEST_FILE);
    if (!manifest) throw new UserError('PACK_INVALID', `${options.source}: no ${MANIFEST_FILE}`);
    const id = (parseJson(manifest, `${options.source}: ${MANIFEST_FILE}`) as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || !PACK_ID.test(id))
      throw new UserError('PACK_INVALID', `${options.source}: manifest has no valid id`);
    const installed = this.currentSequence(id);
    // Checked in memory first: a refused pack writes nothing, not even its folder.
    const keyring = [...options.keyring(id), ...this.trustedKeysFor(id)];
    const verified = await verifyPackFiles(files, {
      keyring,
      requireFresh: !options.allowStale,
      source: options.source,
      ...(options.now ? { now: options.now } : {}),
    });
    if (verified.manifest.id !== id)
      throw new UserError('PACK_INVALID', `${options.source}: manifest id changed while reading`);
    if (installed !== undefined && verified.manifest.sequence <= installed) {
      throw new UserError(
        'PACK_ROLLBACK',
        `pack ${id}: sequence ${verified.manifest.sequence} is not newer than the installed ${installed} (rollback refused)`,
      );
    }
    const packDir = join(this.dir, id);
    mkdirSync(packDir, { recursive: true });
    // Only a process that died while holding the lock leaves staging folders behind.
    for (const leftover of readdirSync(packDir).filter((n) => n.startsWith('.incoming-')))
      rmSync(join(packDir, leftover), { recursive: true, force: true });

    const incoming = join(packDir, `.incoming-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      for (const path of [MANIFEST_FILE, SIGNATURE_FILE])
        writeDurably(join(incoming, path), files.get(path) as Buffer);
      for (const [path, bytes] of verified.files) writeDurably(join(incoming, path), bytes);
      const newlyTrusted = this.maybeTrust(id, verified.keyId, keyring, options.recordTrust);
      const target = join(packDir, String(verified.manifest.sequence));
      rmSync(target, { recursive: true, force: true });
      renameSync(incoming, target);
      writeDurably(
        join(packDir, 'current.json'),
        Buffer.from(
          JSON.stringify({
            sequence: verified.manifest.sequence,
            installedAt: new Date().toISOString(),
            ...(installed !== undefined ? { previous: installed } : {}),
          }),
        ),
      );
      for (const name of readdirSync(packDir)) {
        if (/^\d+$/.test(name) && Number(name) !== verified.manifest.sequence && Number(name) !== installed)
          rmSync(join(packDir, name), { recursive: true, force: true });
      }
      return { ...verified, dir: target, ...(newlyTrusted ? { newlyTrusted } : {}) };
    } finally {
      rmSync(incoming, { recursive: true, force: true });
    }
  }

  /** Records the key that signed pack `id` when the caller's base trust does not already cover it. */
  private maybeTrust(
    id: string,
    keyId: string,
    keyring: readonly TrustedKey[],
    record: InstallOptions['recordTrust'],
  ): TrustedKey | undefined {
    if (!record || record.trusted.some((k) => k.keyId === keyId)) return undefined;
    const entries = this.trustEntries();
    if (entries.some((e) => e.pack === id && e.keyId === keyId)) return undefined;
    const key = keyring.find((k) => k.keyId === keyId);
    if (!key) return undefined;
    entries.push({ ...key, pack: id, trustedAt: new Date().toISOString(), source: record.source });
    writeDurably(
      join(this.dir, TRUST_FILE),
      Buffer.from(`${JSON.stringify({ schemaVersion: 1, keys: entries }, null, 2)}\n`),
    );
    return key;
  }

  private trustEntries(): TrustEntry[] {
    const path = join(this.dir, TRUST_FILE);
    if (!existsSync(path)) return [];
    const parsed = TrustFileSchema.safeParse(parseJson(readFileSync(path), path));
    if (!parsed.success)
      throw new UserError(
        'PACK_INVALID',
        `${path}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`,
      );
    return parsed.data.keys;
  }
}

/** Writes a file through a synced temporary and a rename: readers see the old bytes or the new, never a part. */
function writeDurably(path: string, bytes: Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o644);
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}
