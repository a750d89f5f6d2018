import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { UserError } from '../core/errors.js';

/** A public key that may sign packs. */
export interface TrustedKey {
  /** SHA-256 (hex) of the raw 32-byte Ed25519 public key. */
  keyId: string;
  /** Raw 32-byte public key, base64. */
  publicKey: string;
  name: string;
  notBefore?: string;
  notAfter?: string;
}

/** Key id of a raw Ed25519 public key. */
export function keyIdOf(rawPublicKey: Buffer): string {
  return createHash('sha256').update(rawPublicKey).digest('hex');
}

/** A fresh Ed25519 key pair: the private key as PKCS#8 PEM, the public one as a trusted-key entry. */
export function generateSigningKey(name: string): { privateKeyPem: string; key: TrustedKey } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = rawPublicKey(publicKey);
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    key: { keyId: keyIdOf(raw), publicKey: raw.toString('base64'), name },
  };
}

/** Parses a PKCS#8 PEM Ed25519 private key; `source` names it in errors. */
export function loadPrivateKey(pem: string, source: string): { privateKey: KeyObject; keyId: string } {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (cause) {
    throw new UserError('KEY_INVALID', `${source}: not a PEM private key`, { cause });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new UserError(
      'KEY_INVALID',
      `${source}: key type is ${privateKey.asymmetricKeyType}, expected ed25519`,
    );
  }
  return { privateKey, keyId: keyIdOf(rawPublicKey(createPublicKey(privateKey))) };
}

/** Ed25519 signature (base64) over exact bytes. */
export function signBytes(bytes: Uint8Array, privateKey: KeyObject): string {
  return sign(null, bytes, privateKey).toString('base64');
}

/** True when `signature` (base64) is a valid Ed25519 signature of `bytes` by `key`. */
export function verifyBytes(bytes: Uint8Array, signature: string, key: TrustedKey): boolean {
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(key.publicKey, 'base64').toString('base64url') },
    format: 'jwk',
  });
  return verify(null, bytes, publicKey, Buffer.from(signature, 'base64'));
}

function rawPublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (!jwk.x) throw new Error('not an Ed25519 public key');
  return Buffer.from(jwk.x, 'base64url');
}
