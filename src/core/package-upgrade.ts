/** @module The command that upgrades a package-managed install, by inventory source. */

const UPGRADE: Record<string, (name: string) => string> = {
  dpkg: (n) => `apt-get update && apt-get install --only-upgrade ${n}`,
  rpm: (n) => `dnf upgrade --refresh ${n}   # or: zypper update ${n}`,
  pacman: () => 'pacman -Syu',
  apk: (n) => `apk upgrade ${n}`,
  homebrew: (n) => `brew upgrade ${n}`,
};

const PLAIN_WORD = /^[A-Za-z0-9][A-Za-z0-9+._:@-]*$/;

/** A POSIX shell word for `text`: as it is when plain, else single-quoted, so a name can never run anything. */
export function shellWord(text: string): string {
  return PLAIN_WORD.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Whether installs of `source` belong to a package manager (upgraded, never quarantined). */
export function isPackageSource(source: string): boolean {
  return Object.hasOwn(UPGRADE, source);
}

/**
 * The upgrade command for package `name` installed through `source`; undefined when no package manager owns it,
 * or when the name (a claim of the host) starts with `-` and would be read as an option. The name is quoted as one
 * shell word.
 */
export function packageUpgradeCommand(source: string, name: string): string | undefined {
  if (!isPackageSource(source) || name.startsWith('-')) return undefined;
  return UPGRADE[source]?.(shellWord(name));
}
