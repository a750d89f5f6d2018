import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { displayPath } from '../core/paths.js';
import { deepTree } from '../testing/deep-tree.js';
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
      onSkip: (reason, path) => skips.push([reason, displayPath(path).slice(root.length + 1)]),
      onUnreadableDir: (path) => unreadable.push(displayPath(path)),
      ...overrides,
    }),
  ].map((p) => displayPath(p).slice(root.length + 1));
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

  it('yields names that are not UTF-8 as their bytes, in folders that are not UTF-8 either', () => {
    const root = tempTree({ 'plain.txt': 'x' });
    const bad = Buffer.concat([Buffer.from(`${root}/bad`), Buffer.from([0xfe])]);
    mkdirSync(bad);
    writeFileSync(Buffer.concat([bad, Buffer.from('/evil'), Buffer.from([0xff]), Buffer.from('.dll')]), 'x');
    writeFileSync(join(root, 'caf\u00e9\nx'), 'x');
    const paths = [
      ...walkFiles(root, {
        isExcluded: () => false,
        crossFilesystems: false,
        mountSkips: new Map(),
        onSkip: () => expect.unreachable(),
        onUnreadableDir: () => expect.unreachable(),
      }),
    ];
    const byteNames = paths.filter((p) => typeof p !== 'string');
    expect(byteNames).toEqual([
      Buffer.concat([bad, Buffer.from('/evil'), Buffer.from([0xff]), Buffer.from('.dll')]),
    ]);
    expect(paths.filter((p) => typeof p === 'string').sort()).toEqual([
      join(root, 'caf\u00e9\nx'),
      join(root, 'plain.txt'),
    ]);
  });

  it('walks a tree deeper than PATH_MAX, and reports every file with its whole path', () => {
    const root = deepTree({}, 'dd', 3000, {
      1000: { f1000: '' },
      2000: { f2000: '' },
      3000: { f3000: '', 'sub/last': '' },
    });
    const result = walk(root);
    expect(result.files).toEqual(
      [
        `${'dd/'.repeat(1000)}f1000`,
        `${'dd/'.repeat(2000)}f2000`,
        `${'dd/'.repeat(3000)}f3000`,
        `${'dd/'.repeat(3000)}sub/last`,
      ].sort(),
    );
    expect(result.skips).toEqual([]);
    expect(result.unreadable).toEqual([]);
  });

  it('follows a root that is a symlink to a folder, and nothing below it', () => {
    const root = tempTree({ 'real/a.txt': 'a', 'real/sub/b.txt': 'b', 'other/c.txt': 'c' });
    symlinkSync(join(root, 'other'), join(root, 'real/sub/link'));
    symlinkSync(join(root, 'real'), join(root, 'root-link'));
    expect(walk(join(root, 'root-link'))).toEqual({
      files: ['a.txt', 'sub/b.txt'],
      skips: [['symlink', 'sub/link']],
      unreadable: [],
    });
  });
});
