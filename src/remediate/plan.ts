import { lstatSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { entriesOf, findPath, subdirectories } from '../collectors/apps/fs-paths.js';
import type { InstalledApp } from '../core/app.js';
import { isInside } from '../core/paths.js';
import type { PackedApp } from '../packs/intel.js';
import type { InventoryResult } from '../scan/inventory.js';

/** One thing removal takes. `quarantine` steps are what `--apply` does; the others are said, not done. */
export interface PlanStep {
  action: 'quarantine' | 'run' | 'registry' | 'package';
  /** For quarantine: the path; for registry: the key. */
  target: string;
  note: string;
}

/** The removal of one affected install. */
export interface PlanItem {
  packId: string;
  productId: string;
  title: string;
  apps: InstalledApp[];
  steps: PlanStep[];
  /** Paths the pack names that were not taken into the plan, and why. */
  refused: { path: string; reason: string }[];
}

const UPGRADE: Record<string, (name: string) => string> = {
  dpkg: (n) => `apt-get update && apt-get install --only-upgrade ${n}`,
  rpm: (n) => `dnf upgrade --refresh ${n}   # or: zypper update ${n}`,
  pacman: () => 'pacman -Syu',
  apk: (n) => `apk upgrade ${n}`,
  homebrew: (n) => `brew upgrade ${n}`,
};

/**
 * What removing every affected install means here: the install folder or bundle and the pack's leftovers
 * (support folders, shortcuts, launch agents) to quarantine, uninstall commands and registry keys to clear, or
 * packages to upgrade. Only paths inside the install or its user's profile, reached without crossing a symlink,
 * are ever planned.
 */
export function planRemediation(
  inventory: InventoryResult,
  entries: readonly PackedApp[],
  root: string,
): PlanItem[] {
  const byInstall = new Map<string, PlanItem>();
  for (const verdict of inventory.verdicts) {
    if (verdict.verdict !== 'affected') continue;
    const app = inventory.apps[verdict.app];
    const entry = entries.find((e) => e.id === verdict.productId && e.packId === verdict.packId);
    if (!app || !entry) continue;
    const install = installFolder(app, root);
    const key = `${entry.packId}:${entry.id}:${install ?? `${app.source}:${app.name}:${app.location}`}:${app.user ?? ''}`;
    let item = byInstall.get(key);
    if (!item) {
      item = {
        packId: entry.packId,
        productId: entry.id,
        title: entry.title,
        apps: [],
        steps: [],
        refused: [],
      };
      byInstall.set(key, item);
      addFileSteps(item, entry, app, install, root);
    }
    item.apps.push(app);
    addOtherSteps(item, app);
  }
  return [...byInstall.values()];
}

function addFileSteps(
  item: PlanItem,
  entry: PackedApp,
  app: InstalledApp,
  install: string | undefined,
  root: string,
): void {
  if (!install) return;
  const homes = app.user
    ? [findPath(root, `Users/${app.user}`)].filter((h): h is string => Boolean(h))
    : allHomes(root);
  const safeInstall = unsafeReason(install, root, homes);
  if (safeInstall) {
    item.refused.push({ path: install, reason: safeInstall });
    return;
  }
  const seen = new Set<string>();
  for (const template of entry.remove ?? ['{install}']) {
    const bases = template.includes('{home}') ? homes : [root];
    for (const base of bases) {
      const expanded = template
        .replaceAll('{install}', relative(root, install).split(sep).join('/'))
        .replaceAll('{home}', '');
      const relativeTo = template.includes('{home}') ? base : root;
      for (const path of expand(relativeTo, expanded.replace(/^\/+/, ''))) {
        if (seen.has(path)) continue;
        seen.add(path);
        const allowed = isInside(path, install) || homes.some((h) => isInside(path, h) && path !== h);
        const reason = !allowed
          ? 'outside the install and its user profile'
          : crossesSymlink(
              path,
              allowed && isInside(path, install) ? install : (homes.find((h) => isInside(path, h)) ?? root),
            );
        if (reason) item.refused.push({ path, reason });
        else
          item.steps.push({
            action: 'quarantine',
            target: path,
            note: path === install ? 'the install' : 'left behind by the app',
          });
      }
    }
  }
}

function addOtherSteps(item: PlanItem, app: InstalledApp): void {
  const upgrade = UPGRADE[app.source];
  if (upgrade) {
    item.steps.push({
      action: 'package',
      target: `${app.name} ${app.version}`,
      note: `upgrade to a fixed version: ${upgrade(app.name)}`,
    });
    return;
  }
  if (app.productCode)
    item.steps.push({
      action: 'run',
      target: `msiexec /x ${app.productCode} /qn`,
      note: 'Windows Installer removal',
    });
  else if (app.uninstallCommand)
    item.steps.push({ action: 'run', target: app.uninstallCommand, note: "the app's own uninstaller" });
  if (app.source === 'windows-uninstall') {
    item.steps.push({
      action: 'registry',
      target: app.location,
      note: 'delete this Uninstall key once the files are gone',
    });
  }
}

/** The folder or bundle an app is installed in, on this machine (a Windows path is mapped into the image). */
function installFolder(app: InstalledApp, root: string): string | undefined {
  const location = app.installLocation;
  if (!location) return undefined;
  if (app.source !== 'windows-uninstall') return location;
  const windowsPath = location
    .replace(/^"|"$/g, '')
    .replace(/^[A-Za-z]:\\?/, '')
    .replaceAll('\\', '/');
  return windowsPath ? findPath(root, windowsPath) : undefined;
}

function allHomes(root: string): string[] {
  const users = findPath(root, 'Users');
  return users
    ? subdirectories(users).filter(
        (h) => !['public', 'shared', 'default'].includes(basename(h).toLowerCase()),
      )
    : [];
}

/** Why an install folder may not be removed whole: it must sit at least two levels below the root, not be a home. */
function unsafeReason(install: string, root: string, homes: string[]): string | undefined {
  if (!isInside(install, root)) return 'outside the system root';
  const depth = relative(root, install).split(sep).filter(Boolean).length;
  if (depth < 2) return 'too close to the system root to remove whole';
  if (homes.includes(install) || basename(dirname(install)).toLowerCase() === 'users')
    return 'is a user profile';
  return crossesSymlink(install, root);
}

/** A reason when the path, or a folder on the way to it from `base`, is a symlink (it may lead elsewhere). */
function crossesSymlink(path: string, base: string): string | undefined {
  const parts = relative(base, path).split(sep).filter(Boolean);
  let current = base;
  for (const [i, part] of parts.entries()) {
    current = join(current, part);
    try {
      if (lstatSync(current).isSymbolicLink() && i < parts.length - 1)
        return `reached through the symlink ${current}`;
    } catch {
      return 'does not exist';
    }
  }
  return undefined;
}

/** Existing paths matching a `/`-separated pattern under `base`; `*` globs within one name, case-insensitively. */
function expand(base: string, pattern: string): string[] {
  let current = [base];
  for (const segment of pattern.split('/').filter(Boolean)) {
    const next: string[] = [];
    for (const dir of current) {
      if (segment.includes('*')) {
        const regex = new RegExp(
          `^${segment
            .split('*')
            .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('.*')}$`,
          'i',
        );
        for (const e of entriesOf(dir)) if (regex.test(e.name)) next.push(join(dir, e.name));
      } else {
        const found = findPath(dir, segment) ?? lstatName(dir, segment);
        if (found) next.push(found);
      }
    }
    current = next;
  }
  return current.filter((p) => p !== base);
}

/** findPath skips symlinks; a symlink that is itself the target is still quarantined (as a link). */
function lstatName(dir: string, name: string): string | undefined {
  const entry = entriesOf(dir).find((e) => e.name.toLowerCase() === name.toLowerCase());
  return entry ? join(dir, entry.name) : undefined;
}
