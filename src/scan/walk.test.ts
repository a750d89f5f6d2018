import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempTree } from '../testing/temp-tree.js';
import { type WalkOptions, walkFiles } from './walk.js';

function walk(root: string, overrides: Partial<WalkOptions> = {}) {
  const skips: [string, string][] = [];
  const unreadable: string[] = [];
  const files = [
    ...walkFiles(root, {
      isExcluded: () => false,
      crossFilesystems: false,
      mountSkips: new Map(),
      onSkip: (reason, path) => skips.push([reason, path.slice(root.length + 1)]),
      onUnreadableDir: (path) => unreadable.push(path),
      ...overrides,
    }),
  ].map((p) => p.slice(root.length + 1));
  return { files: files.sort(), skips: skips.sort(), unreadable };
}

describe('walkFiles', () => {
  it('yields regular files only: never follows symlinks, never opens FIFOs, survives loops', () => {
    const root = tempTree({ 'a/one.txt': '1', 'a/b/two.txt': '2', 'c/three.txt': '3' });
    symlinkSync('..', join(root, 'a/b/up'));
    symlinkSync(join(root, 'c/three.txt'), join(root, 'a/link.txt'));
    execFileSync('mkfifo', [join(root, 'a/fifo')]);
    expect(walk(root)).toEqual({
      files: ['a/b/two.txt', 'a/one.txt', 'c/three.txt'],
      skips: [
        ['special', 'a/fifo'],
        ['symlink', 'a/b/up'],
        ['symlink', 'a/link.txt'],
      ],
      unreadable: [],
    });
  });

  it('does not enter excluded folders, and skips listed mount points', () => {
    const root = tempTree({ 'keep/x.txt': 'x', 'node_modules/y/z.js': 'z', 'proc/1/status': 's' });
    const result = walk(root, {
      isExcluded: (path) => path.endsWith('/node_modules'),
      mountSkips: new Map([[join(root, 'proc'), 'pseudo-filesystem']]),
    });
    expect(result.files).toEqual(['keep/x.txt']);
    expect(result.skips).toEqual([
      ['excluded', 'node_modules'],
      ['pseudo-filesystem', 'proc'],
    ]);
  });

  it('yields a root that is a file, and streams a folder of many entries', () => {
    const root = tempTree({ 'only.txt': 'x' });
    expect(walk(join(root, 'only.txt'), {}).files).toEqual(['']);
    const wide = tempTree();
    mkdirSync(join(wide, 'many'));
    execFileSync('sh', ['-c', `cd ${join(wide, 'many')} && seq 1 3000 | xargs touch`]);
    expect(walk(wide).files).toHaveLength(3000);
  });
});
