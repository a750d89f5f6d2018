import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALICE_INSTALL, snapshot, windowsImage } from '../../src/testing/remediate-image.js';
import { runCli } from '../../src/testing/run-cli.js';
import { tempTree } from '../../src/testing/temp-tree.js';

/** Quarantines the affected install of `image` with `home` as state folder; returns the entry's folder. */
async function quarantined(
  image: string,
  home: string,
): Promise<{ quarantine: string; id: string; entry: string }> {
  const quarantine = join(tempTree(), 'q');
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
