import { chmodSync, closeSync, constants, lstatSync, mkdirSync, openSync, type Stats } from 'node:fs';
import { UserError } from 'chainsweep/core/errors.js';

/** The files SQLite keeps beside `hub.db`: each, when present, must be a private regular file too. */
const SIDE_FILES = ['-wal', '-shm', '-journal'];

/**
 * Opens (creating, mode 0700) the hub's data folder. It must be a real folder (not a link) of this user's that
 * neither group nor others may write: the hub trusts what it finds there (its database, its packs).
 */
export function openDataFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new UserError('USAGE', `cannot create data folder ${dir}: ${firstLine(error)}`);
  }
  const stat = lstatSync(dir);
  if (!stat.isDirectory())
    throw new UserError('USAGE', `data folder ${dir} is not a folder (a link or a file)`);
  if (!onlyOwnerWrites(stat))
    throw new UserError(
      'USAGE',
      `data folder ${dir} must be a folder of this user's that no one else can write (it is uid ${stat.uid}, mode ${modeOf(stat)})`,
    );
}

/**
 * Makes `path` (hub.db in a folder `openDataFolder` checked) safe for SQLite to open: creates it empty with
 * mode 0600 without following a link, refuses a link, anything but a regular file, or another user's file (it
 * or its -wal, -shm, -journal), and takes group and other access away from one that has it. SQLite gives the
 * files it creates beside the database the database's mode.
 */
export function prepareDatabaseFile(path: string): void {
  try {
    closeSync(
      openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600),
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new UserError('USAGE', `cannot create ${path}: ${firstLine(error)}`);
  }
  for (const file of [path, ...SIDE_FILES.map((suffix) => `${path}${suffix}`)]) {
    let stat: Stats;
    try {
      stat = lstatSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && file !== path) continue;
      throw new UserError('USAGE', `cannot read ${file}: ${firstLine(error)}`);
    }
    if (!stat.isFile())
      throw new UserError('USAGE', `${file} is not a regular file (a link, a folder or a device)`);
    const uid = process.getuid?.();
    if (uid !== undefined && stat.uid !== uid)
      throw new UserError('USAGE', `${file} belongs to uid ${stat.uid}, not this user`);
    // The folder is private, so nobody can swap the file for a link between the check and the change.
    if (stat.mode & 0o077) chmodSync(file, 0o600);
  }
}

function onlyOwnerWrites(stat: Stats): boolean {
  const uid = process.getuid?.();
  return (uid === undefined || stat.uid === uid) && (stat.mode & 0o022) === 0;
}

function modeOf(stat: Stats): string {
  return (stat.mode & 0o7777).toString(8);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
