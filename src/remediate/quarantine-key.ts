/** @module The secret that authenticates the quarantine: a random key in chainsweep's state folder, mode 0600. */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../core/errors.js';
import { stateDir } from '../packs/state-dir.js';

const KEY_BYTES = 32;

/** Where the quarantine key is kept: `quarantine.key` in chainsweep's state folder. */
export function defaultKeyFile(): string {
  return join(stateDir(), 'quarantine.key');
}

/**
 * The quarantine key in `file`. With `create`, a missing key is made (atomically: two runs agree on one key);
 * otherwise a missing key is refused (the message ends with `outcome`), as is a key that is not a regular file of
 * ours that only we can read.
 */
export function loadKey(file: string, create: boolean, outcome = 'refusing to go on'): Buffer {
  let stat = lstatSync(file, { throwIfNoEntry: false });
  if (!stat && create) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(KEY_BYTES));
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(temp);
    }
    stat = lstatSync(file);
  }
  if (!stat)
    throw new UserError(
      'KEY_INVALID',
      `quarantine: no key at ${file} to authenticate the quarantine with; ${outcome}`,
    );
  const uid = process.getuid?.();
  if (
    !stat.isFile() ||
    stat.size !== KEY_BYTES ||
    (stat.mode & 0o077) !== 0 ||
    (uid !== undefined && stat.uid !== uid)
  )
    throw new UserError(
      'KEY_INVALID',
      `quarantine: key ${file} must be a ${KEY_BYTES}-byte file of this user's, mode 0600; ${outcome}`,
    );
  return readFileSync(file);
}
