/** @module Folder chains deeper than PATH_MAX, for tests (Linux: made through /proc/self/fd, removed with rm -rf). */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { tempTree } from './temp-tree.js';

const made: string[] = [];
afterAll(() => {
  // Node's recursive rm works on whole paths, which such a tree defeats; rm(1) does not.
  for (const dir of made.splice(0)) execFileSync('rm', ['-rf', dir]);
});

/**
 * A temporary folder holding `top`, and `depth` nested folders called `name` with `files` (level -> name ->
 * content) in them; level `depth` is the deepest. Each level is made relative to an open handle of the one above.
 */
export function deepTree(
  top: Record<string, string>,
  name: string,
  depth: number,
  files: Record<number, Record<string, string>>,
): string {
  const root = tempTree(top);
  made.push(`${root}/${name}`);
  let fd = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    for (let level = 1; level <= depth; level++) {
      mkdirSync(`/proc/self/fd/${fd}/${name}`);
      const next = openSync(`/proc/self/fd/${fd}/${name}`, constants.O_RDONLY | constants.O_DIRECTORY);
      closeSync(fd);
      fd = next;
      for (const [file, content] of Object.entries(files[level] ?? {})) {
        const path = `/proc/self/fd/${fd}/${file}`;
        if (file.includes('/')) mkdirSync(path.slice(0, path.lastIndexOf('/')), { recursive: true });
        writeFileSync(path, content);
      }
    }
  } finally {
    closeSync(fd);
  }
  return root;
}
