/** @module Folders (and a few files) no removal plan may take, whatever a registry key, plist or pack says. */

type Kind =
  | 'a system folder'
  | 'a user profile'
  | 'a well-known folder of a user profile'
  | "a user's registry hive";

/** Where user profiles live, relative to the system root: Windows and macOS, Linux, root's homes. */
const PROFILES = ['users/*', 'home/*', 'root', 'var/root', 'private/var/root'];

/** Folders of every profile that hold the user's data or the system's per-user state, never one app's. */
const PROFILE_FOLDERS = [
  'appdata',
  'appdata/local',
  'appdata/locallow',
  'appdata/roaming',
  'appdata/local/programs',
  'appdata/local/programs/common',
  'appdata/local/temp',
  'appdata/local/packages',
  'appdata/local/microsoft',
  'appdata/local/microsoft/windows',
  'appdata/local/microsoft/windowsapps',
  'appdata/roaming/microsoft',
  'appdata/roaming/microsoft/windows',
  'appdata/roaming/microsoft/windows/start menu',
  'appdata/roaming/microsoft/windows/start menu/programs',
  'appdata/roaming/microsoft/windows/start menu/programs/startup',
  'appdata/roaming/microsoft/credentials',
  'appdata/roaming/microsoft/protect',
  'appdata/roaming/microsoft/crypto',
  'appdata/roaming/microsoft/systemcertificates',
  'desktop',
  'documents',
  'my documents',
  'downloads',
  'music',
  'pictures',
  'videos',
  'movies',
  'favorites',
  'contacts',
  'links',
  'saved games',
  'searches',
  'onedrive',
  'onedrive - *',
  'dropbox',
  '3d objects',
  'public',
  'applications',
  'applications/utilities',
  'library',
  'library/application support',
  'library/application scripts',
  'library/caches',
  'library/containers',
  'library/group containers',
  'library/preferences',
  'library/launchagents',
  'library/launchdaemons',
  'library/logs',
  'library/saved application state',
  'library/cookies',
  'library/httpstorages',
  'library/webkit',
  'library/mail',
  'library/messages',
  'library/mobile documents',
  'library/safari',
  'library/frameworks',
  'library/extensions',
  'library/fonts',
  'library/internet plug-ins',
  'library/privilegedhelpertools',
  'library/startupitems',
  'library/cloudstorage',
  'library/keychains',
  'library/keychains/**',
  '.ssh',
  '.ssh/**',
  '.gnupg',
  '.gnupg/**',
  '.config',
  '.local',
  '.local/share',
  '.local/share/applications',
  '.local/bin',
  '.cache',
  '.mozilla',
  'snap',
  'bin',
];

/**
 * System folders, relative to the root. Anything one level below the root (drive-root folders, `/usr`, `/etc`,
 * `/Applications`, `Program Files`) is protected without being listed; `**` protects a whole subtree.
 */
const SYSTEM_FOLDERS = [
  'windows/system32',
  'windows/syswow64',
  'windows/winsxs',
  'windows/**',
  'program files/common files',
  'program files (x86)/common files',
  'program files/windowsapps',
  'program files/windowsapps/**',
  'program files/windows *',
  'program files (x86)/windows *',
  'program files/microsoft',
  'program files (x86)/microsoft',
  'program files/internet explorer',
  'program files (x86)/internet explorer',
  'programdata/microsoft',
  'programdata/microsoft/**',
  'programdata/package cache',
  'programdata/packages',
  'programdata/start menu',
  'programdata/desktop',
  'programdata/start menu/programs',
  'programdata/start menu/programs/startup',
  'programdata/microsoft/windows/start menu/programs/startup',
  'system volume information/**',
  '$recycle.bin/**',
  'recovery/**',
  'boot/**',
  'efi/**',
  'system/**',
  'usr/**',
  'etc/**',
  'bin/**',
  'sbin/**',
  'lib/**',
  'lib32/**',
  'lib64/**',
  'libx32/**',
  'dev/**',
  'proc/**',
  'sys/**',
  'run/**',
  'private/etc/**',
  'private/var',
  'private/var/*',
  'private/var/db/**',
  'private/tmp',
  'var/*',
  'var/lib/*',
  'var/db/**',
  'opt/homebrew',
  'opt/homebrew/*',
  'opt/local',
  'library/*',
  'library/application support/apple',
  'library/application support/com.apple.tcc',
  'library/keychains/**',
  'library/launchdaemons',
  'applications/utilities',
  'users/shared',
  'users/public',
  'volumes/*',
];

