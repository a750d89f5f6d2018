/** @module Runs the built `chainsweep` binary the way a user does, for end-to-end tests. */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/bin/chainsweep.js', import.meta.url));

/** Every CLI run of a test file shares one state folder (installed packs, quarantine), never the machine's. */
const HOME = mkdtempSync(join(tmpdir(), 'chainsweep-home-'));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `chainsweep ...args`. `obeyPermissions` drops root's power to bypass file permissions (CAP_DAC_OVERRIDE,
 * CAP_DAC_READ_SEARCH) with setpriv, so a mode-000 file or folder is really unreadable.
 */
export function runCli(
  args: string[],
  options: { cwd?: string; obeyPermissions?: boolean; timeoutMs?: number; home?: string } = {},
): Promise<CliResult> {
  const dropCaps = options.obeyPermissions && process.getuid?.() === 0;
  const command = dropCaps ? 'setpriv' : process.execPath;
  const argv = dropCaps
    ? ['--bounding-set=-dac_override,-dac_read_search', process.execPath, CLI, ...args]
    : [CLI, ...args];
  return new Promise((resolve, reject) => {
    execFile(
      command,
      argv,
      {
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 << 20,
        env: { ...process.env, NO_COLOR: '1', CHAINSWEEP_HOME: options.home ?? HOME },
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}
