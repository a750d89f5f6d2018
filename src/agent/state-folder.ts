import { lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';

/** The agent's state folder and what lives in it. */
export interface StateFolder {
  dir: string;
  /** Reports written before their upload, removed once the hub accepts them. */
  spool: string;
  /** Reports the hub refused for good, each with the hub's message. */
  rejected: string;
  /** The agent's own pack store, fed from the hub's feed. */
  packs: string;
  credential: string;
  counters: string;
  lock: string;
}

/**
 * Opens (creating, mode 0700) the agent's state folder and its spool and rejected folders. Each must be a real
 * folder (not a link) of this user's that neither group nor others may write: the agent trusts what it finds
 * there (its credential, its packs, the reports it will send).
 */
export function openStateFolder(dir: string): StateFolder {
  const folder: StateFolder = {
    dir,
    spool: join(dir, 'spool'),
    rejected: join(dir, 'rejected'),
    packs: join(dir, 'packs'),
    credential: join(dir, 'credential'),
    counters: join(dir, 'counters.json'),
    lock: join(dir, 'agent.lock'),
  };
  for (const path of [dir, folder.spool, folder.rejected, folder.packs]) privateFolder(path);
  return folder;
}

function privateFolder(path: string): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new UserError('USAGE', `agent: cannot create state folder ${path}: ${(error as Error).message}`);
  }
  const stat = lstatSync(path);
  const uid = process.getuid?.();
  if (!stat.isDirectory())
    throw new UserError('USAGE', `agent: state folder ${path} is not a folder (a link or a file)`);
  if ((uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0)
    throw new UserError(
      'USAGE',
      `agent: state folder ${path} must be a folder of this user's that no one else can write (it is uid ${stat.uid}, mode ${(stat.mode & 0o7777).toString(8)})`,
    );
}
