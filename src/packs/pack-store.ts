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
import { isSafePath } from './archive.js';
import type { TrustedKey } from './keys.js';
import { MANIFEST_FILE } from './manifest.js';
import { stateDir } from './state-dir.js';
import { type VerifiedPack, verifyPack } from './verify-pack.js';

const CurrentSchema = z.object({
  sequence: z.number().int().nonnegative(),
  installedAt: z.string(),
  previous: z.number().int().optional(),
});

/** The installed-packs folder: $CHAINSWEEP_HOME/packs by default. */
export function defaultPackStoreDir(): string {
  return join(stateDir(), 'packs');
}

/**
 * Installed packs: `<id>/<sequence>/` holds each version, `<id>/current.json` names the one in use. Installing
 * writes and verifies the new version beside the old, then switches current.json with one rename, so a crash
 * at any point leaves the previous version in use. The previous version is kept; older ones are removed.
 */
export class PackStore {
  constructor(readonly dir: string) {}

  /** The folder of every installed pack's current version. */
  currentDirs(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && /^[a-z0-9][a-z0-9.-]*$/.test(e.name))
      .flatMap((e) => {
        const sequence = this.currentSequence(e.name);
        return sequence === undefined ? [] : [join(this.dir, e.name, String(sequence))];
      });
  }

  /** The installed sequence of a pack, or undefined. */
  currentSequence(id: string): number | undefined {
    const path = join(this.dir, id, 'current.json');
    if (!existsSync(path)) return undefined;
    const parsed = CurrentSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data.sequence : undefined;
  }

  /**
   * Installs a pack from its files (path -> bytes, manifest and signature included) after checking them with the
   * keyring: signature, every digest and size, freshness, and a sequence above the installed one.
   */
  async install(
    files: ReadonlyMap<string, Buffer>,
    options: { keyring: readonly TrustedKey[]; allowStale?: boolean; now?: Date; source: string },
  ): Promise<VerifiedPack> {
    const manifest = files.get(MANIFEST_FILE);
    if (!manifest) throw new UserError('PACK_INVALID', `${options.source}: no ${MANIFEST_FILE}`);
    const id = (JSON.parse(manifest.toString('utf8')) as { id?: unknown }).id;
    if (typeof id !== 'string' || !/^[a-z0-9][a-z0-9.-]*$/.test(id))
      throw new UserError('PACK_INVALID', `${options.source}: manifest has no valid id`);
    const packDir = join(this.dir, id);
    mkdirSync(packDir, { recursive: true });
    for (const leftover of readdirSync(packDir).filter((n) => n.startsWith('.incoming-')))
      rmSync(join(packDir, leftover), { recursive: true, force: true });

    const incoming = join(packDir, `.incoming-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      for (const [path, bytes] of files) {
        if (!isSafePath(path))
          throw new UserError('PACK_INVALID', `${options.source}: unsafe path ${JSON.stringify(path)}`);
        writeDurably(join(incoming, path), bytes);
      }
      const pack = await verifyPack(incoming, {
        keyring: options.keyring,
        requireFresh: !options.allowStale,
        ...(options.now ? { now: options.now } : {}),
      });
      const installed = this.currentSequence(id);
      if (installed !== undefined && pack.manifest.sequence <= installed) {
        throw new UserError(
          'PACK_ROLLBACK',
          `pack ${id}: sequence ${pack.manifest.sequence} is not newer than the installed ${installed} (rollback refused)`,
        );
      }
      const target = join(packDir, String(pack.manifest.sequence));
      rmSync(target, { recursive: true, force: true });
      renameSync(incoming, target);
      writeDurably(
        join(packDir, 'current.json'),
        Buffer.from(
          JSON.stringify({
            sequence: pack.manifest.sequence,
            installedAt: new Date().toISOString(),
            ...(installed !== undefined ? { previous: installed } : {}),
          }),
        ),
      );
      for (const name of readdirSync(packDir)) {
        if (/^\d+$/.test(name) && Number(name) !== pack.manifest.sequence && Number(name) !== installed)
          rmSync(join(packDir, name), { recursive: true, force: true });
      }
      return { ...pack, dir: target };
    } finally {
      rmSync(incoming, { recursive: true, force: true });
    }
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
