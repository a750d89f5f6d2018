import type { CliIo } from 'chainsweep/cli/io.js';
import { UserError } from 'chainsweep/core/errors.js';
import { runAdmin } from './admin-command.js';
import { HttpError } from './http/http-error.js';
import { runServe } from './serve-command.js';
import { SchemaTooNewError } from './store/migrate.js';

export { createApp } from './app.js';
export { type RunningHub, startHub } from './serve.js';

/**
 * Runs `chainsweep serve ...` or `chainsweep hub ...`; returns the exit code: 0 done, 2 bad usage or input
 * (one line on stderr), a store newer than this hub, or a store that cannot be opened.
 */
export async function runHubCommand(command: 'serve' | 'hub', args: string[], io: CliIo): Promise<number> {
  try {
    return command === 'serve' ? await runServe(args, io) : await runAdmin(args, io);
  } catch (error) {
    const message = userMessage(error);
    if (message === undefined) throw error;
    io.stderr.write(`chainsweep: ${command}: ${message}\n`);
    return 2;
  }
}

/** The one line to print for an error the user can act on; undefined for a bug. */
function userMessage(error: unknown): string | undefined {
  if (error instanceof UserError || error instanceof SchemaTooNewError) return error.message;
  if (error instanceof HttpError) return `${error.message}${error.field ? ` (${error.field})` : ''}`;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) return (error as Error).message;
  if (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === '3D000' ||
    code === '28P01' ||
    code === 'EADDRINUSE' ||
    code === 'EACCES' ||
    code === 'EADDRNOTAVAIL'
  )
    return `${(error as Error).message.split('\n')[0]}`;
  return undefined;
}
