import type { CliIo } from 'chainsweep/cli/io.js';

/** Runs `chainsweep serve ...` or `chainsweep hub ...`; returns the exit code. */
export async function runHubCommand(command: 'serve' | 'hub', _args: string[], io: CliIo): Promise<number> {
  io.stderr.write(`chainsweep: ${command}: not built yet\n`);
  return 2;
}
