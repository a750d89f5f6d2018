import { rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliIo } from './io.js';

/** Writes the whole output to `--output FILE` atomically (temp file, then rename), or to stdout. */
export async function writeOutput(io: CliIo, file: string | undefined, text: string): Promise<void> {
  if (!file) {
    io.stdout.write(text);
    return;
  }
  const path = resolve(io.cwd, file);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text);
  await rename(temp, path);
}
