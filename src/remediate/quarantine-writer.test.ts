import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempTree } from '../testing/temp-tree.js';
import { identify } from './dir-handle.js';
import { QuarantineStore } from './quarantine.js';

/** Every path under `dir` (names as bytes, shown in hex where not UTF-8) with its kind and content hash. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (path: Buffer, key: string) => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) out[key] = `link ${readlinkSync(path)}`;
    else if (stat.isDirectory()) {
      out[key] = 'dir';
      for (const name of readdirSync(path, { encoding: 'buffer' }))
        visit(Buffer.concat([path, Buffer.from('/'), name]), `${key}/${name.toString('hex')}`);
    } else out[key] = createHash('sha256').update(readFileSync(path)).digest('hex');
  };
  visit(Buffer.from(dir), '.');
  return out;
}

/** An image with an install of two folders of three files, a victim folder with the same names, and a store. */
function setup() {
  const files: Record<string, string> = {};
  for (const d of ['d1', 'd2']) for (const f of ['f1', 'f2', 'f3']) files[`opt/app/${d}/${f}`] = `${d}/${f}`;
  const image = tempTree(files);
  const victim = tempTree({ f1: 'victim 1', f2: 'victim 2', f3: 'victim 3' });
  const state = tempTree();
  const store = new QuarantineStore(join(state, 'q'), join(state, 'quarantine.key'));
  return { image, install: join(image, 'opt/app'), victim, store };
}

for (const procFd of [true, false]) {
  describe(`quarantine writer (${procFd ? '/proc/self/fd handles' : 'ancestors re-checked, as without /proc'})`, () => {
    it('leaves a planned folder swapped for a symlink between plan and apply alone', () => {
      const { image, install, victim, store } = setup();
      const planned = { path: install, ...identify(install) };
      renameSync(install, `${install}.moved`);
      symlinkSync(victim, install);
      const before = tree(victim);
      const writer = store.begin('test', image, [install], { procFd });
      expect(writer.add(planned)).toBe(false);
      expect(writer.finish()).toBe('empty');
      expect(writer.leftInPlace).toEqual([
        { path: install, message: 'not what the plan saw (now a symlink with another inode); not touched' },
      ]);
      expect(tree(victim)).toEqual(before);
      expect(readlinkSync(install)).toBe(victim);
    });

    it('never follows a folder swapped for a symlink mid-walk, whether it is open or not yet reached', () => {
      const { image, install, victim, store } = setup();
      const before = tree(victim);
      const swapped: string[] = [];
      const writer = store.begin('test', image, [install], {
        procFd,
        onEntry: (path) => {
          // The first time the walk is inside a folder, swap it, and the other one (not yet reached) too.
          const folder = dirname(path);
          if (basename(dirname(folder)) !== 'app' || swapped.length) return;
          for (const name of ['d1', 'd2']) {
            renameSync(join(install, name), join(install, `${name}.moved`));
            symlinkSync(victim, join(install, name));
            swapped.push(name);
          }
        },
      });
      expect(writer.add({ path: install, ...identify(install) })).toBe(false);
      writer.finish();
      expect(tree(victim)).toEqual(before);
      expect(swapped).toHaveLength(2);
      const messages = writer.leftInPlace.map((l) => `${relative(image, l.path)}: ${l.message}`);
      expect(messages).toContain('opt/app: folder kept: something inside it was left in place');
      // The folder being walked was swapped: it is reported, not followed; the one not yet reached was a link by
      // then, so the link itself was quarantined.
      const replaced = messages.filter((m) => /: replaced while it was being (removed|worked on)/.test(m));
      expect(replaced.length).toBeGreaterThan(0);
      expect(new Set(replaced.map((m) => m.split(':')[0])).size).toBe(1);
      expect(replaced[0]).toMatch(/^opt\/app\/d[12]: /);
      expect(writer.items.filter((i) => i.kind === 'symlink').map((i) => i.target)).toEqual([victim]);
      expect(existsSync(install)).toBe(true);
    });

    it('quarantines and restores a file whose name is not UTF-8, byte for byte', () => {
      const { image, install, store } = setup();
      const name = Buffer.concat([
        Buffer.from(`${install}/d1/evil`),
        Buffer.from([0xff]),
        Buffer.from('.dll'),
      ]);
      writeFileSync(name, 'hidden');
      const before = tree(image);
      const writer = store.begin('test', image, [install], { procFd });
      expect(writer.add({ path: install, ...identify(install) })).toBe(true);
      expect(writer.finish()).toBe('complete');
      expect(existsSync(install)).toBe(false);
      const [entry] = store.list();
      expect(store.restore(entry?.id ?? '', { procFd }).refused).toEqual([]);
      expect(readFileSync(name, 'utf8')).toBe('hidden');
      expect(tree(image)).toEqual(before);
    });
  });
}

describe('quarantine store', () => {
  it('keeps its key 0600 and will not read a key others can', () => {
    const { image, install, store } = setup();
    store.begin('test', image, [install]).finish();
    expect(lstatSync(store.keyFile).mode & 0o777).toBe(0o600);
    chmodSync(store.keyFile, 0o644);
    expect(() => store.list()).toThrow(/must be a 32-byte file of this user's, mode 0600/);
  });

  it('writes stored copies only into the entry folder it opened, whatever is put at its path', () => {
    const { image, install, victim, store } = setup();
    const writer = store.begin('test', image, [install]);
    const entry = join(store.dir, writer.id);
    renameSync(entry, `${entry}.moved`);
    mkdirSync(entry);
    symlinkSync(victim, join(entry, 'payload'));
    const before = tree(victim);
    expect(writer.add({ path: install, ...identify(install) })).toBe(true);
    expect(writer.finish()).toBe('complete');
    expect(tree(victim)).toEqual(before);
    expect(readdirSync(join(`${entry}.moved`, 'payload'))).toHaveLength(6);
    expect(readFileSync(join(`${entry}.moved`, 'journal.ndjson'), 'utf8')).toMatch(/"t":"end"/);
  });

  it('appends to the journal it read only, whatever is put at its path while it restores', () => {
    const { image, install, victim, store } = setup();
    const writer = store.begin('test', image, [install]);
    writer.add({ path: install, ...identify(install) });
    writer.finish();
    const entry = join(store.dir, writer.id);
    const planted = join(victim, 'created-by-restore');
    let swapped = false;
    const result = store.restore(writer.id, {
      onItem: () => {
        if (swapped) return;
        swapped = true;
        renameSync(entry, `${entry}.moved`);
        mkdirSync(entry, 0o700);
        symlinkSync(planted, join(entry, 'journal.ndjson'));
      },
    });
    expect(swapped).toBe(true);
    expect(result.refused).toEqual([]);
    expect(existsSync(planted)).toBe(false);
    expect(readFileSync(join(`${entry}.moved`, 'journal.ndjson'), 'utf8')).toMatch(/"t":"restored"/);
  });
});
