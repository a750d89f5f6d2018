import { DEFAULT_KEYRING, readKeyringFile } from '../packs/keyring.js';
import type { TrustedKey } from '../packs/keys.js';

/** The default keyring plus every `--keyring FILE`. */
export async function keyringFrom(files: readonly string[] | undefined): Promise<TrustedKey[]> {
  const keys = [...DEFAULT_KEYRING];
  for (const file of files ?? []) keys.push(...(await readKeyringFile(file)));
  return keys;
}
