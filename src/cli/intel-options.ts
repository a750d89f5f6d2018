import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { type Diagnostic, formatDiagnostic } from '../core/diagnostic.js';
import { UserError } from '../core/errors.js';
import type { IntelSet } from '../core/intel.js';
import { storedKeyList } from '../packs/feed.js';
import { applyKeyList, ROOT_KEYS } from '../packs/key-list.js';
import { DEFAULT_KEYRING, readKeyringFile } from '../packs/keyring.js';
import type { TrustedKey } from '../packs/keys.js';
import { BUNDLED_PACKS_DIR, loadIntel } from '../packs/load-intel.js';
import { defaultPackStoreDir, PackStore } from '../packs/pack-store.js';
import { type VerifiedPack, verifyPack } from '../packs/verify-pack.js';
import { type CliIo, logLine } from './io.js';

/** The options every command that loads packs shares. */
export const PACK_OPTIONS = {
  pack: { type: 'string', multiple: true },
  'no-bundled': { type: 'boolean' },
  keyring: { type: 'string', multiple: true },
  'require-fresh': { type: 'boolean' },
} as const;

interface PackOptionValues {
  pack?: string[] | undefined;
  'no-bundled'?: boolean | undefined;
  keyring?: string[] | undefined;
  'require-fresh'?: boolean | undefined;
}

/** The default keyring plus every `--keyring FILE`. */
export async function keyringFrom(files: readonly string[] | undefined): Promise<TrustedKey[]> {
  const keys = [...DEFAULT_KEYRING];
  for (const file of files ?? []) keys.push(...(await readKeyringFile(file)));
  return keys;
}

/** The installed-packs store ($CHAINSWEEP_HOME/packs or the platform default). */
export function defaultStore(): PackStore {
  return new PackStore(defaultPackStoreDir());
}

/** Loads bundled, installed and `--pack` packs plus local lists and rules, and prints the input problems found. */
export async function loadIntelFor(
  values: PackOptionValues,
  io: CliIo,
  local: { ioc?: string[] | undefined; yara?: string[] | undefined } = {},
): Promise<{ intel: IntelSet; diagnostics: Diagnostic[] }> {
  const at = (p: string) => resolve(io.cwd, p);
  const loaded = await loadIntel({
    store: defaultStore(),
    keyring: await keyringFrom(values.keyring?.map(at)),
    bundled: !values['no-bundled'],
    packDirs: (values.pack ?? []).map(at),
    iocFiles: (local.ioc ?? []).map((p) => (p === '-' ? p : at(p))),
    yaraPaths: (local.yara ?? []).map(at),
    requireFresh: Boolean(values['require-fresh']),
  });
  printDiagnostics(io, loaded.diagnostics);
  return loaded;
}

/** Input problems on stderr, one line each, the first fifty and a count of the rest. */
export function printDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[]): void {
  const shown = diagnostics.slice(0, 50);
  for (const d of shown) logLine(io, formatDiagnostic(d));
  if (diagnostics.length > shown.length)
    logLine(io, `... and ${diagnostics.length - shown.length} more problems in the inputs`);
}

/** A pack named by folder or by id (installed first, then bundled), verified; a one-line error when there is none. */
export async function findPack(
  wanted: string,
  io: CliIo,
  keyringFiles: string[] | undefined,
): Promise<VerifiedPack> {
  const store = defaultStore();
  const keyList = storedKeyList(store, ROOT_KEYS);
  const keyring = applyKeyList(await keyringFrom(keyringFiles?.map((p) => resolve(io.cwd, p))), keyList);
  const given = resolve(io.cwd, wanted);
  const dirs = existsSync(given) ? [given] : [...store.currentDirs(), join(BUNDLED_PACKS_DIR, wanted)];
  for (const dir of dirs) {
    if (!existsSync(join(dir, 'manifest.json'))) continue;
    // An installed pack is also checked with the keys trusted for it when it was imported.
    const installedId =
      dirname(dir) !== store.dir && dirname(dirname(dir)) === store.dir ? basename(dirname(dir)) : undefined;
    const pack = await verifyPack(dir, {
      keyring: installedId ? store.keyringFor(installedId, keyring, keyList) : keyring,
    });
    if (dir === given || pack.manifest.id === wanted) return pack;
  }
  throw new UserError('USAGE', `no pack ${JSON.stringify(wanted)}`);
}
