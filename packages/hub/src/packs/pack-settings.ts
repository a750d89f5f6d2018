import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UserError } from 'chainsweep/core/errors.js';
import { applyKeyList, ROOT_KEYS, verifyKeyList } from 'chainsweep/packs/key-list.js';
import { DEFAULT_KEYRING, readKeyringFile } from 'chainsweep/packs/keyring.js';
import { loadPrivateKey, type TrustedKey } from 'chainsweep/packs/keys.js';

/** The largest key file, keyring or key list read. */
const MAX_KEY_FILE_BYTES = 1024 * 1024;

/** How the hub trusts uploaded packs and signs its feed (`serve --pack-keys`, `--root-keyring`, `--feed-key`). */
export interface PackSettings {
  /** The keys an uploaded pack may be signed by. */
  keyring: readonly TrustedKey[];
  /** A signed key list given to `--pack-keys`, served verbatim at `/feed/keys.json` for agents to verify. */
  keyList?: { bytes: Buffer; signature: Buffer };
  /** The key that signs the feed index; without it the hub serves no feed. */
  feedKey?: { privateKey: KeyObject; keyId: string };
  /** The feed's signed name: agents judge replays per name and signing key. */
  feedName: string;
  /** Days a published index stays valid; the hub publishes a fresh one when half of that has passed. */
  feedExpiresDays: number;
}

/** The settings of a hub started without pack options: the scanner's bundled pack keys, no feed. */
export const DEFAULT_PACK_SETTINGS: PackSettings = {
  keyring: DEFAULT_KEYRING,
  feedName: 'chainsweep-hub',
  feedExpiresDays: 7,
};

/** The `serve` options the pack settings come from (paths as given, resolved against `cwd`). */
export interface PackOptionValues {
  /** Keyring files (`{"keys": [...]}` as `packs keygen` writes) or one signed key list (`keys.json` + `.sig`). */
  packKeys?: readonly string[] | undefined;
  /** Extra root keys a key list may be signed by, as for `packs update --root-keyring`. */
  rootKeyrings?: readonly string[] | undefined;
  /** The feed's Ed25519 private key, PKCS#8 PEM as `packs keygen` writes. */
  feedKey?: string | undefined;
}

/**
 * Reads the pack options of `serve`. A `--pack-keys` file holding `"version"` is a key list: it must verify, with
 * `FILE.sig`, against the pinned roots plus `--root-keyring`, and its keys less the revoked are trusted. Without
 * `--pack-keys` the bundled pack keys are. Every problem is a one-line UserError naming the file.
 */
export async function loadPackSettings(values: PackOptionValues, now = new Date()): Promise<PackSettings> {
  const roots = [...ROOT_KEYS];
  for (const file of values.rootKeyrings ?? []) roots.push(...(await readKeyringFile(file)));
  const keyring: TrustedKey[] = [];
  let keyList: PackSettings['keyList'];
  for (const file of values.packKeys ?? []) {
    const bytes = await readKeyFile(file, '--pack-keys');
    if (!isKeyList(bytes)) {
      keyring.push(...(await readKeyringFile(file)));
      continue;
    }
    if (keyList) throw new UserError('USAGE', `--pack-keys ${file}: only one signed key list may be given`);
    const signature = await readKeyFile(`${file}.sig`, '--pack-keys');
    const { list } = verifyKeyList(bytes, signature, roots, now);
    keyring.push(...applyKeyList([], list));
    keyList = { bytes, signature };
  }
  const settings: PackSettings = {
    ...DEFAULT_PACK_SETTINGS,
    keyring: values.packKeys?.length ? keyring : DEFAULT_KEYRING,
    ...(keyList ? { keyList } : {}),
  };
  if (values.feedKey) {
    const pem = (await readKeyFile(values.feedKey, '--feed-key')).toString('utf8');
    settings.feedKey = loadPrivateKey(pem, `--feed-key ${values.feedKey}`);
  }
  return settings;
}

/** A key list names a `version`; a keyring file has only `keys`. */
function isKeyList(bytes: Buffer): boolean {
  try {
    const json: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof json === 'object' && json !== null && 'version' in json;
  } catch {
    return false;
  }
}

async function readKeyFile(path: string, option: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new UserError(
      'KEY_INVALID',
      `${option} ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  if (bytes.length > MAX_KEY_FILE_BYTES)
    throw new UserError('KEY_INVALID', `${option} ${path}: over ${MAX_KEY_FILE_BYTES} bytes`);
  return bytes;
}
