import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where chainsweep keeps its state (installed packs, quarantine): $CHAINSWEEP_HOME, else the system's state
 * folder when running as root or on Windows, else the user's.
 */
export function stateDir(): string {
  if (process.env.CHAINSWEEP_HOME) return process.env.CHAINSWEEP_HOME;
  if (process.platform === 'win32') return join(process.env.ProgramData ?? 'C:\\ProgramData', 'chainsweep');
  const isRoot = process.getuid?.() === 0;
  if (process.platform === 'darwin')
    return join(isRoot ? '/Library' : join(homedir(), 'Library'), 'Application Support', 'chainsweep');
  return isRoot ? '/var/lib/chainsweep' : join(homedir(), '.local', 'state', 'chainsweep');
}
