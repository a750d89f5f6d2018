import { randomBytes } from 'node:crypto';
import { accessSync, constants, lstatSync, type Stats, statSync } from 'node:fs';
import { type FileHandle, lstat, open, rename, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ChainsweepError, UserError } from '../core/errors.js';
import type { CliIo } from './io.js';

/** Where a command's output goes, opened before the work starts: written as it comes, then closed or discarded. */
export interface Output {
  write(text: string): Promise<void>;
  /** Finishes the output; a regular file is moved into place only now. */
  close(): Promise<void>;
  /** Gives the output up after a failure; no temp file is left. */
  discard(): Promise<void>;
}

/** What `--output PATH` names: a regular file (new or replaced atomically) or a stream written into (device, FIFO). */
type OutputKind = 'file' | 'stream';

/**
 * Refuses, as a one-line usage error, an `--output` that cannot take the output: a folder, a missing or
 * unwritable parent folder, a block device or socket, or a symlink to anything but a character device or FIFO
 * (writing through a planted link would overwrite its target; replacing it would destroy it).
 */
export function checkOutputPath(io: CliIo, file: string): OutputKind {
  const path = resolve(io.cwd, file);
  const refuse = (why: string) => new UserError('USAGE', `--output ${path}: ${why}`);
  let link: Stats;
  try {
    link = lstatSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw refuse(`cannot look at it (${code})`);
    const parent = dirname(path);
    const folder = statOrUndefined(parent);
    if (!folder?.isDirectory()) throw refuse(`folder ${parent} does not exist`);
    try {
      accessSync(parent, constants.W_OK);
    } catch {
      throw refuse(`cannot write into folder ${parent}`);
    }
    return 'file';
  }
  const target = link.isSymbolicLink() ? statOrUndefined(path) : link;
  if (target?.isCharacterDevice() || target?.isFIFO()) return 'stream';
  if (link.isSymbolicLink())
    throw refuse(`is a symbolic link${target ? '' : ' to nothing'}; name the file itself`);
  if (link.isDirectory()) throw refuse('is a folder');
  if (!link.isFile()) throw refuse('is a block device or socket; refusing to write a report into it');
  return 'file';
}

/** Opens `--output FILE` (checked as `checkOutputPath` does), or standard output when no file is given. */
export async function openOutput(io: CliIo, file: string | undefined): Promise<Output> {
  if (!file) return streamOutput(io.stdout, 'standard output');
  const path = resolve(io.cwd, file);
  return checkOutputPath(io, path) === 'stream' ? openStream(path) : openFile(path);
}

/** Writes the whole output to `--output FILE` (atomically for a regular file) or to stdout. */
export async function writeOutput(io: CliIo, file: string | undefined, text: string): Promise<void> {
  const output = await openOutput(io, file);
  try {
    await output.write(text);
    await output.close();
  } catch (error) {
    await output.discard();
    throw error;
  }
}

/** The error for output that could not be written: one line, exit 74 (EX_IOERR). */
export function outputError(where: string, error: unknown): ChainsweepError {
  if (error instanceof ChainsweepError) return error;
  return new ChainsweepError('OUTPUT', `cannot write the output to ${where}: ${(error as Error).message}`, {
    cause: error,
  });
}

function streamOutput(stream: NodeJS.WritableStream, where: string): Output {
  return {
    write: (text) =>
      new Promise((done, fail) => {
        stream.write(text, (error) => (error ? fail(outputError(where, error)) : done()));
      }),
    close: async () => {},
    discard: async () => {},
  };
}

/** A character device or FIFO: opened without creating or truncating, and checked again once open. */
async function openStream(path: string): Promise<Output> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_NOCTTY);
  } catch (error) {
    throw outputError(path, error);
  }
  const stat = await handle.stat();
  if (!stat.isCharacterDevice() && !stat.isFIFO()) {
    await handle.close();
    throw new UserError('USAGE', `--output ${path}: changed while it was opened; refusing to write into it`);
  }
  return handleOutput(handle, path, () => handle.close());
}

/** A regular file: written to a new temp file beside it, then renamed over it. */
async function openFile(path: string): Promise<Output> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  let handle: FileHandle;
  try {
    handle = await open(temp, 'wx');
  } catch (error) {
    throw outputError(path, error);
  }
  return handleOutput(
    handle,
    path,
    async () => {
      await handle.sync();
      await handle.close();
      const now = await lstat(path).catch(() => undefined);
      if (now && !now.isFile())
        throw new UserError('USAGE', `--output ${path}: changed while the output was written; not replaced`);
      await rename(temp, path);
    },
    () => unlink(temp).catch(() => {}),
  );
}

function handleOutput(
  handle: FileHandle,
  path: string,
  finish: () => Promise<void>,
  cleanup: () => Promise<void> = async () => {},
): Output {
  const discard = async () => {
    await handle.close().catch(() => {});
    await cleanup();
  };
  return {
    write: async (text) => {
      try {
        await handle.writeFile(text);
      } catch (error) {
        throw outputError(path, error);
      }
    },
    close: async () => {
      try {
        await finish();
      } catch (error) {
        await discard();
        throw outputError(path, error);
      }
    },
    discard,
  };
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
