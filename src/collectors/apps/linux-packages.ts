/** @module Package databases: dpkg, rpm (through the rpm tool), pacman, apk, and Homebrew on macOS and Linux. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import type { AppSource, InstalledApp } from '../../core/app.js';
import type { FileProblem } from '../../core/report.js';
import {
  type InstalledPackage,
  parseApkInstalled,
  parseDpkgStatus,
  parsePacmanDesc,
  parseRpmQuery,
} from '../parsers/package-dbs.js';
import { type AppCollection, type AppCollector, type AppContext, problem } from './app-collector.js';
import { entriesOf, findPath, subdirectories } from './fs-paths.js';

function toApps(packages: InstalledPackage[], source: AppSource, location: string): InstalledApp[] {
  return packages.map((p) => ({
    name: p.name,
    version: p.version,
    source,
    location,
    ...(p.arch ? { arch: p.arch } : {}),
    ...(p.maintainer ? { publisher: p.maintainer } : {}),
  }));
}

function readText(path: string, problems: FileProblem[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(problem(path, 'unreadable', error));
    return undefined;
  }
}

export const dpkgCollector: AppCollector = {
  name: 'apps/dpkg',
  os: ['linux'],
  collect({ root }: AppContext): AppCollection {
    const problems: FileProblem[] = [];
    const apps: InstalledApp[] = [];
    const status = findPath(root, 'var/lib/dpkg/status');
    const text = status ? readText(status, problems) : undefined;
    if (status && text !== undefined) apps.push(...toApps(parseDpkgStatus(text), 'dpkg', status));
    // Distroless images keep one status file per package.
    const statusD = findPath(root, 'var/lib/dpkg/status.d');
    for (const entry of statusD ? entriesOf(statusD) : []) {
      if (!entry.isFile()) continue;
      const path = join(statusD as string, entry.name);
      const part = readText(path, problems);
      if (part !== undefined) apps.push(...toApps(parseDpkgStatus(part), 'dpkg', path));
    }
    return { apps, problems, ...(status || statusD ? {} : { skipped: 'no dpkg database' }) };
  },
};

export const pacmanCollector: AppCollector = {
  name: 'apps/pacman',
  os: ['linux'],
  collect({ root }: AppContext): AppCollection {
    const problems: FileProblem[] = [];
    const apps: InstalledApp[] = [];
    const local = findPath(root, 'var/lib/pacman/local');
    for (const dir of local ? subdirectories(local) : []) {
      const desc = join(dir, 'desc');
      const text = readText(desc, problems);
      const parsed = text === undefined ? undefined : parsePacmanDesc(text);
      if (parsed) apps.push(...toApps([parsed], 'pacman', desc));
    }
    return { apps, problems, ...(local ? {} : { skipped: 'no pacman database' }) };
  },
};

export const apkCollector: AppCollector = {
  name: 'apps/apk',
  os: ['linux'],
  collect({ root }: AppContext): AppCollection {
    const problems: FileProblem[] = [];
    const db = findPath(root, 'lib/apk/db/installed') ?? findPath(root, 'usr/lib/apk/db/installed');
    const text = db ? readText(db, problems) : undefined;
    return {
      apps: db && text !== undefined ? toApps(parseApkInstalled(text), 'apk', db) : [],
      problems,
      ...(db ? {} : { skipped: 'no apk database' }),
    };
  },
};

const RPM_DATABASES = ['var/lib/rpm', 'usr/lib/sysimage/rpm', 'usr/share/rpm'];
const RPM_FORMAT = '%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{VENDOR}\\n';

export const rpmCollector: AppCollector = {
  name: 'apps/rpm',
  os: ['linux'],
  async collect({ root }: AppContext): Promise<AppCollection> {
    const db = RPM_DATABASES.map((p) => findPath(root, p)).find((p) => p && entriesOf(p).length > 0);
    if (!db) return { apps: [], problems: [], skipped: 'no rpm database' };
    // The rpm database is Berkeley DB, NDB or SQLite depending on the distribution; the rpm tool reads them all.
    try {
      const { stdout } = await promisify(execFile)(
        'rpm',
        [
          '--root',
          root,
          '--dbpath',
          `/${db.slice(root.length).replace(/^\/+/, '')}`,
          '-qa',
          '--qf',
          RPM_FORMAT,
        ],
        {
          maxBuffer: 64 << 20,
          timeout: 120_000,
        },
      );
      return { apps: toApps(parseRpmQuery(stdout), 'rpm', db), problems: [] };
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      return missing
        ? {
            apps: [],
            problems: [
              {
                path: db,
                code: 'rpm-tool-missing',
                message: 'an rpm database is here but the rpm tool is not installed to read it',
              },
            ],
          }
        : { apps: [], problems: [problem(db, 'rpm-query-failed', error)] };
    }
  },
};

const BREW_PREFIXES = ['opt/homebrew/Cellar', 'usr/local/Cellar', 'home/linuxbrew/.linuxbrew/Cellar'];

export const homebrewCollector: AppCollector = {
  name: 'apps/homebrew',
  os: ['macos', 'linux'],
  collect({ root }: AppContext): AppCollection {
    const apps: InstalledApp[] = [];
    let found = false;
    for (const prefix of BREW_PREFIXES) {
      const cellar = findPath(root, prefix);
      if (!cellar) continue;
      found = true;
      for (const formula of subdirectories(cellar)) {
        for (const keg of subdirectories(formula)) {
          apps.push({
            name: basename(formula),
            version: basename(keg),
            source: 'homebrew',
            location: keg,
            installLocation: keg,
          });
        }
      }
    }
    return { apps, problems: [], ...(found ? {} : { skipped: 'no Homebrew Cellar' }) };
  },
};
