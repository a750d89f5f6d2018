import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasCommand } from '../../src/testing/has-command.js';
import { buildPe, versionInfo } from '../../src/testing/pe-builder.js';
import { buildHive, uninstallHive } from '../../src/testing/regf-builder.js';
import { runCli } from '../../src/testing/run-cli.js';
import { makeSignedPack } from '../../src/testing/signed-pack.js';
import { tempTree } from '../../src/testing/temp-tree.js';

const exe = (version: string) =>
  buildPe({
    version: versionInfo({
      fileVersion: `${version}.0`,
      strings: { CompanyName: '3CX', ProductName: '3CX Desktop App', ProductVersion: version },
    }),
  });

/** Every file, folder and link under `dir`, with its content hash, to compare a tree before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (path: string) => {
    const stat = lstatSync(path);
    const key = relative(dir, path) || '.';
    if (stat.isSymbolicLink()) out[key] = `link ${readlinkSync(path)}`;
    else if (stat.isDirectory()) {
      out[key] = 'dir';
      for (const name of readdirSync(path)) visit(join(path, name));
    } else out[key] = `file ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
  };
  visit(dir);
  return out;
}

const UNINSTALL = 'Microsoft\\Windows\\CurrentVersion\\Uninstall';
const APP = { DisplayName: '3CX Desktop App', DisplayVersion: '18.12.416', Publisher: '3CX Ltd' };
/** Uninstall keys that claim the affected app lives in folders it does not, or must never be taken from. */
const MACHINE_CLAIMS: Record<string, string> = {
  '3CX-System32': 'C:\\Windows\\System32',
  '3CX-NotHere': 'C:\\Users\\alice\\Projects\\tools',
  '3CX-Fixed': 'C:\\Program Files\\3CX Old',
};
const USER_CLAIMS: Record<string, string> = {
  '3CX-Profile': 'C:\\Users\\alice',
  '3CX-Local': 'C:\\Users\\alice\\AppData\\Local\\',
  '3CX-Documents': '"C:\\USERS\\ALICE\\Documents"',
  '3CXDesktopApp': 'C:\\Users\\alice\\AppData\\Local\\Programs\\3CXDesktopApp',
};

/** A .reg file creating `under` (its parents first) and setting the claims below it, for hivexregedit --merge. */
function regFile(under: string, claims: Record<string, string>): string {
  const lines = ['Windows Registry Editor Version 5.00', ''];
  const parts = under.split('\\');
  for (let i = 2; i <= parts.length; i++) lines.push(`[${parts.slice(0, i).join('\\')}]`, '');
  for (const [key, location] of Object.entries(claims)) {
    lines.push(`[${under}\\${key}]`);
    for (const [name, value] of Object.entries({ ...APP, InstallLocation: location }))
      lines.push(`"${name}"="${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`);
    lines.push('');
  }
  return lines.join('\r\n');
}

/**
 * A Windows image whose hives claim the affected app is installed in System32, alice's profile, AppData\Local and
 * Documents (each holding an affected 3CXDesktopApp.exe, so only the protection stops them), a folder without
 * the app and one with the fixed build; and the real install in AppData\Local\Programs.
 */
function hostileImage(writer: 'ours' | 'hivex'): string {
  const withLocation = (claims: Record<string, string>) =>
    Object.fromEntries(Object.entries(claims).map(([k, v]) => [k, { ...APP, InstallLocation: v }]));
  const image = tempTree({
    'Windows/System32/kernel32.dll': buildPe({ dll: true }),
    'Windows/System32/3CXDesktopApp.exe': exe('18.12.416'),
    'Windows/System32/config/SYSTEM': 'system hive',
    'Users/alice/3CXDesktopApp.exe': exe('18.12.416'),
    'Users/alice/AppData/Local/3CXDesktopApp.exe': exe('18.12.416'),
    'Users/alice/AppData/Local/Google/Chrome/User Data/Default/History': 'history',
    'Users/alice/Documents/3CXDesktopApp.exe': exe('18.12.416'),
    'Users/alice/Documents/thesis.docx': 'years of work',
    'Users/alice/Projects/tools/build.exe': buildPe(),
    'Users/alice/Projects/tools/README.md': 'tools',
    'Program Files/3CX Old/3CXDesktopApp.exe': exe('18.12.422'),
    'Program Files/3CX Old/resources/app.asar': 'fixed build',
    'Users/alice/AppData/Local/Programs/3CXDesktopApp/3CXDesktopApp.exe': exe('18.12.416'),
    'Users/alice/AppData/Local/Programs/3CXDesktopApp/app/ffmpeg.dll': buildPe({ dll: true }),
    'Users/alice/AppData/Roaming/3CXDesktopApp/config.json': '{"user":"alice"}',
  });
  const software = join(image, 'Windows/System32/config/SOFTWARE');
  const ntuser = join(image, 'Users/alice/NTUSER.DAT');
  if (writer === 'ours') {
    writeFileSync(software, uninstallHive(withLocation(MACHINE_CLAIMS)));
    writeFileSync(ntuser, uninstallHive(withLocation(USER_CLAIMS), { user: true }));
  } else {
    writeFileSync(software, buildHive({ name: 'ROOT' }));
    writeFileSync(ntuser, buildHive({ name: 'ROOT' }));
    const reg = join(tempTree(), 'claims.reg');
    writeFileSync(reg, regFile(`HKEY_LOCAL_MACHINE\\SOFTWARE\\${UNINSTALL}`, MACHINE_CLAIMS));
    execFileSync('hivexregedit', ['--merge', software, '--prefix', 'HKEY_LOCAL_MACHINE\\SOFTWARE', reg]);
    writeFileSync(reg, regFile(`HKEY_CURRENT_USER\\Software\\${UNINSTALL}`, USER_CLAIMS));
    execFileSync('hivexregedit', ['--merge', ntuser, '--prefix', 'HKEY_CURRENT_USER', reg]);
  }
  return image;
}

