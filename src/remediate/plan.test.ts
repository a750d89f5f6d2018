import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InstalledApp, OsFamily } from '../core/app.js';
import type { PackedApp } from '../core/intel.js';
import { judgeApps } from '../matchers/app-verdicts.js';
import { AppsFileSchema } from '../packs/pack-content.js';
import { buildPe, versionInfo } from '../testing/pe-builder.js';
import { tempTree } from '../testing/temp-tree.js';
import { planRemediation } from './plan.js';

const PACK: PackedApp[] = AppsFileSchema.parse(
  JSON.parse(readFileSync(new URL('../../packs/3cx-2023/apps.json', import.meta.url), 'utf8')),
).apps.map((a) => ({ ...a, packId: '3cx-2023' }));

const exe = (version: string, name = '3CX Desktop App') =>
  buildPe({
    version: versionInfo({
      fileVersion: `${version}.0`,
      strings: { CompanyName: '3CX', ProductName: name, ProductVersion: version },
    }),
  });
const infoPlist = (id: string, version: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>
<key>CFBundleIdentifier</key><string>${id}</string>
<key>CFBundleName</key><string>3CX Desktop App</string>
<key>CFBundleShortVersionString</key><string>${version}</string>
</dict></plist>`;

/** The plan for `apps` (claims as a collector would make them) under `root`, as `quarantine path` and `refused path: reason`. */
function planFor(root: string, os: OsFamily, apps: InstalledApp[]) {
  const { verdicts } = judgeApps(apps, PACK, os);
  const plan = planRemediation({ os, apps, verdicts, findings: [], coverage: [] }, PACK, root);
  const rel = (p: string) => (p.startsWith(root) ? p.slice(root.length) : p);
  return {
    steps: plan.flatMap((i) => i.steps.filter((s) => s.action === 'quarantine').map((s) => rel(s.target))),
    refused: plan.flatMap((i) => i.refused.map((r) => `${rel(r.path)}: ${r.reason}`)),
    other: plan.flatMap((i) => i.steps.filter((s) => s.action !== 'quarantine').map((s) => s.action)),
  };
}

const key = (installLocation: string, user?: string): InstalledApp => ({
  name: '3CX Desktop App',
  version: '18.12.416',
  publisher: '3CX Ltd',
  source: 'windows-uninstall',
  location: `HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\${installLocation}`,
  installLocation,
  ...(user ? { user } : {}),
});

describe('planRemediation on claims of a macOS bundle', () => {
  const bundle = (installLocation: string, user?: string): InstalledApp => ({
    name: '3CX Desktop App',
    version: '18.12.416',
    source: 'macos-bundle',
    location: installLocation,
    installLocation,
    bundleId: 'com.electron.3cx-desktop-app',
    ...(user ? { user } : {}),
  });

  it('plans a bundle only when its own Info.plist names the app at an affected version', () => {
    const root = tempTree({
      'Applications/3CX Desktop App.app/Contents/Info.plist': infoPlist(
        'com.electron.3cx-desktop-app',
        '18.12.416',
      ),
      'Applications/Notes.app/Contents/Info.plist': infoPlist('com.apple.Notes', '18.12.416'),
      'Applications/Updated.app/Contents/Info.plist': infoPlist('com.electron.3cx-desktop-app', '18.12.422'),
      'Applications/Empty.app/Contents/MacOS/x': 'no plist',
      'Applications/Utilities/Terminal.app/Contents/Info.plist': infoPlist('com.apple.Terminal', '2.12'),
      'Users/dave/Library/Preferences/x.plist': 'prefs',
      'Users/dave/Projects/Contents/Info.plist': infoPlist('com.electron.3cx-desktop-app', '18.12.416'),
    });
    const at = (p: string) => join(root, p);
    const result = planFor(root, 'macos', [
      bundle(at('Applications/3CX Desktop App.app')),
      bundle(at('Applications/Notes.app')),
      bundle(at('Applications/Updated.app')),
      bundle(at('Applications/Empty.app')),
      bundle(at('Applications/Utilities')),
      bundle(at('Applications')),
      bundle(at('Users/dave/Library'), 'dave'),
      bundle(at('Users/dave/Projects'), 'dave'),
      bundle(at('Applications/Missing.app')),
      bundle('/Applications/3CX Desktop App.app'),
    ]);
    expect(result.steps).toEqual(['/Applications/3CX Desktop App.app']);
    expect(result.refused).toEqual([
      '/Applications/Notes.app: does not hold the app: its Info.plist is com.apple.Notes, not com.electron.3cx-desktop-app',
      '/Applications/Updated.app: does not hold an affected build: its Info.plist says version 18.12.422',
      '/Applications/Empty.app: does not hold the app: bundle has no Contents/Info.plist',
      '/Applications/Utilities: is a system folder, never removed whole',
      '/Applications: is the system root or a folder directly below it, never removed whole',
      '/Users/dave/Library: is a well-known folder of a user profile, never removed whole',
      '/Users/dave/Projects: is not an app bundle (.app)',
      '/Applications/Missing.app: does not exist',
      '/Applications/3CX Desktop App.app: outside the system root',
    ]);
  });

  it('never plans a bundle reached through a symlink, nor a bundle that is one', () => {
    const real = tempTree({
      '3CX Desktop App.app/Contents/Info.plist': infoPlist('com.electron.3cx-desktop-app', '18.12.416'),
    });
    const root = tempTree({ 'Users/dave/Library/x': 'x' });
    symlinkSync(real, join(root, 'Users/dave/Apps'));
    symlinkSync(join(real, '3CX Desktop App.app'), join(root, 'Users/dave/3CX.app'));
    const result = planFor(root, 'macos', [
      bundle(join(root, 'Users/dave/Apps/3CX Desktop App.app'), 'dave'),
      bundle(join(root, 'Users/dave/3CX.app'), 'dave'),
    ]);
    expect(result.steps).toEqual([]);
    expect(result.refused).toEqual([
      `/Users/dave/Apps: reached through the symlink ${join(root, 'Users/dave/Apps')}`,
      '/Users/dave/3CX.app: is a symlink, not the install folder',
    ]);
  });
});

describe('planRemediation on Windows install paths from Uninstall keys', () => {
  const install = 'Users/alice/AppData/Local/Programs/3CXDesktopApp';
  const image = () =>
    tempTree({
      [`${install}/3CXDesktopApp.exe`]: exe('18.12.416'),
      [`${install}/Uninstall 3CXDesktopApp.exe`]: exe('1.0', 'Uninstaller'),
      'Program Files/3CX Phone/app-18.12.416/3CXDesktopApp.exe': exe('18.12.416'),
      'Program Files/3CX Phone/Update.exe': exe('2.0', 'Squirrel'),
      'Program Files/Other/3CX.exe': exe('18.12.416', 'Another App'),
      'Program Files/Unreadable/3CXDesktopApp.exe': 'MZ but not a program',
      'Program Files/Common Files/3CXDesktopApp.exe': exe('18.12.416'),
      'Windows/System32/3CXDesktopApp.exe': exe('18.12.416'),
      'Users/alice/NTUSER.DAT': 'hive',
      'Users/alice/Documents/Work/3CXDesktopApp.exe': exe('18.12.416'),
      'Users/alice/Documents/Work/thesis.docx': 'years of work',
    });

  it('maps the path into the image and checks what the folder holds, whatever its spelling', () => {
    const root = image();
    const result = planFor(root, 'windows', [
      key(`C:\\${install.replaceAll('/', '\\')}`, 'alice'),
      key('"c:\\program files\\3CX PHONE\\"'),
      key('\\\\?\\C:\\Windows\\System32'),
      key('C:/WINDOWS/system32/'),
      key('C:\\Program Files\\Other'),
      key('C:\\Program Files\\Unreadable'),
      key('C:\\Program Files\\Common Files'),
      key('C:\\Program Files'),
      key('C:\\'),
      key('C:\\Users'),
      key('%ProgramFiles%\\3CX Phone'),
      key('\\\\fileserver\\apps\\3CX'),
      key('Program Files\\3CX Phone'),
      key(`C:\\${install.replaceAll('/', '\\')}\\..\\..`),
      key('C:\\Program Files\\3CX Phone\\Update.exe'),
      key('C:\\Program Files\\Gone'),
      key('C:\\Users\\alice\\Documents\\Work', 'alice'),
    ]);
    expect(result.steps).toEqual([`/${install}`, '/Program Files/3CX Phone']);
    expect(result.refused).toEqual([
      '/Windows/System32: is a system folder, never removed whole', // both spellings: one install
      '/Program Files/Other: does not hold the app: no program named 3CX Desktop App or 3CXDesktopApp in it',
      '/Program Files/Unreadable: is not shown to hold an affected build: 3CXDesktopApp.exe cannot be read (not an MZ executable)',
      '/Program Files/Common Files: is a system folder, never removed whole',
      '/Program Files: is the system root or a folder directly below it, never removed whole',
      ': is the system root or a folder directly below it, never removed whole',
      '/Users: is the system root or a folder directly below it, never removed whole',
      '%ProgramFiles%\\3CX Phone: holds an unexpanded variable',
      '\\\\fileserver\\apps\\3CX: is a network path',
      'Program Files\\3CX Phone: is not an absolute Windows path',
      `C:\\${install.replaceAll('/', '\\')}\\..\\..: has . or .. in it`,
      '/Program Files/3CX Phone/Update.exe: is not a folder',
      'C:\\Program Files\\Gone: does not exist',
      // A program planted beside the user's files does not make them an install.
      "/Users/alice/Documents/Work: lies in a user's Documents folder, never removed as an install",
    ]);
    // What the keys say to run and delete is still listed for every claim.
    expect(result.other.filter((a) => a === 'registry')).toHaveLength(17);
  });

  it('never plans through a junction or symlink, nor a folder whose name is ambiguous', () => {
    const root = image();
    symlinkSync(join(root, 'Users/alice/AppData/Local/Programs'), join(root, 'Users/alice/Programs'));
    symlinkSync(join(root, install), join(root, 'Program Files/3CX Link'));
    const result = planFor(root, 'windows', [
      key('C:\\Users\\alice\\Programs\\3CXDesktopApp', 'alice'),
      key('C:\\Program Files\\3CX Link'),
    ]);
    expect(result.steps).toEqual([]);
    expect(result.refused).toEqual([
      `/Users/alice/Programs: reached through the symlink ${join(root, 'Users/alice/Programs')}`,
      '/Program Files/3CX Link: is a symlink, not the install folder',
    ]);

    const cased = tempTree({
      'Program Files/3CX/3CXDesktopApp.exe': exe('18.12.416'),
      'program files/3cx/3CXDesktopApp.exe': exe('18.12.416'),
    });
    expect(planFor(cased, 'windows', [key('C:\\PROGRAM FILES\\3cx')]).refused).toEqual([
      `C:\\PROGRAM FILES\\3cx: is ambiguous: ${join(cased, 'PROGRAM FILES')} matches names that differ only in case`,
    ]);
    // An exact spelling is not ambiguous.
    expect(planFor(cased, 'windows', [key('C:\\Program Files\\3CX')]).steps).toEqual(['/Program Files/3CX']);
  });

  it('refuses leftovers of a pack that resolve to a profile, a well-known folder or a hive', () => {
    const root = image();
    const entry = PACK.find((e) => e.id === '3cx-desktopapp-windows') as PackedApp;
    const hostile: PackedApp = {
      ...entry,
      remove: [
        '{install}',
        '{home}',
        '{home}/AppData/Local',
        '{home}/NTUSER.DAT',
        '{home}/*',
        '{home}/AppData/Local/../..',
        'Windows/System32',
      ],
    };
    const apps = [key(`C:\\${install.replaceAll('/', '\\')}`, 'alice')];
    const { verdicts } = judgeApps(apps, [hostile], 'windows');
    const plan = planRemediation(
      { os: 'windows', apps, verdicts, findings: [], coverage: [] },
      [hostile],
      root,
    );
    const rel = (p: string) => p.slice(root.length);
    expect(plan[0]?.steps.filter((s) => s.action === 'quarantine').map((s) => rel(s.target))).toEqual([
      `/${install}`,
    ]);
    expect(plan[0]?.refused.map((r) => `${rel(r.path)}: ${r.reason}`)).toEqual([
      '/Users/alice: is a user profile, never removed whole',
      '/Users/alice/AppData/Local: is a well-known folder of a user profile, never removed whole',
      "/Users/alice/NTUSER.DAT: is a user's registry hive, never removed whole",
      '/Users/alice/*: has a * that matches every name',
      '/Users/alice/AppData/Local/../..: has . or .. in it',
      '/Windows/System32: outside the install and its user profile',
    ]);
  });
});

describe('planRemediation on package-managed installs', () => {
  it("upgrades them and never quarantines a package manager's files", () => {
    const root = tempTree({ 'opt/homebrew/Cellar/xz/5.6.1/bin/xz': 'xz' });
    const apps: InstalledApp[] = [
      {
        name: 'xz',
        version: '5.6.1',
        source: 'homebrew',
        location: join(root, 'opt/homebrew/Cellar/xz/5.6.1'),
        installLocation: join(root, 'opt/homebrew/Cellar/xz/5.6.1'),
      },
    ];
    const entries: PackedApp[] = [
      {
        id: 'xz-homebrew',
        packId: 'test',
        product: 'xz',
        platforms: ['macos'],
        match: { names: ['xz'], sources: ['homebrew'] },
        affected: ['5.6.1'],
        severity: 'critical',
        title: 'xz',
        remove: ['{install}'],
        references: [],
      },
    ];
    const { verdicts } = judgeApps(apps, entries, 'macos');
    const plan = planRemediation({ os: 'macos', apps, verdicts, findings: [], coverage: [] }, entries, root);
    expect(plan[0]?.steps.map((s) => s.action)).toEqual(['package']);
    expect(plan[0]?.refused).toEqual([]);
  });
});
