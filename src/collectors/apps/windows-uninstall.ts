/** @module Windows "Programs and Features" entries: the machine's and every user's Uninstall keys. */
import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import type { InstalledApp } from '../../core/app.js';
import type { FileProblem } from '../../core/report.js';
import { withFileSource } from '../parsers/byte-source.js';
import { parseRegQuery } from '../parsers/reg-query.js';
import { Hive, type HiveKey } from '../parsers/regf.js';
import { type AppCollection, type AppCollector, type AppContext, problem } from './app-collector.js';
import { findPath, subdirectories } from './fs-paths.js';

const UNINSTALL = 'Microsoft\\Windows\\CurrentVersion\\Uninstall';
const MACHINE_KEYS = [UNINSTALL, `WOW6432Node\\${UNINSTALL}`];

/** The fields of one Uninstall entry, however they were read. */
export interface UninstallEntry {
  key: string;
  get(name: string): string | undefined;
}

/** An InstalledApp from an Uninstall entry; undefined for entries with no display name (updates, components). */
export function appFromUninstallEntry(entry: UninstallEntry, user?: string): InstalledApp | undefined {
  const name = entry.get('DisplayName')?.trim();
  if (!name) return undefined;
  const keyName = entry.key.slice(entry.key.lastIndexOf('\\') + 1);
  const isMsi = entry.get('WindowsInstaller') === '1' || /^\{[0-9A-F-]{36}\}$/i.test(keyName);
  const optional = (field: string, value: string | undefined) =>
    value?.trim() ? { [field]: value.trim() } : {};
  return {
    name,
    version: entry.get('DisplayVersion')?.trim() ?? '',
    source: 'windows-uninstall',
    location: entry.key,
    ...optional('publisher', entry.get('Publisher')),
    ...optional('installLocation', entry.get('InstallLocation')),
    ...optional('uninstallCommand', entry.get('QuietUninstallString') ?? entry.get('UninstallString')),
    ...(isMsi && /^\{[0-9A-F-]{36}\}$/i.test(keyName) ? { productCode: keyName } : {}),
    ...(user ? { user } : {}),
  };
}

export const windowsUninstallCollector: AppCollector = {
  name: 'apps/windows-uninstall',
  os: ['windows'],
  async collect({ root, live }: AppContext): Promise<AppCollection> {
    const apps: InstalledApp[] = [];
    const problems: FileProblem[] = [];
    if (live && process.platform === 'win32') {
      apps.push(...(await liveUninstallEntries(problems)));
    } else {
      const software = findPath(root, 'Windows/System32/config/SOFTWARE');
      if (software) apps.push(...fromHive(software, 'HKLM\\SOFTWARE', MACHINE_KEYS, undefined, problems));
    }
    // Per-user installs (3CX's MSI among them) live in each profile's NTUSER.DAT; offline, or for users who are
    // not logged in on a live host (a logged-in user's hive is locked and read through HKU above).
    const users = findPath(root, 'Users');
    for (const profile of users ? subdirectories(users) : []) {
      const hive = findPath(profile, 'NTUSER.DAT');
      if (!hive) continue;
      const user = basename(profile);
      apps.push(...fromHive(hive, `HKU\\${user}\\Software`, [UNINSTALL], user, problems, live));
    }
    return { apps, problems };
  },
};

function fromHive(
  path: string,
  label: string,
  keys: string[],
  user: string | undefined,
  problems: FileProblem[],
  tolerateLocked = false,
): InstalledApp[] {
  try {
    return withFileSource(path, (source) => {
      const hive = Hive.open(source);
      const found: InstalledApp[] = [];
      for (const keyPath of keys) {
        const prefix = user ? 'Software\\' : '';
        const uninstall = hive.key(`${prefix}${keyPath}`);
        for (const entry of uninstall?.subkeys() ?? []) {
          const app = appFromUninstallEntry(hiveEntry(entry, `${label}\\${keyPath}\\${entry.name}`), user);
          if (app) found.push(app);
        }
      }
      return found;
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!(tolerateLocked && (code === 'EBUSY' || code === 'EPERM' || code === 'EACCES'))) {
      problems.push(problem(path, 'unreadable-hive', error));
    }
    return [];
  }
}

function hiveEntry(key: HiveKey, path: string): UninstallEntry {
  return { key: path, get: (name) => key.text(name) };
}

/** On a running Windows host: `reg query` of the machine's keys (both views) and of every loaded user hive. */
async function liveUninstallEntries(problems: FileProblem[]): Promise<InstalledApp[]> {
  const run = promisify(execFile);
  const query = async (key: string, flags: string[]) => {
    try {
      const { stdout } = await run('reg', ['query', key, ...flags], {
        maxBuffer: 64 << 20,
        timeout: 60_000,
        windowsHide: true,
      });
      return parseRegQuery(stdout);
    } catch (error) {
      if ((error as { code?: number }).code !== 1) problems.push(problem(key, 'reg-query-failed', error));
      return [];
    }
  };
  const apps: InstalledApp[] = [];
  const collect = (entries: Awaited<ReturnType<typeof query>>, user?: string) => {
    for (const entry of entries) {
      const app = appFromUninstallEntry({ key: entry.path, get: (n) => entry.values[n]?.data }, user);
      if (app) apps.push(app);
    }
  };
  collect(await query(`HKLM\\SOFTWARE\\${UNINSTALL}`, ['/s', '/reg:64']));
  collect(await query(`HKLM\\SOFTWARE\\${UNINSTALL}`, ['/s', '/reg:32']));
  for (const hive of await query('HKU', [])) {
    const sid = hive.path.split('\\')[1];
    if (!sid || sid.endsWith('_Classes') || hive.path.split('\\').length !== 2) continue;
    collect(await query(`HKU\\${sid}\\Software\\${UNINSTALL}`, ['/s']), sid);
  }
  return apps;
}
