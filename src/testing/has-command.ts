import { execFileSync } from 'node:child_process';

/** Whether `bin` is on the PATH (for tests that also run an independent tool, such as Debian's hivex). */
export function hasCommand(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
