import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ALICE_INSTALL,
  exe,
  runCliAsNobody,
  snapshot,
  windowsImage,
} from '../../src/testing/remediate-image.js';
import { CLI, runCli } from '../../src/testing/run-cli.js';
import { tempTree } from '../../src/testing/temp-tree.js';

/** Lines in the journal of the first entry in `quarantine` (0 while there is none). */
function journalLines(quarantine: string): number {
  const entries = existsSync(quarantine) ? readdirSync(quarantine).filter((n) => /^\d{8}T/.test(n)) : [];
  const journal = entries[0] ? join(quarantine, entries[0], 'journal.ndjson') : '';
  return journal && existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').length : 0;
}

interface Entry {
  id: string;
  status: string;
  items: { path: string }[];
}

/** The entries of `quarantine`, as `quarantine list --format json` gives them. */
async function listEntries(quarantine: string, home?: string): Promise<Entry[]> {
  const list = await runCli(
    ['quarantine', 'list', '--quarantine', quarantine, '--format', 'json'],
    home ? { home } : {},
  );
  expect(list.code, list.stderr).toBe(0);
  return JSON.parse(list.stdout) as Entry[];
}

/** Starts `remediate --apply` on `image` with `home` as state folder; resolves with its exit code and output. */
function startApply(image: string, quarantine: string, home: string) {
  const child = spawn(
    process.execPath,
    [CLI, 'remediate', '--apply', '--root', image, '--quarantine', quarantine],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', CHAINSWEEP_HOME: home },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}

function readlinkOrUndefined(path: string): string | undefined {
  return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ? readlinkSync(path) : undefined;
}

/** Waits until `ready()` holds, polling (a loaded machine gets up to a minute). */
async function waitFor(ready: () => boolean): Promise<void> {
  for (let tries = 0; tries < 2400 && !ready(); tries++) await new Promise((r) => setTimeout(r, 25));
}

describe('chainsweep remediate (end to end)', () => {
  it('plans the removal of the affected per-user install only, refusing paths reached through symlinks', async () => {
    const image = windowsImage();
    const result = await runCli(['remediate', '--root', image, '--format', 'json']);
    expect(result.code).toBe(1);
    const { plan } = JSON.parse(result.stdout) as {
      plan: { steps: { action: string; target: string }[]; refused: { path: string; reason: string }[] }[];
    };
    expect(plan).toHaveLength(1);
    const steps = plan[0]?.steps.map(
      (s) => `${s.action} ${s.target.startsWith(image) ? s.target.slice(image.length) : s.target}`,
    );
    expect(steps).toEqual([
      'quarantine /Users/alice/AppData/Local/Programs/3CXDesktopApp',
      'quarantine /Users/alice/AppData/Roaming/3CXDesktopApp',
      'quarantine /Users/alice/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/3CX Desktop App.lnk',
      'run "C:\\Users\\alice\\AppData\\Local\\Programs\\3CXDesktopApp\\Uninstall 3CXDesktopApp.exe" /currentuser /S',
      'registry HKU\\alice\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\3CXDesktopApp',
    ]);
    expect(plan[0]?.refused.map((r) => [r.path.slice(image.length), r.reason])).toEqual([
      [
        '/Users/alice/Desktop/3CX Desktop App.lnk',
        `reached through the symlink ${join(image, 'Users/alice/Desktop')}`,
      ],
    ]);
  });

  it('moves the planned files into quarantine and restores them byte for byte, with modes and times', async () => {
    const image = windowsImage();
    const before = snapshot(image);
    const quarantine = join(tempTree(), 'q');
    const applied = await runCli(['remediate', '--apply', '--root', image, '--quarantine', quarantine]);
    expect(applied.stdout).toMatch(/Quarantined 10 files, folders and links as entry (\S+)/);
    expect(applied.code).toBe(3); // the refused shortcut is reported
    expect(existsSync(join(image, 'Users/alice/AppData/Local/Programs/3CXDesktopApp'))).toBe(false);
    expect(existsSync(join(image, 'Users/bob/AppData/Local/Programs/3CXDesktopApp/3CXDesktopApp.exe'))).toBe(
      true,
    );
    expect(readFileSync(join(image, 'Users/alice/Documents/notes.txt'), 'utf8')).toBe('keep me');
    expect(readFileSync('/etc/passwd').length).toBeGreaterThan(0);

    // Stored so it cannot run and is not the original bytes.
    const [entry] = await listEntries(quarantine);
    const stored = readdirSync(join(quarantine, entry?.id ?? '', 'payload'));
    for (const name of stored)
      expect(lstatSync(join(quarantine, entry?.id ?? '', 'payload', name)).mode & 0o111).toBe(0);
    const original = exe('18.12.416');
    for (const name of stored)
      expect(readFileSync(join(quarantine, entry?.id ?? '', 'payload', name)).equals(original)).toBe(false);

    const list = await runCli(['quarantine', 'list', '--quarantine', quarantine]);
    expect(list.stdout).toMatch(new RegExp(`^${entry?.id}  complete +10 items`));
    const restore = await runCli(['quarantine', 'restore', entry?.id ?? '', '--quarantine', quarantine]);
    expect(restore.code).toBe(0);
    expect(snapshot(image)).toEqual(before);
    expect(
      (await runCli(['quarantine', 'restore', entry?.id ?? '', '--quarantine', quarantine])).stderr,
    ).toMatch(/already restored/);
  });

  it('leaves every file either in place or in quarantine when killed mid-apply, and restores what moved', async () => {
    const image = windowsImage();
    const bulk = join(image, 'Users/alice/AppData/Local/Programs/3CXDesktopApp/app/locales');
    mkdirSync(bulk);
    for (let i = 0; i < 3000; i++) writeFileSync(join(bulk, `f${i}.pak`), `locale file ${i} `.repeat(200));
    const before = snapshot(image);
    const quarantine = join(tempTree(), 'q');
    const home = tempTree();
    const { child, done } = startApply(image, quarantine, home);
    // Kill it once it has moved some files.
    await waitFor(() => journalLines(quarantine) > 50);
    child.kill('SIGKILL');
    await done;

    const [entry] = await listEntries(quarantine, home);
    expect(entry?.status).toBe('incomplete');
    const moved = new Set(entry?.items.map((i) => relative(image, i.path)));
    expect(moved.size).toBeGreaterThan(40);
    for (const [path, state] of Object.entries(before)) {
      if (moved.has(path)) continue;
      // Not recorded as moved: it must still be exactly where it was.
      expect(
        existsSync(join(image, path)) ||
          lstatSync(join(image, path), { throwIfNoEntry: false }) !== undefined,
        path,
      ).toBe(true);
      if (state.startsWith('file')) expect(snapshot(join(image, path))['.'], path).toBe(state);
    }
    const restore = await runCli(['quarantine', 'restore', entry?.id ?? '', '--quarantine', quarantine], {
      home,
    });
    expect(restore.code, restore.stderr).toBe(0);
    expect(snapshot(image)).toEqual(before);
  });

  it('never touches what a folder is swapped for while it is being removed, and says what it left', async () => {
    const image = windowsImage();
    const bulk = join(image, ALICE_INSTALL, 'app/locales');
    const victim = tempTree();
    mkdirSync(bulk);
    for (let i = 0; i < 3000; i++) {
      writeFileSync(join(bulk, `f${i}.pak`), `locale file ${i} `.repeat(200));
      writeFileSync(join(victim, `f${i}.pak`), 'not part of the image');
    }
    const victimBefore = snapshot(victim);
    const quarantine = join(tempTree(), 'q');
    const home = tempTree();
    const { done } = startApply(image, quarantine, home);
    // Mid-walk, the folder being emptied is moved aside and a link to the victim put in its place.
    await waitFor(() => journalLines(quarantine) > 50);
    renameSync(bulk, `${bulk}.moved`);
    symlinkSync(victim, bulk);
    const applied = await done;

    expect(snapshot(victim)).toEqual(victimBefore);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(3);
    expect(applied.stdout).toContain(
      `left in place: ${bulk}: replaced while it was being removed (now a symlink); not followed`,
    );
    expect(readlinkOrUndefined(bulk)).toBe(victim);
  });

  it('loses no line of a log the app appends to while it is being removed', async () => {
    const image = windowsImage();
    const log = join(image, 'Users/alice/AppData/Roaming/3CXDesktopApp/app.log');
    writeFileSync(log, '');
    // The app: appends numbered lines, opening its log for each (never creating it), until the log is gone.
    const app = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs'); const log = process.argv[1]; let n = 0;
         for (;;) {
           let fd; try { fd = fs.openSync(log, fs.constants.O_WRONLY | fs.constants.O_APPEND); } catch { break; }
           fs.writeSync(fd, 'line ' + n + '\\n'); fs.closeSync(fd); n++;
           Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, n % 4 ? 0 : 1);
         }
         process.stdout.write(String(n));`,
        log,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let written = '';
    app.stdout.on('data', (d) => {
      written += d;
    });
    const appDone = new Promise((resolve) => app.on('exit', resolve));
    await waitFor(() => readFileSync(log, 'utf8').length > 1000);
    const home = tempTree();
    const quarantine = join(tempTree(), 'q');
    const applied = await runCli(['remediate', '--apply', '--root', image, '--quarantine', quarantine], {
      home,
    });
    await appDone;
    expect(applied.code, applied.stderr).toBe(3);
    const [entry] = await listEntries(quarantine, home);
    const restore = await runCli(['quarantine', 'restore', entry?.id ?? '', '--quarantine', quarantine], {
      home,
    });
    expect(restore.code, restore.stderr).toBe(0);
    const lines = Number(written);
    expect(lines).toBeGreaterThan(100);
    expect(readFileSync(log, 'utf8')).toBe(Array.from({ length: lines }, (_, i) => `line ${i}\n`).join(''));
  });
});

describe('chainsweep remediate without the rights to remove', () => {
  /** An image of root's that nobody can read, and a state folder of nobody's. */
  function imageForNobody(): { image: string; home: string; quarantine: string } {
    const image = windowsImage();
    chmodSync(image, 0o755);
    chmodSync(join(image, ALICE_INSTALL, '3CXDesktopApp.exe'), 0o755); // the plan must read it to trust it
    const home = tempTree();
    chownSync(home, 65534, 65534);
    return { image, home, quarantine: join(home, 'q') };
  }

  it('moves nothing as a user who may not, says so, and journals that nothing moved', async () => {
    const { image, home, quarantine } = imageForNobody();
    const before = snapshot(image);
    const applied = await runCliAsNobody(
      ['remediate', '--apply', '--root', image, '--quarantine', quarantine],
      home,
    );
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(3);
    expect(applied.stdout).toMatch(/Quarantined 0 files, folders and links/);
    expect(applied.stdout).toContain(
      `left in place: ${join(image, ALICE_INSTALL, '3CXDesktopApp.exe')}: permission denied`,
    );
    expect(snapshot(image)).toEqual(before);
    const list = await runCliAsNobody(
      ['quarantine', 'list', '--quarantine', quarantine, '--format', 'json'],
      home,
    );
    const [entry] = JSON.parse(list.stdout) as Entry[];
    expect(entry?.status).toBe('empty');
    expect(entry?.items).toEqual([]);
  });

  it('journals exactly what moved when one folder cannot be emptied, and restores it', async () => {
    const { image, home, quarantine } = imageForNobody();
    // Everything of the install is nobody's except app/resources.
    const install = join(image, ALICE_INSTALL);
    for (const path of [
      '',
      '3CXDesktopApp.exe',
      'app',
      'app/ffmpeg.dll',
      'app/link-out',
      'app/resources/app.asar',
    ])
      lchownSync(join(install, path), 65534, 65534);
    for (const path of ['', '..'])
      chownSync(join(image, 'Users/alice/AppData/Roaming/3CXDesktopApp', path), 65534, 65534);
    chownSync(join(image, 'Users/alice/AppData/Roaming/3CXDesktopApp/config.json'), 65534, 65534);
    chownSync(join(install, '..'), 65534, 65534);
    const before = snapshot(image);
    const applied = await runCliAsNobody(
      ['remediate', '--apply', '--root', image, '--quarantine', quarantine],
      home,
    );
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(3);
    expect(applied.stdout).toContain(
      `left in place: ${join(install, 'app/resources/app.asar')}: permission denied`,
    );
    expect(existsSync(join(install, '3CXDesktopApp.exe'))).toBe(false);
    const list = await runCliAsNobody(
      ['quarantine', 'list', '--quarantine', quarantine, '--format', 'json'],
      home,
    );
    const [entry] = JSON.parse(list.stdout) as Entry[];
    expect(entry?.status).toBe('partial');
    expect(entry?.items.map((i) => relative(image, i.path)).sort()).toEqual([
      `${ALICE_INSTALL}/3CXDesktopApp.exe`,
      `${ALICE_INSTALL}/app/ffmpeg.dll`,
      `${ALICE_INSTALL}/app/link-out`,
      'Users/alice/AppData/Roaming/3CXDesktopApp',
      'Users/alice/AppData/Roaming/3CXDesktopApp/config.json',
    ]);
    const restore = await runCliAsNobody(
      ['quarantine', 'restore', entry?.id ?? '', '--quarantine', quarantine],
      home,
    );
    expect(restore.code, restore.stderr).toBe(0);
    expect(snapshot(image)).toEqual(before);
  });
});

describe('chainsweep remediate on a macOS image', () => {
  it('plans the bundle, every user support folder, cache and launch agent of the affected app', async () => {
    const plist = readFileSync(
      new URL('../../src/collectors/parsers/testdata/3cx-Info.binary.plist', import.meta.url),
    );
    const image = tempTree({
      'System/Library/CoreServices/SystemVersion.plist':
        '<plist version="1.0"><dict><key>ProductVersion</key><string>13.2</string></dict></plist>',
      'Applications/3CX Desktop App.app/Contents/Info.plist': plist,
      'Applications/3CX Desktop App.app/Contents/Frameworks/Electron Framework.framework/Versions/A/Libraries/libffmpeg.dylib':
        'dylib',
      'Users/dave/Library/Application Support/3CX Desktop App/UpdateAgent': 'agent',
      'Users/dave/Library/Application Support/3CX Desktop App/.main_storage': 'state',
      'Users/dave/Library/Caches/com.electron.3cx-desktop-app/Cache.db': 'cache',
      'Users/dave/Library/LaunchAgents/com.3cx.updateagent.plist': 'launch agent',
      'Users/dave/Library/LaunchAgents/com.apple.unrelated.plist': 'keep',
      'Users/erin/Library/Preferences/com.electron.3cx-desktop-app.plist': 'prefs',
    });
    const result = await runCli(['remediate', '--root', image, '--format', 'json']);
    const { plan } = JSON.parse(result.stdout) as { plan: { steps: { action: string; target: string }[] }[] };
    expect(
      plan.flatMap((p) => p.steps.map((s) => `${s.action} ${s.target.slice(image.length)}`)).sort(),
    ).toEqual([
      'quarantine /Applications/3CX Desktop App.app',
      'quarantine /Users/dave/Library/Application Support/3CX Desktop App',
      'quarantine /Users/dave/Library/Caches/com.electron.3cx-desktop-app',
      'quarantine /Users/dave/Library/LaunchAgents/com.3cx.updateagent.plist',
      'quarantine /Users/erin/Library/Preferences/com.electron.3cx-desktop-app.plist',
    ]);
  });
});

describe('chainsweep remediate at the limits', () => {
  const mounts: string[] = [];
  afterAll(() => {
    for (const dir of mounts.splice(0)) {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(process.getuid?.() !== 0)(
    'leaves no partial copy when the quarantine fills up, and says why for each file it kept (mounting a tmpfs needs root)',
    async () => {
      const disk = mkdtempSync(join(tmpdir(), 'chainsweep-tmpfs-'));
      mounts.push(disk);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', disk]);
      const image = windowsImage();
      const install = join(image, ALICE_INSTALL);
      for (const name of ['a.bin', 'b.bin', 'c.bin'])
        writeFileSync(join(install, name), randomBytes(1_500_000));
      const before = snapshot(image);
      const quarantine = join(disk, 'q');
      const home = tempTree();
      const applied = await runCli(['remediate', '--apply', '--root', image, '--quarantine', quarantine], {
        home,
      });
      expect(applied.code).toBe(3);
      const left = applied.stdout.split('\n').filter((line) => line.startsWith('  left in place: '));
      expect(left.some((line) => line.endsWith('.bin: no space left on the device'))).toBe(true);
      for (const line of left) expect(line).not.toMatch(/EEXIST/);
      const [entry] = await listEntries(quarantine, home);
      const named = (entry?.items ?? []).flatMap((i) => ('payload' in i ? [String(i.payload)] : []));
      expect(readdirSync(join(quarantine, entry?.id ?? '', 'payload')).sort()).toEqual(named.sort());
      const restore = await runCli(['quarantine', 'restore', entry?.id ?? '', '--quarantine', quarantine], {
        home,
      });
      expect(restore.code, restore.stderr).toBe(0);
      expect(snapshot(image)).toEqual(before);
    },
  );

  it('removes and restores a tree 3,000 folders deep', async () => {
    const image = windowsImage();
    const install = join(image, ALICE_INSTALL);
    execFileSync(process.execPath, [
      '-e',
      `const fs = require('node:fs'); process.chdir(process.argv[1]);
       for (let i = 0; i < 3000; i++) { fs.mkdirSync('d'); process.chdir('d'); }
       fs.writeFileSync('leaf', 'leaf');`,
      install,
    ]);
    // find walks any depth: what it lists (kind, mode, owner, size, and file times to the millisecond) is compared.
    const listing = () =>
      createHash('sha256')
        .update(
          execFileSync('find', ['.', '-printf', '%y %m %U %s %T@ %P\\n'], { cwd: image, maxBuffer: 1 << 30 })
            .toString()
            .split('\n')
            .map((line) => {
              const [kind, mode, uid, size, time, ...path] = line.split(' ');
              const ms = kind === 'f' ? Math.round(Number(time) * 1000) : '';
              return [kind, mode, uid, size, ms, ...path].join(' ');
            })
            .sort()
            .join('\n'),
        )
        .digest('hex');
    const before = listing();
    const quarantine = join(tempTree(), 'q');
    const home = tempTree();
    const applied = await runCli(['remediate', '--apply', '--root', image, '--quarantine', quarantine], {
      home,
      timeoutMs: 120_000,
    });
    expect(applied.stdout).not.toMatch(/call stack/);
    expect(applied.stdout).toMatch(/Quarantined \d+ files, folders and links/);
    expect(existsSync(install)).toBe(false);
    const [entry] = await listEntries(quarantine, home);
    const restore = await runCli(['quarantine', 'restore', entry?.id ?? '', '--quarantine', quarantine], {
      home,
      timeoutMs: 120_000,
    });
    expect(restore.code, restore.stderr).toBe(0);
    expect(listing()).toBe(before);
    execFileSync('rm', ['-rf', install]); // rm walks any depth, as the temporary folders' cleanup does not
  }, 300_000);
});
