/** @module A Windows image with an affected 3CX install, and tree snapshots, for removal and restore tests. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { cliForNobody } from './cli-for-nobody.js';
import { buildPe, versionInfo } from './pe-builder.js';
import { buildHive, uninstallHive } from './regf-builder.js';
import type { CliResult } from './run-cli.js';
import { tempTree, writeTree } from './temp-tree.js';

/** The 3CX Desktop App main executable at `version`. */
export const exe = (version: string) =>
  buildPe({
    version: versionInfo({
      fileVersion: `${version}.0`,
      strings: { CompanyName: '3CX', ProductName: '3CX Desktop App', ProductVersion: version },
    }),
  });

/** Every file, folder and link under `dir`: content hash, mode, owner, links and mtime, to compare trees. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (path: string) => {
    const stat = lstatSync(path);
    const key = relative(dir, path) || '.';
    const owner = `${stat.uid}:${stat.gid}`;
    if (stat.isSymbolicLink()) out[key] = `link ${readlinkSync(path)} ${owner}`;
    else if (stat.isDirectory()) {
      out[key] = `dir ${(stat.mode & 0o7777).toString(8)} ${owner}`;
      for (const name of readdirSync(path)) visit(join(path, name));
    } else
      out[key] =
        `file ${(stat.mode & 0o7777).toString(8)} ${owner} x${stat.nlink} ${Math.round(stat.mtimeMs)} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
  };
  visit(dir);
  return out;
}

/** The install folder of alice's affected 3CX, relative to the image. */
export const ALICE_INSTALL = 'Users/alice/AppData/Local/Programs/3CXDesktopApp';

/**
 * A Windows image (in the empty folder `at`, else a new temporary one): alice has 3CX 18.12.416 (affected) with a
 * support folder and a shortcut, bob has 18.12.422; a link inside the install points at /etc/passwd and alice's
 * Desktop is a link out of the image.
 */
export function windowsImage(at?: string): string {
  const files = {
    'Windows/System32/config/SOFTWARE': buildHive({ name: 'ROOT' }),
    [`${ALICE_INSTALL}/3CXDesktopApp.exe`]: exe('18.12.416'),
    [`${ALICE_INSTALL}/app/ffmpeg.dll`]: buildPe({ dll: true }),
    [`${ALICE_INSTALL}/app/resources/app.asar`]: 'asar archive',
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
  };
  const image = at ?? tempTree();
  writeTree(image, files);
  chmodSync(join(image, `${ALICE_INSTALL}/3CXDesktopApp.exe`), 0o751);
  utimesSync(
    join(image, 'Users/alice/AppData/Roaming/3CXDesktopApp/config.json'),
    new Date('2023-03-29T10:00:00Z'),
    new Date('2023-03-29T10:00:00Z'),
  );
  symlinkSync('/etc/passwd', join(image, `${ALICE_INSTALL}/app/link-out`));
  // alice's Desktop is a link out of the image: a shortcut "on" it must not be touched.
  const outside = tempTree({ '3CX Desktop App.lnk': 'outside the image' });
  symlinkSync(outside, join(image, 'Users/alice/Desktop'));
  return image;
}

/** Runs the CLI as nobody (uid and gid 65534, no groups), with `home` as its state folder. */
export function runCliAsNobody(args: string[], home: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cliForNobody(), ...args],
      { timeout: 60_000, env: { ...process.env, NO_COLOR: '1', CHAINSWEEP_HOME: home } },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}
