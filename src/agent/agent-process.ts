/** @module Whether a pid found in the agent's lock is still a chainsweep agent, not a program that reused it. */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const CLI_NAMES = new Set(['chainsweep', 'chainsweep.js', 'chainsweep.ts', 'chainsweep.cmd']);

/**
 * Whether `pid` runs a chainsweep agent. On Linux its command line must name the CLI and `agent`; elsewhere, or
 * when /proc hides it (another user's process), any running process counts, as a lock cannot tell more.
 */
export function isAgentProcess(pid: number): boolean {
  if (!isRunning(pid)) return false;
  if (process.platform !== 'linux') return true;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return true;
  }
  const args = cmdline.split('\0');
  const cli = args.findIndex((arg) => CLI_NAMES.has(basename(arg)));
  return cli >= 0 && args.slice(cli + 1).includes('agent');
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
