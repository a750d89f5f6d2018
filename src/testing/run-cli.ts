/** @module Runs the built `chainsweep` binary the way a user does, for end-to-end tests. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/bin/chainsweep.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `chainsweep ...args`; `asUser` drops root privileges first (setpriv), so permission errors are real. */
export function runCli(
  args: string[],
  options: { cwd?: string; asUser?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const command = options.asUser && process.getuid?.() === 0 ? 'setpriv' : process.execPath;
  const argv =
    command === 'setpriv'
      ? [
          `--reuid=${options.asUser}`,
          `--regid=${options.asUser === 'nobody' ? 'nogroup' : options.asUser}`,
          '--clear-groups',
          process.execPath,
          CLI,
          ...args,
        ]
      : [CLI, ...args];
  return new Promise((resolve, reject) => {
    execFile(
      command,
      argv,
      {
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 << 20,
        env: { ...process.env, NO_COLOR: '1' },
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}
