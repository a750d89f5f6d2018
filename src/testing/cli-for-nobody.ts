import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CLI } from './run-cli.js';

const CHECKOUT = join(dirname(CLI), '../..');
/** What the built CLI needs at run time: its code, the bundled packs, and its runtime dependencies. */
const RUNTIME = [
  'package.json',
  'dist',
  'packs',
  'node_modules/zod',
  'node_modules/@virustotal',
  'node_modules/@litko',
];
let reachable: string | undefined;

/**
 * The built CLI's path as an unprivileged user can run it: the checkout's own when nobody can read it, else a
 * copy of what it needs at run time in a world-readable temp folder (a checkout may sit in a 0700 folder).
 */
export function cliForNobody(): string {
  if (reachable) return reachable;
  try {
    execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', CLI]);
    reachable = CLI;
  } catch {
    const copy = mkdtempSync(join(tmpdir(), 'chainsweep-cli-'));
    chmodSync(copy, 0o755);
    for (const part of RUNTIME) cpSync(join(CHECKOUT, part), join(copy, part), { recursive: true });
    execFileSync('chmod', ['-R', 'a+rX', copy]);
    reachable = join(copy, 'dist/bin/chainsweep.js');
  }
  return reachable;
}
