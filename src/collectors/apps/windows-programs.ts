/** @module Windows installs found on disk: every user's AppData\Local\Programs (and Squirrel apps), Program Files. */
import { basename, join } from 'node:path';
import type { InstalledApp } from '../../core/app.js';
import type { FileProblem } from '../../core/report.js';
import { withFileSource } from '../parsers/byte-source.js';
import { parsePeHeaders, readVersionInfo } from '../parsers/pe.js';
import type { AppCollection, AppCollector, AppContext } from './app-collector.js';
import { problem } from './app-collector.js';
import { entriesOf, findPath, subdirectories } from './fs-paths.js';

const NOT_MAIN =
  /^(unins\d*|uninstall.*|update|squirrel|crashpad_handler|elevate|notification_helper)\.exe$/i;
const NOT_PROFILES = new Set(['all users', 'default', 'default user', 'public', 'defaultapppool']);

export const windowsProgramsCollector: AppCollector = {
  name: 'apps/windows-programs',
  os: ['windows'],
  collect({ root }: AppContext): AppCollection {
    const apps: InstalledApp[] = [];
    const problems: FileProblem[] = [];
    const add = (dir: string, user?: string) => {
      const app = appInFolder(dir, user, problems);
      if (app) apps.push(app);
    };
    const users = findPath(root, 'Users');
    for (const profile of users ? subdirectories(users) : []) {
      const user = basename(profile);
      if (NOT_PROFILES.has(user.toLowerCase())) continue;
      const local = findPath(profile, 'AppData/Local');
      for (const dir of subdirectories(findPath(profile, 'AppData/Local/Programs') ?? '')) add(dir, user);
      // Squirrel-installed Electron apps: AppData\Local\<app>\Update.exe beside app-<version> folders.
      for (const dir of subdirectories(local ?? '')) {
        if (entriesOf(dir).some((e) => e.isFile() && e.name.toLowerCase() === 'update.exe')) add(dir, user);
      }
      for (const dir of subdirectories(findPath(profile, 'AppData/Roaming') ?? '')) {
        if (entriesOf(dir).some((e) => e.isFile() && e.name.toLowerCase().endsWith('.exe'))) add(dir, user);
      }
    }
    for (const programFiles of ['Program Files', 'Program Files (x86)']) {
      for (const dir of subdirectories(findPath(root, programFiles) ?? '')) add(dir);
    }
    return { apps, problems };
  },
};

/** The app installed in `dir`: its main executable's version resource, or undefined when there is no program. */
function appInFolder(
  dir: string,
  user: string | undefined,
  problems: FileProblem[],
): InstalledApp | undefined {
  const exe = mainExecutable(dir);
  if (!exe) return undefined;
  try {
    return programApp(exe, dir, user);
  } catch (error) {
    problems.push(problem(exe, 'unreadable-executable', error));
    return undefined;
  }
}

/** The app the executable `exe` says it is (name, version and publisher from its version resource), installed in `dir`. */
export function programApp(exe: string, dir: string, user?: string): InstalledApp {
  const info = withFileSource(exe, (source) => readVersionInfo(source, parsePeHeaders(source)));
  const strings = info?.strings ?? {};
  const version = strings.ProductVersion || strings.FileVersion || info?.productVersion || '';
  return {
    name: strings.ProductName || strings.FileDescription || basename(dir),
    version: version.trim(),
    ...(strings.CompanyName ? { publisher: strings.CompanyName } : {}),
    source: 'windows-programs',
    location: exe,
    installLocation: dir,
    ...(user ? { user } : {}),
  };
}

function programsAt(where: string): string[] {
  return entriesOf(where)
    .filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.exe') && !NOT_MAIN.test(e.name))
    .map((e) => join(where, e.name));
}

/** Newest first: the `app\` and `app-<version>\` folders Squirrel and Electron installers keep programs in. */
function appFolders(dir: string): string[] {
  return entriesOf(dir)
    .filter((e) => e.isDirectory() && /^app(-[\d.]+)?$/i.test(e.name))
    .map((e) => join(dir, e.name))
    .sort()
    .reverse();
}

/** Every program `dir` may be the install of: its executables at the top and in app\ or app-*\, uninstallers and updaters aside. */
export function programsIn(dir: string): string[] {
  return [...programsAt(dir), ...appFolders(dir).flatMap(programsAt)];
}

/** `<folder name>.exe`, else the only program at the top (or in app\ or app-*\), uninstallers and updaters aside. */
function mainExecutable(dir: string): string | undefined {
  const folder = basename(dir).toLowerCase();
  const top = programsAt(dir);
  const named = top.find((p) => basename(p).toLowerCase() === `${folder}.exe`);
  if (named) return named;
  if (top.length === 1) return top[0];
  for (const appDir of appFolders(dir)) {
    const inner = programsAt(appDir);
    const innerNamed = inner.find((p) => basename(p).toLowerCase() === `${folder}.exe`);
    if (innerNamed) return innerNamed;
    if (inner.length === 1) return inner[0];
  }
  return top[0];
}
