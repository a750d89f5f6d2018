import { lstatSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { entriesOf, findPath, subdirectories } from '../collectors/apps/fs-paths.js';
import { bundleApp } from '../collectors/apps/macos-bundles.js';
import { programApp, programsIn } from '../collectors/apps/windows-programs.js';
import type { InstalledApp } from '../core/app.js';
import { errorMessage } from '../core/errors.js';
import type { PackedApp } from '../core/intel.js';
import { isPackageSource, packageUpgradeCommand } from '../core/package-upgrade.js';
import { isInside } from '../core/paths.js';
import type { FileProblem } from '../core/report.js';
import { verdictFor } from '../matchers/app-verdicts.js';
import type { InventoryResult } from '../scan/inventory.js';
import { identify } from './dir-handle.js';
import { dataFolderReason, protectedReason } from './protected-paths.js';

/** One thing removal takes. `quarantine` steps are what `--apply` does; the others are said, not done. */
export interface PlanStep {
  action: 'quarantine' | 'run' | 'registry' | 'package';
  /** For quarantine: the path; for registry: the key. */
  target: string;
  note: string;
  /** For quarantine: the path's device and inode when planned; `--apply` leaves anything else alone. */
  dev?: string;
  ino?: string;
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

/**
 * What removing every affected install means here: the install folder or bundle and the pack's leftovers
 * (support folders, shortcuts, launch agents) to quarantine, uninstall commands and registry keys to clear, or
 * packages to upgrade. An install path is a claim of the host: the folder is planned only when it is shown to hold
 * the app (its program's version resource, or the bundle's own Info.plist, at an affected version), and no
 * system folder, user profile or well-known folder (protected-paths.ts) is ever planned, nor any path outside the
 * install and its user's profile, or reached through a symlink. Package-managed installs are upgraded, never
 * quarantined: their files belong to the package manager.
 */
export function planRemediation(
  inventory: InventoryResult,
  entries: readonly PackedApp[],
  root: string,
): PlanItem[] {
  const byInstall = new Map<string, PlanItem>();
  const planned = new Set<string>();
  for (const verdict of inventory.verdicts) {
    if (verdict.verdict !== 'affected') continue;
    const app = inventory.apps[verdict.app];
    const entry = entries.find((e) => e.id === verdict.productId && e.packId === verdict.packId);
    if (!app || !entry) continue;
    const install = isPackageSource(app.source) ? undefined : locateInstall(app, root);
    const where = install && 'path' in install ? install.path : `${app.source}:${app.name}:${app.location}`;
    const key = `${entry.packId}:${entry.id}:${where}:${app.user ?? ''}`;
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
      if (install) addFileSteps(item, entry, app, install, root, planned);
    }
    item.apps.push(app);
    addOtherSteps(item, app);
  }
  return [...byInstall.values()];
}

/** An install folder found on disk, or why the claimed one cannot be: `shown` is the path as claimed or mapped. */
type Located = { path: string } | { shown: string; reason: string };

function addFileSteps(
  item: PlanItem,
  entry: PackedApp,
  app: InstalledApp,
  located: Located,
  root: string,
  planned: Set<string>,
): void {
  if ('reason' in located) {
    item.refused.push({ path: located.shown, reason: located.reason });
    return;
  }
  const install = located.path;
  const names = namesBelow(root, install);
  const refusal = protectedReason(names) ?? dataFolderReason(names) ?? holdsApp(entry, app, install);
  if (refusal) {
    item.refused.push({ path: install, reason: refusal });
    return;
  }
  const homes = app.user
    ? [findPath(root, `Users/${app.user}`)].filter((h): h is string => Boolean(h))
    : allHomes(root);
  for (const template of entry.remove ?? ['{install}']) {
    const bases = template.includes('{home}') ? homes : [root];
    for (const base of bases) {
      const expanded = template
        .replaceAll('{install}', relative(root, install).split(sep).join('/'))
        .replaceAll('{home}', '')
        .replace(/^\/+/, '');
      const segments = expanded.split('/').filter(Boolean);
      const badSegment = segments.some((s) => s === '.' || s === '..')
        ? 'has . or .. in it'
        : segments.some((s) => /^\*+$/.test(s))
          ? 'has a * that matches every name'
          : undefined;
      if (badSegment) {
        item.refused.push({ path: `${base}${sep}${segments.join(sep)}`, reason: badSegment });
        continue;
      }
      for (const path of expand(base, segments)) {
        if (planned.has(path)) continue;
        planned.add(path);
        const reason = leftoverRefusal(path, install, homes, root);
        if (reason) item.refused.push({ path, reason });
        else
          item.steps.push({
            action: 'quarantine',
            target: path,
            note: path === install ? 'the install' : 'left behind by the app',
            ...identify(path),
          });
      }
    }
  }
}

/** Why a path a pack template expanded to may not be taken: outside the install and profile, protected, or behind a symlink. */
function leftoverRefusal(path: string, install: string, homes: string[], root: string): string | undefined {
  if (isInside(path, install)) return crossesSymlink(path, install);
  const home = homes.find((h) => isInside(path, h));
  if (!home) return 'outside the install and its user profile';
  return protectedReason(namesBelow(root, path)) ?? crossesSymlink(path, home);
}

function addOtherSteps(item: PlanItem, app: InstalledApp): void {
  if (isPackageSource(app.source)) {
    const command = packageUpgradeCommand(app.source, app.name);
    item.steps.push({
      action: 'package',
      target: `${app.name} ${app.version}`,
      note: `upgrade to a fixed version${command ? `: ${command}` : ' with its package manager'}`,
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

/** Where the app claims to be installed, found on disk under `root` without following a symlink (a Windows path is mapped into the image). */
function locateInstall(app: InstalledApp, root: string): Located | undefined {
  const location = app.installLocation;
  if (!location) return undefined;
  if (app.source !== 'windows-uninstall') {
    if (!isInside(location, root)) return { shown: location, reason: 'outside the system root' };
    return walk(root, namesBelow(root, location), location);
  }
  const names = windowsNames(location, root);
  return 'reason' in names ? { shown: location, reason: names.reason } : walk(root, names.names, location);
}

/**
 * The names of a Windows path below its drive (`C:\\Program Files\\X` is `Program Files`, `X`), or why it is not
 * a plain local path: a network or device path, an unexpanded variable, a relative path, `.` or `..`.
 */
function windowsNames(location: string, root: string): { names: string[] } | { reason: string } {
  const path = location
    .trim()
    .replace(/^"(.*)"$/s, '$1')
    .trim()
    .replace(/^(\\\\[?.]\\|\\\?\?\\)/, '');
  if (/^([\\/]{2}|UNC[\\/])/i.test(path)) return { reason: 'is a network path' };
  if (path.includes('%')) return { reason: 'holds an unexpanded variable' };
  const drive = /^([A-Za-z]):[\\/]/.exec(path)?.[1];
  if (!drive) return { reason: 'is not an absolute Windows path' };
  const rootDrive = /^([A-Za-z]):[\\/]?$/.exec(root)?.[1];
  if (rootDrive && rootDrive.toUpperCase() !== drive.toUpperCase())
    return { reason: `is on drive ${drive.toUpperCase()}:, not on ${root}` };
  const names = path
    .slice(3)
    .split(/[\\/]+/)
    .filter(Boolean);
  if (names.some((n) => n === '.' || n === '..')) return { reason: 'has . or .. in it' };
  return { names };
}

/**
 * The real folder `names` lead to under `root`, each matched exactly or else case-insensitively (Windows and macOS
 * volumes), refusing a missing or ambiguous name, a symlink or junction on the way, and a target that is no folder.
 */
function walk(root: string, names: string[], shown: string): Located {
  let current = root;
  for (const [i, name] of names.entries()) {
    const entries = entriesOf(current);
    const exact = entries.filter((e) => e.name === name);
    const matches = exact.length ? exact : entries.filter((e) => e.name.toLowerCase() === name.toLowerCase());
    if (matches.length > 1)
      return { shown, reason: `is ambiguous: ${join(current, name)} matches names that differ only in case` };
    const entry = matches[0];
    if (!entry) return { shown, reason: 'does not exist' };
    current = join(current, entry.name);
    if (entry.isSymbolicLink())
      return i < names.length - 1
        ? { shown: current, reason: `reached through the symlink ${current}` }
        : { shown: current, reason: 'is a symlink, not the install folder' };
    if (!entry.isDirectory()) return { shown: current, reason: 'is not a folder' };
  }
  return { path: current };
}

/** The names of `path` below `root`. */
function namesBelow(root: string, path: string): string[] {
  return relative(root, path).split(sep).filter(Boolean);
}

/** Why `dir` is not shown to hold `entry`'s app at an affected version, by the record the app's platform keeps in it. */
function holdsApp(entry: PackedApp, app: InstalledApp, dir: string): string | undefined {
  if (app.source === 'windows-uninstall' || app.source === 'windows-programs')
    return holdsProgram(entry, dir, app.user);
  if (app.source === 'macos-bundle') return holdsBundle(entry, dir, app.user);
  return `nothing in a ${app.source} install shows which app it holds`;
}

/** At most this many programs of one folder are read to find the app's. */
const MAX_PROGRAMS = 64;

/** A program in `dir` (read as the windows-programs collector reads it) named as the pack names the app, at an affected version. */
function holdsProgram(entry: PackedApp, dir: string, user: string | undefined): string | undefined {
  const names = entry.match.names ?? [];
  if (names.length === 0) return 'does not hold the app: the pack names no program to look for';
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const others: string[] = [];
  let unreadable = false;
  for (const exe of programsIn(dir).slice(0, MAX_PROGRAMS)) {
    const file = basename(exe).replace(/\.exe$/i, '');
    let program: InstalledApp;
    try {
      program = programApp(exe, dir, user);
    } catch (error) {
      unreadable ||= wanted.has(file.toLowerCase());
      if (wanted.has(file.toLowerCase()))
        others.push(
          `${basename(exe)} cannot be read (${(error as NodeJS.ErrnoException).code ?? errorMessage(error)})`,
        );
      continue;
    }
    if (!wanted.has(program.name.toLowerCase()) && !wanted.has(file.toLowerCase())) continue;
    const publishers = entry.match.publishers;
    const publisher = program.publisher?.toLowerCase();
    if (publishers && publisher && !publishers.some((p) => publisher.includes(p.toLowerCase()))) {
      others.push(`${basename(exe)} is published by ${program.publisher}`);
      continue;
    }
    if (verdictFor(entry, program) === 'affected') return undefined;
    others.push(`${basename(exe)} is ${program.name} ${program.version || 'of no stated version'}`);
  }
  return others.length
    ? `${unreadable ? 'is not shown to hold' : 'does not hold'} an affected build: ${others.join('; ')}`
    : `does not hold the app: no program named ${names.join(' or ')} in it`;
}

/** The bundle's own Contents/Info.plist names the app (by bundle id when the pack gives ids) at an affected version. */
function holdsBundle(entry: PackedApp, bundle: string, user: string | undefined): string | undefined {
  if (!/\.app$/i.test(basename(bundle))) return 'is not an app bundle (.app)';
  const problems: FileProblem[] = [];
  const info = bundleApp(bundle, user, problems);
  if (!info) return `does not hold the app: ${problems[0]?.message ?? 'no readable Contents/Info.plist'}`;
  const ids = entry.match.bundleIds ?? [];
  const names = entry.match.names ?? [];
  const same = (list: string[], value: string | undefined) =>
    value !== undefined && list.some((v) => v.toLowerCase() === value.toLowerCase());
  if (ids.length ? !same(ids, info.bundleId) : !same(names, info.name))
    return `does not hold the app: its Info.plist is ${info.bundleId ?? info.name}, not ${(ids.length ? ids : names).join(' or ')}`;
  if (verdictFor(entry, info) !== 'affected')
    return `does not hold an affected build: its Info.plist says version ${info.version || 'none'}`;
  return undefined;
}

function allHomes(root: string): string[] {
  const users = findPath(root, 'Users');
  return users
    ? subdirectories(users).filter(
        (h) => !['public', 'shared', 'default'].includes(basename(h).toLowerCase()),
      )
    : [];
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

/** Existing paths matching `segments` under `base` (`base` itself when there are none); `*` globs within one name, case-insensitively. */
function expand(base: string, segments: string[]): string[] {
  let current = [base];
  for (const segment of segments) {
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
  return current;
}

/** findPath skips symlinks; a symlink that is itself the target is still quarantined (as a link). */
function lstatName(dir: string, name: string): string | undefined {
  const entry = entriesOf(dir).find((e) => e.name.toLowerCase() === name.toLowerCase());
  return entry ? join(dir, entry.name) : undefined;
}
