import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ErrorCode, errorMessage, UserError } from '../core/errors.js';

/** Parses JSON text; anything else is a one-line UserError naming `source`. */
export function parseJson(text: string | Buffer, source: string, code: ErrorCode = 'PACK_INVALID'): unknown {
  try {
    return JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
  } catch (error) {
    throw new UserError(code, `${source}: not valid JSON (${errorMessage(error)})`);
  }
}

/** Why a file system operation on `path` failed, in words (no stack, no errno jargon when avoidable). */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'ENOTDIR') return 'is not inside a folder';
  if (code === 'EISDIR') return 'is a folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EEXIST') return 'exists';
  return errorMessage(error);
}

/** Reads a file the user named, at most `maxBytes`; a one-line UserError when it cannot be read. */
export function readUserFile(path: string, what: string, maxBytes = 256 * 1024 * 1024): Buffer {
  try {
    const info = statSync(path);
    if (info.isDirectory()) throw new UserError('USAGE', `${what} ${path} is a folder, not a file`);
    if (info.size > maxBytes)
      throw new UserError('USAGE', `${what} ${path} is ${info.size} bytes, over the ${maxBytes}-byte limit`);
    return readFileSync(path);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError('PATH_NOT_FOUND', `${what} ${path} ${describeFsError(error)}`);
  }
}

/**
 * Writes a file the user named. Its folder must exist and it must not be a folder; `exclusive` refuses an
 * existing file (keys are never overwritten). Failures are one-line UserErrors naming the path.
 */
export function writeUserFile(
  path: string,
  bytes: string | Buffer,
  what: string,
  options: { mode?: number; exclusive?: boolean } = {},
): void {
  const parent = dirname(path);
  let fd: number;
  try {
    if (!statSync(parent).isDirectory())
      throw new UserError('USAGE', `${what} ${path}: ${parent} is not a folder`);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory())
      throw new UserError('USAGE', `${what} ${path} is a folder; give a file name`);
    fd = openSync(path, options.exclusive ? 'wx' : 'w', options.mode ?? 0o644);
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const where = code === 'ENOENT' || code === 'ENOTDIR' ? `folder ${parent}` : path;
    throw new UserError('PATH_NOT_FOUND', `${what} ${path}: ${where} ${describeFsError(error)}`);
  }
  try {
    writeSync(fd, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  } catch (error) {
    throw new UserError('PATH_NOT_FOUND', `${what} ${path}: cannot write (${describeFsError(error)})`);
  } finally {
    closeSync(fd);
  }
}