interface Plan {
  plan: {
    apps: { location: string }[];
    steps: { action: string; target: string }[];
    refused: { path: string; reason: string }[];
  }[];
}

describe.each([
  ['our hive writer', 'ours' as const],
  ["Debian's hivexregedit", 'hivex' as const],
])('chainsweep remediate on install paths claimed by Uninstall keys (hives by %s)', (_, writer) => {
  it.runIf(writer === 'ours' || hasCommand('hivexregedit'))(
    'refuses system folders, the profile, well-known folders, and folders that do not hold an affected build',
    async () => {
      const image = hostileImage(writer);
      const result = await runCli(['remediate', '--root', image, '--format', 'json']);
      expect(result.stderr).toBe('');
      const { plan } = JSON.parse(result.stdout) as Plan;
      const inImage = (p: string) => (p.startsWith(image) ? p.slice(image.length) : p);
      const quarantined = plan.flatMap((i) =>
        i.steps.filter((s) => s.action === 'quarantine').map((s) => inImage(s.target)),
      );
      expect(quarantined.sort()).toEqual([
        '/Users/alice/AppData/Local/Programs/3CXDesktopApp',
        '/Users/alice/AppData/Roaming/3CXDesktopApp',
      ]);
      const refusedFor = (key: string) => {
        const item = plan.find((i) => i.apps.some((a) => a.location.endsWith(`\\${key}`)));
        return item?.refused.map((r) => `${inImage(r.path)}: ${r.reason}`);
      };
      expect(refusedFor('3CX-System32')).toEqual([
        '/Windows/System32: is a system folder, never removed whole',
      ]);
      expect(refusedFor('3CX-Profile')).toEqual(['/Users/alice: is a user profile, never removed whole']);
      expect(refusedFor('3CX-Local')).toEqual([
        '/Users/alice/AppData/Local: is a well-known folder of a user profile, never removed whole',
      ]);
      expect(refusedFor('3CX-Documents')).toEqual([
        '/Users/alice/Documents: is a well-known folder of a user profile, never removed whole',
      ]);
      expect(refusedFor('3CX-NotHere')).toEqual([
        '/Users/alice/Projects/tools: does not hold the app: no program named 3CX Desktop App or 3CXDesktopApp in it',
      ]);
      expect(refusedFor('3CX-Fixed')).toEqual([
        '/Program Files/3CX Old: does not hold an affected build: 3CXDesktopApp.exe is 3CX Desktop App 18.12.422',
      ]);
      // The uninstall commands and keys of every claim are still listed: they are said, not done.
      expect(
        plan
          .flatMap((i) => i.steps.filter((s) => s.action === 'registry'))
          .map((s) => s.target.slice(s.target.lastIndexOf('\\') + 1))
          .sort(),
      ).toEqual([...Object.keys(MACHINE_CLAIMS), ...Object.keys(USER_CLAIMS)].sort());

      const text = await runCli(['remediate', '--root', image]);
      expect(text.stdout).toContain(
        `REFUSED    ${join(image, 'Windows/System32')}   # is a system folder, never removed whole`,
      );
    },
  );

  it.runIf(writer === 'ours' || hasCommand('hivexregedit'))(
    '--apply removes the real install and leaves every file of the refused folders in place',
    async () => {
      const image = hostileImage(writer);
      const before = snapshot(image);
      const quarantine = join(tempTree(), 'q');
      const applied = await runCli(['remediate', '--apply', '--root', image, '--quarantine', quarantine]);
      expect(applied.code).toBe(3);
      const after = snapshot(image);
      const removed = Object.keys(before).filter((p) => !(p in after));
      expect(removed.sort()).toEqual([
        'Users/alice/AppData/Local/Programs/3CXDesktopApp',
        'Users/alice/AppData/Local/Programs/3CXDesktopApp/3CXDesktopApp.exe',
        'Users/alice/AppData/Local/Programs/3CXDesktopApp/app',
        'Users/alice/AppData/Local/Programs/3CXDesktopApp/app/ffmpeg.dll',
        'Users/alice/AppData/Roaming/3CXDesktopApp',
        'Users/alice/AppData/Roaming/3CXDesktopApp/config.json',
      ]);
      for (const [path, state] of Object.entries(after)) expect(state, path).toBe(before[path]);
    },
  );
});

