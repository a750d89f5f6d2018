import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '../core/diagnostic.js';
import { UserError } from '../core/errors.js';
import { appendAll, emptyIntel, type IntelSet, mergeIntel } from '../core/intel.js';
import { storedKeyList } from './feed.js';
import { applyKeyList, ROOT_KEYS } from './key-list.js';
import type { TrustedKey } from './keys.js';
import { loadLocalIntel } from './local-intel.js';
import { MANIFEST_FILE } from './manifest.js';
import { readPackContent } from './pack-content.js';
import type { PackStore } from './pack-store.js';
import { type VerifiedPack, verifyPack } from './verify-pack.js';

/** The folder of packs that ship with chainsweep (`packs/` at the package root). */
export const BUNDLED_PACKS_DIR = fileURLToPath(new URL('../../packs/', import.meta.url));

export interface IntelOptions {
  keyring: readonly TrustedKey[];
  /** Load the bundled packs. */
  bundled: boolean;
  /** Extra pack folders, or folders of packs. */
  packDirs: string[];
  iocFiles: string[];
  yaraPaths: string[];
  requireFresh: boolean;
  /** Installed packs (from updates and imports); a pack also bundled is taken at its higher sequence. */
  store?: PackStore;
  now?: Date;
}

/** Verifies and loads every pack and local input; a pack that fails verification stops everything. */
export async function loadIntel(
  options: IntelOptions,
): Promise<{ intel: IntelSet; diagnostics: Diagnostic[] }> {
  const intel = emptyIntel();
  const diagnostics: Diagnostic[] = [];
  const keyList = options.store ? storedKeyList(options.store, ROOT_KEYS, options.now) : undefined;
  const keyring = applyKeyList(options.keyring, keyList);
  const verify = (dir: string, ring: readonly TrustedKey[] = keyring) =>
    verifyPack(dir, {
      keyring: ring,
      requireFresh: options.requireFresh,
      ...(options.now ? { now: options.now } : {}),
    });
  // Bundled and installed packs: the higher sequence of each id wins. An installed pack is also checked with
  // the keys trusted for it at import, and must be the pack its folder names.
  const chosen = new Map<string, VerifiedPack>();
  const installed = (options.store?.currentDirs() ?? []).map((dir) => ({
    dir,
    id: basename(dirname(dir)),
  }));
  for (const { dir, id } of [
    ...(options.bundled ? await packDirsIn(BUNDLED_PACKS_DIR) : []).map((dir) => ({ dir, id: undefined })),
    ...installed,
  ]) {
    const pack = await verify(
      dir,
      id && options.store ? options.store.keyringFor(id, keyring, keyList) : keyring,
    );
    if (id !== undefined && pack.manifest.id !== id)
      throw new UserError('PACK_INVALID', `pack ${dir}: holds ${pack.manifest.id}, not ${id}`);
    const other = chosen.get(pack.manifest.id);
    if (!other || pack.manifest.sequence > other.manifest.sequence) chosen.set(pack.manifest.id, pack);
  }
  const packs = [...chosen.values()];
  for (const dir of await expandPackDirs(options.packDirs)) {
    const pack = await verify(dir);
    const other = packs.find((p) => p.manifest.id === pack.manifest.id);
    if (other)
      throw new UserError(
        'PACK_INVALID',
        `pack ${pack.manifest.id} is loaded twice: from ${other.dir} and ${dir}`,
      );
    packs.push(pack);
  }
  for (const pack of packs) {
    const id = pack.manifest.id;
    if (pack.stale) {
      diagnostics.push({
        level: 'warning',
        file: pack.dir,
        message: `pack ${id} expired on ${pack.manifest.expires}; update it or pass --require-fresh to refuse stale packs`,
      });
    }
    mergeIntel(intel, readPackContent(pack));
  }
  const local = await loadLocalIntel(options.iocFiles, options.yaraPaths);
  appendAll(diagnostics, local.diagnostics);
  return { intel: mergeIntel(intel, local.intel), diagnostics };
}

/** Pack folders inside `dir` (each holding a manifest.json). */
async function packDirsIn(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    const candidates = entries
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name))
      .sort();
    const result: string[] = [];
    for (const candidate of candidates) if (await hasManifest(candidate)) result.push(candidate);
    return result;
  } catch {
    return [];
  }
}

/** Each `--pack` argument is a pack folder or a folder of packs. */
async function expandPackDirs(dirs: string[]): Promise<string[]> {
  const result: string[] = [];
  for (const dir of dirs) {
    if (await hasManifest(dir)) result.push(dir);
    else {
      const inside = await packDirsIn(dir);
      if (inside.length === 0)
        throw new UserError('PACK_INVALID', `pack ${dir}: no ${MANIFEST_FILE} here or in its subfolders`);
      result.push(...inside);
    }
  }
  return result;
}

async function hasManifest(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).includes(MANIFEST_FILE);
  } catch {
    return false;
  }
}
