import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QuarantineStore } from '../../src/remediate/quarantine.js';
import { buildPe, versionInfo } from '../../src/testing/pe-builder.js';
import { buildHive, uninstallHive } from '../../src/testing/regf-builder.js';
import { CLI, runCli } from '../../src/testing/run-cli.js';
import { tempTree } from '../../src/testing/temp-tree.js';

const exe = (version: string) =>
  buildPe({
    version: versionInfo({
      fileVersion: `${version}.0`,
      strings: { CompanyName: '3CX', ProductName: '3CX Desktop App', ProductVersion: version },
    }),
  });
/** Every file, folder and link under `dir`: content hash, mode and mtime, to compare a tree before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (path: string) => {
    const stat = lstatSync(path);
    const key = relative(dir, path) || '.';
    if (stat.isSymbolicLink()) out[key] = `link ${readlinkSync(path)}`;
    else if (stat.isDirectory()) {
      out[key] = `dir ${(stat.mode & 0o7777).toString(8)}`;
      for (const name of readdirSync(path)) visit(join(path, name));
    } else
      out[key] =
        `file ${(stat.mode & 0o7777).toString(8)} ${Math.round(stat.mtimeMs)} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
  };
  visit(dir);
  return out;
}

function windowsImage(): string {
  const image = tempTree({
    'Windows/System32/config/SOFTWARE': buildHive({ name: 'ROOT' }),
    'Users/alice/AppData/Local/Programs/3CXDesktopApp/3CXDesktopApp.exe': exe('18.12.416'),
    'Users/alice/AppData/Local/Programs/3CXDesktopApp/app/ffmpeg.dll': buildPe({ dll: true }),
    'Users/alice/AppData/Local/Programs/3CXDesktopApp/app/resources/app.asar': 'asar archive',
    'Users/alice/AppData/Roaming/3CXDesktopApp/config.json': '{"user":"alice"}',
    'Users/alice/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/3CX Desktop App.lnk': 'shortcut',
    'Users/alice/Documents/notes.txt': 'keep me',
    'Users/alice/NTUSER.DAT': uninstallHive(
      {
        '3CXDesktopApp': {
          DisplayName: '3CX Desktop App',
          DisplayVersion: '18.12.416',
          Publisher: '3CX Ltd',
          InstallLocation: 'C:\\Users\\alice\\AppData\\Local\\Programs\\3CXDesktopApp',
          QuietUninstallString:
            '"C:\\Users\\alice\\AppData\\Local\\Programs\\3CXDesktopApp\\Uninstall 3CXDesktopApp.exe" /currentuser /S',
        },
      },
      { user: true },
    ),
    'Users/bob/AppData/Local/Programs/3CXDesktopApp/3CXDesktopApp.exe': exe('18.12.422'),
    'Users/bob/AppData/Roaming/3CXDesktopApp/config.json': '{"user":"bob"}',
  });
  chmodSync(join(image, 'Users/alice/AppData/Local/Programs/3CXDesktopApp/3CXDesktopApp.exe'), 0o751);
  utimesSync(
    join(image, 'Users/alice/AppData/Roaming/3CXDesktopApp/config.json'),
    new Date('2023-03-29T10:00:00Z'),
    new Date('2023-03-29T10:00:00Z'),
  );
  symlinkSync('/etc/passwd', join(image, 'Users/alice/AppData/Local/Programs/3CXDesktopApp/app/link-out'));
  // alice's Desktop is a link out of the image: a shortcut "on" it must not be touched.
  const outside = tempTree({ '3CX Desktop App.lnk': 'outside the image' });
  symlinkSync(outside, join(image, 'Users/alice/Desktop'));
  return image;
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
    const [entry] = new QuarantineStore(quarantine).list();
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
    const child = spawn(
      process.execPath,
      [CLI, 'remediate', '--apply', '--root', image, '--quarantine', quarantine],
      { stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Kill it once it has moved some files (the poll allows a loaded machine up to a minute).
    for (let tries = 0; tries < 2400; tries++) {
      await new Promise((r) => setTimeout(r, 25));
      const entries = existsSync(quarantine) ? readdirSync(quarantine) : [];
      const journal = entries[0] ? join(quarantine, entries[0], 'journal.ndjson') : '';
      if (journal && existsSync(journal) && readFileSync(journal, 'utf8').split('\n').length > 50) break;
    }
    child.kill('SIGKILL');
    await exited;

    const [entry] = new QuarantineStore(quarantine).list();
    expect(entry?.status).toBe('incomplete');
    const moved = new Set(entry?.items.map((i) => relative(image, i.path)));
    expect(moved.size).toBeGreaterThan(50);
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
    const restore = await runCli(['quarantine', 'restore', entry?.id ?? '', '--quarantine', quarantine]);
    expect(restore.code).toBe(0);
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
