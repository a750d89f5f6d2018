import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { HttpError } from '../http/http-error.js';

/** scrypt cost: 2^15 x 8 x 1 uses 32 MiB and about 0.1 s a hash; stored with each hash so it can be raised. */
const PARAMS = { N: 2 ** 15, r: 8, p: 1, keylen: 32 } as const;
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

/** A stored password: the scrypt output, its salt (both hex) and its parameters (JSON). */
export interface PasswordHash {
  hash: string;
  salt: string;
  params: string;
}

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number; keylen: number }) {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r };
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, params.keylen, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** Checks a new password's length: 400 naming `field` when too short or too long. */
export function checkNewPassword(password: string, field = 'password'): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new HttpError(
      400,
      'WEAK_PASSWORD',
      `the password needs at least ${MIN_PASSWORD_LENGTH} characters`,
      {
        field,
      },
    );
  if (password.length > MAX_PASSWORD_LENGTH)
    throw new HttpError(400, 'INVALID', `the password is longer than ${MAX_PASSWORD_LENGTH} characters`, {
      field,
    });
}

/** Hashes a password with scrypt and a fresh 16-byte salt. */
export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return { hash: key.toString('hex'), salt: salt.toString('hex'), params: JSON.stringify(PARAMS) };
}

/** Whether `password` matches a stored hash; compares in constant time. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  const params = JSON.parse(stored.params) as typeof PARAMS;
  const expected = Buffer.from(stored.hash, 'hex');
  const key = await derive(password, Buffer.from(stored.salt, 'hex'), { ...params, keylen: expected.length });
  return timingSafeEqual(key, expected);
}

/** A hash of no one's password, checked when the account does not exist so both cases take the same time. */
let decoy: Promise<PasswordHash> | undefined;
export function decoyHash(): Promise<PasswordHash> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}
