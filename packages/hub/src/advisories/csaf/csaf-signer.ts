import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UserError } from 'chainsweep/core/errors.js';
import * as openpgp from 'openpgp';
import type { Db } from '../../store/db.js';

/** The row of `fleet_secrets` holding the hub's generated CSAF signing key (armored, unencrypted). */
const STORED_KEY_NAME = 'csaf-openpgp-key';
const MAX_KEY_FILE_BYTES = 64 * 1024;
/** Signatures kept per process, by document digest (each a few hundred bytes). */
const MEMO_ENTRIES = 1024;

/** Signs CSAF documents with the provider's OpenPGP key (requirements 19 and 20). */
export interface CsafSigner {
  /** The key's v4 fingerprint: 40 hex digits, upper case as in the CSAF examples. */
  fingerprint: string;
  /** The public key, ASCII-armored, as published under `/.well-known/csaf/openpgp/`. */
  publicKeyArmored: string;
  /** An ASCII-armored detached signature of `bytes` (the `.asc` file). */
  sign(bytes: Uint8Array): Promise<string>;
}

/** Where the key comes from: an armored private key file (`serve --csaf-key FILE`), or one kept in the store. */
export type CsafKeySource = { file: string } | { db: Db; userName: string };

/**
 * The CSAF signer of this hub. From a file: an unencrypted armored OpenPGP private key that can sign (a
 * passphrase-protected key is refused: the hub runs unattended); every problem is a one-line UserError naming
 * the file. From the store: an Ed25519 v4 key generated once per database, so every hub process on it signs
 * with the same key.
 */
export async function loadCsafSigner(source: CsafKeySource): Promise<CsafSigner> {
  if ('file' in source) return signerOf(await keyFromFile(source.file));
  const key = await storedKey(source.db, source.userName);
  return signerOf(key);
}

/** A fresh Ed25519 v4 signing key (no encryption subkey), armored and unencrypted. */
export async function generateCsafKey(userName: string): Promise<string> {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [{ name: userName.trim() || 'chainsweep hub' }],
    subkeys: [],
    format: 'armored',
  });
  return privateKey;
}

async function keyFromFile(file: string): Promise<openpgp.PrivateKey> {
  const problem = (what: string) => new UserError('KEY_INVALID', `--csaf-key ${file}: ${what}`);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw problem(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (bytes.length > MAX_KEY_FILE_BYTES) throw problem(`over ${MAX_KEY_FILE_BYTES} bytes`);
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: bytes.toString('utf8') });
  } catch {
    throw problem('not an ASCII-armored OpenPGP private key (gpg --armor --export-secret-keys)');
  }
  if (!key.isDecrypted())
    throw problem('the key is protected by a passphrase; give the hub an unencrypted key');
  try {
    await key.getSigningKey();
  } catch {
    throw problem('the key cannot sign (expired, revoked, or no signing key)');
  }
  return key;
}

/** The key in `fleet_secrets`: the first process to ask generates and inserts it; everyone reads it back. */
async function storedKey(db: Db, userName: string): Promise<openpgp.PrivateKey> {
  const read = () =>
    db.get<{ value: string }>('SELECT value FROM fleet_secrets WHERE name = ?', [STORED_KEY_NAME]);
  let row = await read();
  if (!row) {
    await db.run('INSERT INTO fleet_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [
      STORED_KEY_NAME,
      await generateCsafKey(userName),
    ]);
    row = await read();
  }
  if (!row) throw new Error('the stored CSAF signing key is missing after its insert');
  return openpgp.readPrivateKey({ armoredKey: row.value });
}

function signerOf(key: openpgp.PrivateKey): CsafSigner {
  const memo = new Map<string, Promise<string>>();
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    publicKeyArmored: key.toPublic().armor(),
    sign(bytes) {
      const digest = createHash('sha256').update(bytes).digest('hex');
      const hit = memo.get(digest);
      if (hit) {
        memo.delete(digest);
        memo.set(digest, hit);
        return hit;
      }
      const signature = (async () =>
        openpgp.sign({
          message: await openpgp.createMessage({ binary: Uint8Array.from(bytes) }),
          signingKeys: key,
          detached: true,
          format: 'armored',
        }))();
      signature.catch(() => memo.delete(digest));
      memo.set(digest, signature);
      for (const oldest of memo.keys()) {
        if (memo.size <= MEMO_ENTRIES) break;
        memo.delete(oldest);
      }
      return signature;
    },
  };
}
