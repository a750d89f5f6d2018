import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { packageUpgradeCommand, shellWord } from './package-upgrade.js';

describe('packageUpgradeCommand', () => {
  it('names the package manager of each source, and none for an install no manager owns', () => {
    expect(packageUpgradeCommand('dpkg', '3cxdesktopapp')).toBe(
      'apt-get update && apt-get install --only-upgrade 3cxdesktopapp',
    );
    expect(packageUpgradeCommand('homebrew', 'xz')).toBe('brew upgrade xz');
    expect(packageUpgradeCommand('windows-uninstall', '3CX Desktop App')).toBeUndefined();
    expect(packageUpgradeCommand('toString', 'x')).toBeUndefined();
  });

  it('quotes a hostile package name as one inert shell word', () => {
    for (const name of ['x; touch /tmp/pwned', '$(id)', "a'b", '`id`', 'new\nline']) {
      const word = shellWord(name);
      expect(execFileSync('sh', ['-c', `printf %s ${word}`]).toString()).toBe(name);
    }
    expect(packageUpgradeCommand('apk', "x'; id; '")).toBe(`apk upgrade 'x'\\''; id; '\\'''`);
    expect(packageUpgradeCommand('dpkg', '--reinstall')).toBeUndefined();
  });
});