interface Rule {
  /** One test per name, from the root down. */
  segments: ((name: string) => boolean)[];
  kind: Kind;
  /** Protects everything below `segments` too. */
  subtree: boolean;
}

const RULES: Rule[] = [
  ...SYSTEM_FOLDERS.map((p) => rule(p, 'a system folder')),
  ...PROFILES.map((p) => rule(p, 'a user profile')),
  ...PROFILES.flatMap((profile) => [
    ...PROFILE_FOLDERS.map((p) => rule(`${profile}/${p}`, 'a well-known folder of a user profile')),
    rule(`${profile}/ntuser.*`, "a user's registry hive"),
    rule(`${profile}/appdata/local/microsoft/windows/usrclass.dat*`, "a user's registry hive"),
  ]),
];

function rule(pattern: string, kind: Kind): Rule {
  const subtree = pattern.endsWith('/**');
  const names = (subtree ? pattern.slice(0, -3) : pattern).split('/');
  return { segments: names.map(nameTest), kind, subtree };
}

/** A test of one lower-cased name against a pattern where `*` is any run of characters. */
function nameTest(pattern: string): (name: string) => boolean {
  if (!pattern.includes('*')) return (name) => name === pattern;
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );
  return (name) => regex.test(name);
}

/**
 * Why the path whose names below the system root are `segments` may never be removed: it is the root or a folder
 * directly below it, a system folder, a user profile or a well-known folder of one, lies in a protected subtree,
 * or holds any of those. Names compare as on Windows (see comparable). Undefined if allowed.
 */
export function protectedReason(segments: readonly string[]): string | undefined {
  const names = segments.map(comparable);
  if (names.length <= 1) return 'is the system root or a folder directly below it, never removed whole';
  let within: Rule | undefined;
  let holds = false;
  for (const r of RULES) {
    const common = Math.min(names.length, r.segments.length);
    let matches = true;
    for (let i = 0; i < common && matches; i++)
      matches = (r.segments[i] as (name: string) => boolean)(names[i] as string);
    if (!matches) continue;
    if (names.length === r.segments.length) return `is ${r.kind}, never removed whole`;
    if (names.length < r.segments.length) holds = true;
    else if (r.subtree) within ??= r;
  }
  if (within) return `lies in ${within.kind}, never removed`;
  return holds ? 'holds system folders or user profiles, never removed whole' : undefined;
}

/**
 * A name as Windows and macOS volumes compare it: case-insensitively, and without the trailing dots and spaces
 * Windows strips (`Documents.` and `Documents ` are `Documents`); stricter than needed elsewhere, never looser.
 */
function comparable(name: string): string {
  return name.toLowerCase().replace(/(?<=[^. ])[. ]+$/, '');
}

/** Folders of a profile that hold the user's own files: no installer puts an app there, a planted program might. */
const DATA_FOLDERS = new Set([
  'desktop',
  'documents',
  'my documents',
  'downloads',
  'music',
  'pictures',
  'videos',
  'movies',
  'onedrive',
  'dropbox',
  'icloud drive',
]);

/**
 * Why a folder cannot be an install: it lies in a user's data folder (Documents, Desktop, Downloads...) of a
 * profile under `users/` or `home/`, where a program planted beside the user's files would take them with it.
 */
export function dataFolderReason(segments: readonly string[]): string | undefined {
  const names = segments.map(comparable);
  const [top, , folder] = names;
  if ((top !== 'users' && top !== 'home') || folder === undefined || names.length < 4) return undefined;
  const data = DATA_FOLDERS.has(folder) || folder.startsWith('onedrive - ');
  return data ? `lies in a user's ${segments[2]} folder, never removed as an install` : undefined;
}
