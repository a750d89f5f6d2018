import { DEFAULT_KEYRING, readKeyringFile } from '../packs/keyring.js';
import type { TrustedKey } from '../packs/keys.js';
import { defaultPackStoreDir, PackStore } from '../packs/pack-store.js';

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
