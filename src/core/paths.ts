import { isAbsolute, relative } from 'node:path';

/** True when `path` is `folder` or lies below it (lexically; symlinks are the caller's business). */
export function isInside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
