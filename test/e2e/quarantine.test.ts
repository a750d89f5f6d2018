import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { restoreTempName } from '../../src/remediate/quarantine-restore.js';
import { ALICE_INSTALL, snapshot, windowsImage } from '../../src/testing/remediate-image.js';
import { runCli } from '../../src/testing/run-cli.js';
import { tempTree } from '../../src/testing/temp-tree.js';

const IS_ROOT = process.getuid?.() === 0;
const NOT_ROOT = 'mounting a tmpfs and mknod need root';

/** Mount points of the small tmpfs the tests use (a full disk, an image that is unmounted), removed after all. */
const mounts: string[] = [];
afterAll(() => {
  for (const dir of mounts.splice(0)) {
    try {
      execFileSync('umount', [dir], { stdio: 'ignore' });
    } catch {
      // unmounted by its test
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A new tmpfs of `size` (e.g. 4m), mounted on a new folder. */
function tmpfs(size: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'chainsweep-tmpfs-'));
  mounts.push(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return dir;
}

/** Fills the filesystem of `dir` with the file `dir/filler` until at most `room` bytes are left. */
function fill(dir: string, room: number): void {
  const keep = join(dir, 'room');
  writeFileSync(keep, Buffer.alloc(room));
  const fd = openSync(join(dir, 'filler'), 'w');
  const chunk = Buffer.alloc(64 << 10);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
  } finally {
    closeSync(fd);
  }
  unlinkSync(keep);
}

/** The stored copy (payload name) of each file item of an entry, by path relative to the image. */
async function payloads(quarantine: string, id: string, image: string, home: string) {
  const list = await runCli(['quarantine', 'list', '--quarantine', quarantine, '--format', 'json'], { home });
  const entries = JSON.parse(list.stdout) as { id: string; items: { path: string; payload?: string }[] }[];
  const out: Record<string, string> = {};
  for (const item of entries.find((e) => e.id === id)?.items ?? [])
    if (item.payload) out[item.path.slice(image.length + 1)] = item.payload;
  return out;
}

/** Quarantines the affected install of `image` with `home` as state folder; returns the entry's folder. */
async function quarantined(
  image: string,
  home: string,
  quarantine = join(tempTree(), 'q'),
): Promise<{ quarantine: string; id: string; entry: string }> {
  const applied = await runCli(['remediate', '--apply', '--root', image, '--quarantine', quarantine], {
    home,
  });
  const id = /as entry (\S+)/.exec(applied.stdout)?.[1] ?? '';
  expect(id, applied.stdout + applied.stderr).not.toBe('');
  return { quarantine, id, entry: join(quarantine, id) };
}

function restore(quarantine: string, id: string, home: string) {
  return runCli(['quarantine', 'restore', id, '--quarantine', quarantine], { home });
}

/** Rewrites the journal line that records `path`, with `edit`. */
function editJournalLine(entry: string, path: string, edit: (line: string) => string): string {
  const journal = join(entry, 'journal.ndjson');
  const lines = readFileSync(journal, 'utf8').split('\n');
  const i = lines.findIndex((line) => line.includes(`"path":${JSON.stringify(path)}`));
  expect(i, path).toBeGreaterThanOrEqual(0);
  const line = lines[i] ?? '';
  lines[i] = edit(line);
  writeFileSync(journal, lines.join('\n'));
  return line;
}

describe('chainsweep quarantine restore on a tampered store', () => {
  it('refuses each hand-edited or added journal line, one line each, and restores the rest', async () => {
    const image = windowsImage();
    const before = snapshot(image);
    const home = tempTree();
    const { quarantine, id, entry } = await quarantined(image, home);
    const install = join(image, ALICE_INSTALL);
    const outside = tempTree();
    // A path outside what was quarantined, a symlink aimed elsewhere, a setuid bit, and a line of its own.
    editJournalLine(entry, join(image, 'Users/alice/AppData/Roaming/3CXDesktopApp/config.json'), (line) =>
      line.replace(
        join(image, 'Users/alice/AppData/Roaming/3CXDesktopApp/config.json'),
        join(outside, 'evil'),
      ),
    );
    const link = editJournalLine(entry, join(install, 'app/link-out'), (line) =>
      line.replace('"target":"/etc/passwd"', '"target":"/etc/shadow"'),
    );
    editJournalLine(entry, join(install, '3CXDesktopApp.exe'), (line) =>
      line.replace(`"mode":${0o100751}`, `"mode":${0o104751}`),
    );
    writeFileSync(
      join(entry, 'journal.ndjson'),
      `${readFileSync(join(entry, 'journal.ndjson'), 'utf8').trimEnd()}\n${link
        .replace(join(install, 'app/link-out'), join(install, 'app/added'))
        .replace('"target":"/etc/passwd"', '"target":"/etc/shadow"')}\n`,
    );

    const restored = await restore(quarantine, id, home);
    expect(restored.code).toBe(3);
    const refused = restored.stderr.trimEnd().split('\n');
    expect(refused).toHaveLength(4);
    for (const path of [
      join(outside, 'evil'),
      join(install, 'app/link-out'),
      join(install, '3CXDesktopApp.exe'),
      join(install, 'app/added'),
    ]) {
      expect(refused.filter((l) => l.includes(path))).toEqual([
        `quarantine: refused ${path}: its journal line does not authenticate`,
      ]);
      expect(lstatSync(path, { throwIfNoEntry: false })).toBeUndefined();
    }
    expect(readdirSync(outside)).toEqual([]);
    // Everything else is back as it was.
    const after = snapshot(image);
    for (const path of [
      `${ALICE_INSTALL}/app/ffmpeg.dll`,
      `${ALICE_INSTALL}/app/resources/app.asar`,
      'Users/alice/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/3CX Desktop App.lnk',
    ])
      expect(after[path], path).toBe(before[path]);
  });

  it('refuses a stored file swapped for another and restores the rest', async () => {
    const image = windowsImage();
    const before = snapshot(image);
    const home = tempTree();
    const { quarantine, id, entry } = await quarantined(image, home);
    const payloads = readdirSync(join(entry, 'payload')).sort();
    expect(payloads.length).toBeGreaterThan(3);
    const [a, b] = payloads.map((p) => join(entry, 'payload', p));
    const content = readFileSync(a ?? '');
    writeFileSync(a ?? '', readFileSync(b ?? ''));
    writeFileSync(b ?? '', content);

    const restored = await restore(quarantine, id, home);
    expect(restored.code).toBe(3);
    const refused = restored.stderr.trimEnd().split('\n');
    expect(refused).toHaveLength(2);
    for (const line of refused)
      expect(line).toMatch(/^quarantine: refused \S.*: its stored copy does not authenticate$/);
    const after = snapshot(image);
    const wrong = Object.keys(before).filter((path) => after[path] !== before[path]);
    expect(wrong).toHaveLength(2);
    for (const path of wrong) expect(after[path]).toBeUndefined();
  });

  it('refuses to restore anything without the quarantine key', async () => {
    const image = windowsImage();
    const home = tempTree();
    const { quarantine, id } = await quarantined(image, home);
    const key = join(home, 'quarantine.key');
    expect(lstatSync(key).mode & 0o777).toBe(0o600);
    const moved = snapshot(image);
    rmSync(key);
    const restored = await restore(quarantine, id, home);
    expect(restored.code).toBe(2);
    expect(restored.stderr).toBe(
      `chainsweep: quarantine: no key at ${key} to authenticate the quarantine with; nothing restored\n`,
    );
    expect(snapshot(image)).toEqual(moved);
    expect(existsSync(key)).toBe(false);
  });
});

describe('chainsweep quarantine restore of special modes and links', () => {
  it('restores setuid, setgid and sticky bits after the owner, and hard links as links', async () => {
    const image = windowsImage();
    const install = join(image, ALICE_INSTALL);
    mkdirSync(join(install, 'bin'));
    mkdirSync(join(install, 'spool'));
    writeFileSync(join(install, 'bin/helper'), 'setuid helper');
    writeFileSync(join(install, 'bin/mailer'), 'setgid mailer');
    for (const path of ['bin', 'bin/helper', 'bin/mailer', 'spool'])
      chownSync(join(install, path), 1000, 1000);
    chmodSync(join(install, 'bin/helper'), 0o4755);
    chmodSync(join(install, 'bin/mailer'), 0o2711);
    chmodSync(join(install, 'spool'), 0o1777);
    linkSync(join(install, 'app/ffmpeg.dll'), join(install, 'bin/ffmpeg.dll'));
    const before = snapshot(image);
    const home = tempTree();
    const { quarantine, id } = await quarantined(image, home);
    expect(existsSync(install)).toBe(false);

    const restored = await restore(quarantine, id, home);
    expect(restored.code, restored.stderr).toBe(0);
    expect(snapshot(image)).toEqual(before);
    expect(lstatSync(join(install, 'bin/ffmpeg.dll')).ino).toBe(
      lstatSync(join(install, 'app/ffmpeg.dll')).ino,
    );
    expect(readlinkSync(join(install, 'app/link-out'))).toBe('/etc/passwd');
  });
});

describe('chainsweep quarantine restore on a full disk', () => {
  it.skipIf(!IS_ROOT)(
    `refuses a file it cannot write whole, leaves nothing short or temporary, and a later restore finishes (${NOT_ROOT})`,
    async () => {
      const disk = tmpfs('4m');
      const image = join(disk, 'image');
      mkdirSync(image);
      windowsImage(image);
      const install = join(image, ALICE_INSTALL);
      writeFileSync(join(install, 'a.bin'), randomBytes(1_000_000));
      writeFileSync(join(install, 'b.bin'), randomBytes(1_000_000));
      const before = snapshot(image);
      const home = tempTree();
      const { quarantine, id } = await quarantined(image, home);
      fill(disk, 500_000);

      const first = await restore(quarantine, id, home);
      expect(first.code, first.stderr).toBe(3);
      expect(first.stderr).toMatch(/: no space left on the device$/m);
      const partly = snapshot(image);
      for (const [path, state] of Object.entries(partly)) {
        expect(path).not.toContain('.chainsweep-restore-');
        if (state.startsWith('file')) expect(state, path).toBe(before[path]);
      }
      rmSync(join(disk, 'filler'));
      const second = await restore(quarantine, id, home);
      expect(second.code, second.stderr).toBe(0);
      expect(snapshot(image)).toEqual(before);
    },
  );
});

describe('chainsweep quarantine folder and entry handles', () => {
  it('refuses a quarantine folder others can write, for apply and for restore', async () => {
    const image = windowsImage();
    const before = snapshot(image);
    const home = tempTree();
    const open = join(tempTree(), 'q');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const applied = await runCli(['remediate', '--apply', '--root', image, '--quarantine', open], { home });
    expect(applied.code).toBe(2);
    expect(applied.stderr).toBe(
      `chainsweep: quarantine: ${open} must be a folder of this user's that no one else can write (it is uid ${process.getuid?.()}, mode 777); nothing moved\n`,
    );
    expect(snapshot(image)).toEqual(before);

    const { quarantine, id } = await quarantined(image, home);
    const moved = snapshot(image);
    chmodSync(quarantine, 0o770);
    const restored = await restore(quarantine, id, home);
    expect(restored.code).toBe(2);
    expect(restored.stderr).toMatch(
      /must be a folder of this user's that no one else can write .*nothing restored\n$/,
    );
    expect(snapshot(image)).toEqual(moved);
  });
});

describe('chainsweep quarantine journal chain', () => {
  it('refuses an entry whose journal lost lines in the middle, restoring and deleting nothing', async () => {
    const image = windowsImage();
    const home = tempTree();
    const { quarantine, id, entry } = await quarantined(image, home);
    const journal = join(entry, 'journal.ndjson');
    const lines = readFileSync(journal, 'utf8').split('\n');
    lines.splice(3, 2);
    writeFileSync(journal, lines.join('\n'));
    const moved = snapshot(image);
    const stored = readdirSync(join(entry, 'payload')).sort();

    const list = await runCli(['quarantine', 'list', '--quarantine', quarantine], { home });
    expect(list.stdout).toMatch(new RegExp(`^${id}  tampered .*\\(lines are missing before line 4\\)$`, 'm'));
    const restored = await restore(quarantine, id, home);
    expect(restored.code).toBe(2);
    expect(restored.stderr).toBe(
      `chainsweep: quarantine: entry ${id} has been tampered with: lines are missing before line 4 of its journal; nothing restored\n`,
    );
    expect(snapshot(image)).toEqual(moved);
    expect(readdirSync(join(entry, 'payload')).sort()).toEqual(stored);
  });

  it('keeps the stored copies no journal line names when the journal was cut short', async () => {
    const image = windowsImage();
    const home = tempTree();
    const { quarantine, id, entry } = await quarantined(image, home);
    const named = await payloads(quarantine, id, image, home);
    const journal = join(entry, 'journal.ndjson');
    // The first file's line and what came before it stay.
    const lines = readFileSync(journal, 'utf8').split('\n');
    const firstFile = lines.findIndex((line) => line.includes('"payload"'));
    writeFileSync(journal, `${lines.slice(0, firstFile + 1).join('\n')}\n`);
    const kept = Object.values(named).filter((p) => !lines[firstFile]?.includes(`"payload":"${p}"`));
    expect(kept.length).toBeGreaterThan(2);

    const restored = await restore(quarantine, id, home);
    expect(restored.code, restored.stderr).toBe(0);
    expect(readdirSync(join(entry, 'payload')).sort()).toEqual(kept.sort());
  });
});

describe('chainsweep quarantine restore of hostile stored copies', () => {
  it('refuses a FIFO, a device or a huge sparse file as a stored copy, without hanging or writing', async () => {
    const image = windowsImage();
    const before = snapshot(image);
    const home = tempTree();
    const { quarantine, id, entry } = await quarantined(image, home);
    const named = await payloads(quarantine, id, image, home);
    const stored = (path: string) => join(entry, 'payload', named[path] ?? '');
    const exePath = `${ALICE_INSTALL}/3CXDesktopApp.exe`;
    const dll = `${ALICE_INSTALL}/app/ffmpeg.dll`;
    const asar = `${ALICE_INSTALL}/app/resources/app.asar`;
    rmSync(stored(exePath));
    execFileSync('mkfifo', [stored(exePath)]);
    truncateSync(stored(dll), 4e9);
    if (IS_ROOT) {
      rmSync(stored(asar));
      execFileSync('mknod', [stored(asar), 'c', '1', '5']); // /dev/zero
    }

    const restored = await runCli(['quarantine', 'restore', id, '--quarantine', quarantine], {
      home,
      timeoutMs: 20_000,
    });
    expect(restored.code, restored.stderr).toBe(3);
    const refused = restored.stderr.trimEnd().split('\n').sort();
    expect(refused).toEqual(
      [
        `quarantine: refused ${join(image, exePath)}: its stored copy is not a regular file`,
        `quarantine: refused ${join(image, dll)}: its stored copy does not authenticate`,
        ...(IS_ROOT
          ? [`quarantine: refused ${join(image, asar)}: its stored copy is not a regular file`]
          : []),
      ].sort(),
    );
    const after = snapshot(image);
    for (const path of [exePath, dll, ...(IS_ROOT ? [asar] : [])]) expect(after[path], path).toBeUndefined();
    for (const path of Object.keys(after)) expect(path).not.toContain('.chainsweep-restore-');
    for (const [path, state] of Object.entries(after))
      if (state.startsWith('file')) expect(state, path).toBe(before[path]);
  });

  it('removes what a restore killed part-way left under its temporary names', async () => {
    const image = windowsImage();
    const before = snapshot(image);
    const home = tempTree();
    const { quarantine, id } = await quarantined(image, home);
    const list = await runCli(['quarantine', 'list', '--quarantine', quarantine, '--format', 'json'], {
      home,
    });
    const [{ items }] = JSON.parse(list.stdout) as [{ items: { n: number; path: string }[] }];
    const exePath = join(image, ALICE_INSTALL, '3CXDesktopApp.exe');
    const n = items.find((i) => i.path === exePath)?.n ?? -1;
    mkdirSync(join(image, ALICE_INSTALL), { mode: 0o700 });
    writeFileSync(join(image, ALICE_INSTALL, restoreTempName(id, n)), 'half a file');

    const restored = await restore(quarantine, id, home);
    expect(restored.code, restored.stderr).toBe(0);
    expect(snapshot(image)).toEqual(before);
  });
});

describe('chainsweep quarantine list of unreadable entries', () => {
  it('lists an entry whose journal is a FIFO or huge as unreadable, and the others as they are', async () => {
    const home = tempTree();
    const quarantine = join(tempTree(), 'q');
    const good = await quarantined(windowsImage(), home, quarantine);
    const bad = await quarantined(windowsImage(), home, quarantine);
    const journal = join(bad.entry, 'journal.ndjson');
    rmSync(journal);
    execFileSync('mkfifo', [journal]);
    const list = async () => {
      const result = await runCli(['quarantine', 'list', '--quarantine', quarantine], {
        home,
        timeoutMs: 20_000,
      });
      expect(result.code, result.stderr).toBe(0);
      return result.stdout;
    };
    expect(await list()).toMatch(
      new RegExp(`^${bad.id}  unreadable: ${journal} is not a regular file$`, 'm'),
    );
    expect(await list()).toMatch(new RegExp(`^${good.id}  complete +10 items`, 'm'));
    rmSync(journal);
    writeFileSync(journal, '');
    truncateSync(journal, 3 * 2 ** 30);
    const text = await list();
    expect(text).toMatch(new RegExp(`^${bad.id}  unreadable: ${journal} is larger than \\d+ bytes$`, 'm'));
    expect(text).toMatch(new RegExp(`^${good.id}  complete +10 items`, 'm'));
    const restored = await restore(quarantine, bad.id, home);
    expect(restored.code).toBe(2);
    expect(restored.stderr).toBe(`chainsweep: quarantine: ${journal} is larger than ${128 << 20} bytes\n`);
  });
});

describe('chainsweep quarantine restore onto an image no longer mounted', () => {
  it.skipIf(!IS_ROOT)(`refuses to restore onto the empty mount point (${NOT_ROOT})`, async () => {
    const disk = tmpfs('8m');
    windowsImage(disk);
    const home = tempTree();
    const { quarantine, id } = await quarantined(disk, home);
    execFileSync('umount', [disk]);
    const restored = await restore(quarantine, id, home);
    expect(restored.code).toBe(2);
    expect(restored.stderr).toBe(
      `chainsweep: quarantine: ${disk} is not the folder the entry was taken from (another device or inode: is the image mounted there?); nothing restored\n`,
    );
    expect(readdirSync(disk)).toEqual([]);
  });
});