describe('chainsweep remediate with a pack whose leftovers name protected folders', () => {
  it('refuses the profile, its Library and Documents, and plans only the app-specific leftovers', async () => {
    const plist = readFileSync(
      new URL('../../src/collectors/parsers/testdata/3cx-Info.binary.plist', import.meta.url),
    );
    const image = tempTree({
      'System/Library/CoreServices/SystemVersion.plist':
        '<plist version="1.0"><dict><key>ProductVersion</key><string>13.2</string></dict></plist>',
      'Applications/3CX Desktop App.app/Contents/Info.plist': plist,
      'Users/dave/Library/Application Support/3CX Desktop App/state': 'state',
      'Users/dave/Library/Application Support/Other/keep': 'keep',
      'Users/dave/Library/Keychains/login.keychain-db': 'secrets',
      'Users/dave/Documents/work.txt': 'work',
    });
    const apps = JSON.parse(readFileSync(new URL('../../packs/3cx-2023/apps.json', import.meta.url), 'utf8'));
    const mac = apps.apps.find((a: { id: string }) => a.id === '3cx-desktopapp-macos');
    mac.remove = [
      '{install}',
      '{home}',
      '{home}/Library',
      '{home}/Library/Application Support',
      '{home}/Library/Keychains',
      '{home}/Documents',
      '{home}/Library/Application Support/3CX Desktop App',
      '{install}/../..',
    ];
    const pack = await makeSignedPack('hostile-leftovers', {
      'apps.json': JSON.stringify({ schemaVersion: 1, apps: [mac] }),
    });
    const keyring = join(tempTree({ 'k.json': JSON.stringify({ keys: [pack.key] }) }), 'k.json');
    const args = ['--root', image, '--no-bundled', '--pack', pack.dir, '--keyring', keyring];
    const result = await runCli(['remediate', ...args, '--format', 'json']);
    const { plan } = JSON.parse(result.stdout) as Plan;
    const inImage = (p: string) => p.slice(image.length);
    expect(plan.flatMap((i) => i.steps.map((s) => `${s.action} ${inImage(s.target)}`))).toEqual([
      'quarantine /Applications/3CX Desktop App.app',
      'quarantine /Users/dave/Library/Application Support/3CX Desktop App',
    ]);
    expect(plan.flatMap((i) => i.refused.map((r) => `${inImage(r.path)}: ${r.reason}`))).toEqual([
      '/Users/dave: is a user profile, never removed whole',
      '/Users/dave/Library: is a well-known folder of a user profile, never removed whole',
      '/Users/dave/Library/Application Support: is a well-known folder of a user profile, never removed whole',
      '/Users/dave/Library/Keychains: is a well-known folder of a user profile, never removed whole',
      '/Users/dave/Documents: is a well-known folder of a user profile, never removed whole',
      '/Applications/3CX Desktop App.app/../..: has . or .. in it',
    ]);
    const before = snapshot(image);
    const applied = await runCli(['remediate', '--apply', ...args, '--quarantine', join(tempTree(), 'q')]);
    expect(applied.code).toBe(3);
    const after = snapshot(image);
    expect(Object.keys(before).filter((p) => !(p in after)).length).toBeGreaterThan(0);
    for (const [path, state] of Object.entries(after)) expect(state, path).toBe(before[path]);
    expect(after['Users/dave/Library/Keychains/login.keychain-db']).toBeDefined();
    expect(after['Users/dave/Documents/work.txt']).toBeDefined();
  });
});

describe('chainsweep inventory and remediate --root', () => {
  it('is a one-line error with exit 2 when the root is missing or not a folder', async () => {
    const dir = tempTree({ 'file.txt': 'not a folder' });
    for (const command of ['inventory', 'remediate']) {
      for (const root of [join(dir, 'missing'), join(dir, 'file.txt')]) {
        const result = await runCli([command, '--root', root]);
        expect(result.code, `${command} --root ${root}`).toBe(2);
        expect(result.stdout).toBe('');
        expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
        expect(result.stderr).toContain(root);
      }
    }
    const applied = await runCli(['remediate', '--apply', '--root', join(dir, 'missing')]);
    expect(applied.code).toBe(2);
  });
});
