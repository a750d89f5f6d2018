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

/** Driver errors about the store itself (not a bug in the hub): unreachable, missing, refused, not a database. */
const STORE_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  '3D000', // PostgreSQL: no such database
  '3F000', // no such schema
  '28P01', // wrong password
  '28000', // no such role or not allowed
  'SQLITE_CANTOPEN',
  'SQLITE_NOTADB',
  'SQLITE_READONLY',
  'SQLITE_CORRUPT',
]);

/** The one line to print for an error the user can act on; undefined for a bug. */
function userMessage(error: unknown): string | undefined {
  if (error instanceof UserError || error instanceof SchemaTooNewError) return error.message;
  if (error instanceof HttpError) return `${error.message}${error.field ? ` (${error.field})` : ''}`;
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
  const firstLine = () => (error instanceof Error ? error.message : String(error)).split('\n')[0];
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) return firstLine();
  // A system call that failed on the data folder or the listening address (ENOTDIR, EACCES, EADDRINUSE, ...).
  if (typeof syscall === 'string' && typeof code === 'string') return firstLine();
  if (typeof code === 'string' && STORE_ERRORS.has(code)) return `the store: ${firstLine()}`;
  return undefined;
}
