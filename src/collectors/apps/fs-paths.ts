import { type Dirent, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Entries of `dir`, or none when it cannot be listed. Symlinks are reported as symlinks, never followed. */
export function entriesOf(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Real subfolders of `dir` (no symlinks or junctions), as full paths. */
export function subdirectories(dir: string): string[] {
  return entriesOf(dir)
    .filter((e) => e.isDirectory())
    .map((e) => join(dir, e.name));
}

/**
 * `relative` (a `/`-separated path) under `root`, matching each segment case-insensitively as Windows and
 * default macOS volumes do, even when the image is mounted on a case-sensitive system. Undefined when absent.
 */
export function findPath(root: string, relative: string): string | undefined {
  let current = root;
  for (const segment of relative.split('/').filter(Boolean)) {
    const wanted = segment.toLowerCase();
    const entry = entriesOf(current).find((e) => e.name.toLowerCase() === wanted && !e.isSymbolicLink());
    if (!entry) return undefined;
    current = join(current, entry.name);
  }
  return current;
}
