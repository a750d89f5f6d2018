/** @module macOS application bundles: /Applications (one level of folders deep), ~/Applications, /System/Applications. */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { InstalledApp } from '../../core/app.js';
import type { FileProblem } from '../../core/report.js';
import { parsePlist } from '../parsers/plist.js';
import { type AppCollection, type AppCollector, type AppContext, problem } from './app-collector.js';
import { findPath, subdirectories } from './fs-paths.js';

export const macosBundlesCollector: AppCollector = {
  name: 'apps/macos-bundles',
  os: ['macos'],
  collect({ root }: AppContext): AppCollection {
    const apps: InstalledApp[] = [];
    const problems: FileProblem[] = [];
    const scanFolder = (folder: string | undefined, user?: string, depth = 1) => {
      for (const dir of folder ? subdirectories(folder) : []) {
        if (dir.toLowerCase().endsWith('.app')) {
          const app = bundleApp(dir, user, problems);
          if (app) apps.push(app);
        } else if (depth > 0) {
          scanFolder(dir, user, depth - 1);
        }
      }
    };
    scanFolder(findPath(root, 'Applications'));
    scanFolder(findPath(root, 'System/Applications'), undefined, 0);
    const users = findPath(root, 'Users');
    for (const home of users ? subdirectories(users) : [])
      scanFolder(findPath(home, 'Applications'), basename(home));
    return { apps, problems };
  },
};

/** The app a bundle's Info.plist describes (XML or binary); a bundle without one is recorded as a problem. */
export function bundleApp(
  bundle: string,
  user: string | undefined,
  problems: FileProblem[],
): InstalledApp | undefined {
  const plistPath = findPath(bundle, 'Contents/Info.plist');
  if (!plistPath) {
    problems.push({ path: bundle, code: 'no-info-plist', message: 'bundle has no Contents/Info.plist' });
    return undefined;
  }
  try {
    const info = parsePlist(readFileSync(plistPath));
    if (
      !info ||
      typeof info !== 'object' ||
      Array.isArray(info) ||
      info instanceof Date ||
      Buffer.isBuffer(info)
    ) {
      throw new Error('Info.plist is not a dictionary');
    }
    const text = (key: string) => (typeof info[key] === 'string' ? (info[key] as string).trim() : undefined);
    const version = text('CFBundleShortVersionString') || text('CFBundleVersion') || '';
    const bundleId = text('CFBundleIdentifier');
    return {
      name: text('CFBundleDisplayName') || text('CFBundleName') || basename(bundle).replace(/\.app$/i, ''),
      version,
      source: 'macos-bundle',
      location: join(bundle),
      installLocation: bundle,
      ...(bundleId ? { bundleId } : {}),
      ...(user ? { user } : {}),
    };
  } catch (error) {
    problems.push(problem(plistPath, 'unreadable-plist', error));
    return undefined;
  }
}
