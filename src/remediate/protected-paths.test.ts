import { describe, expect, it } from 'vitest';
import { dataFolderReason, protectedReason } from './protected-paths.js';

const reason = (path: string) => protectedReason(path.split('/').filter(Boolean));

describe('protectedReason', () => {
  it('protects the root, its top-level folders, system folders and what lies in them', () => {
    for (const path of [
      '',
      'Windows',
      'Program Files',
      'ProgramData',
      'usr',
      'etc',
      'Applications',
      'Users',
      '3CX',
    ])
      expect(reason(path), path).toBe(
        'is the system root or a folder directly below it, never removed whole',
      );
    for (const path of [
      'WINDOWS/System32',
      'Windows/SysWOW64',
      'Program Files/Common Files',
      'program files (x86)/Common Files',
      'Program Files/Windows Defender',
      'ProgramData/Microsoft',
      'Library/Application Support',
      'Library/LaunchAgents',
      'Applications/Utilities',
      'Users/Shared',
      'var/lib',
    ])
      expect(reason(path), path).toBe('is a system folder, never removed whole');
    for (const path of [
      'Windows/System32/config',
      'Windows/System32/config/SOFTWARE',
      'usr/local/bin',
      'etc/ssh',
    ])
      expect(reason(path), path).toBe('lies in a system folder, never removed');
  });

  it('protects profiles, their well-known folders and hives, on every system', () => {
    for (const path of ['Users/alice', 'home/bob'])
      expect(reason(path), path).toBe('is a user profile, never removed whole');
    for (const path of ['var/root', 'private/var/root', 'var/root/Library'])
      expect(reason(path), path).toBeDefined();
    for (const path of [
      'Users/alice/AppData',
      'Users/alice/AppData/Local',
      'users/ALICE/appdata/roaming',
      'Users/alice/AppData/Local/Programs',
      'Users/alice/AppData/Roaming/Microsoft/Windows/Start Menu/Programs',
      'Users/alice/Documents',
      'Users/alice/Desktop',
      'Users/alice/OneDrive - Contoso',
      'Users/dave/Library',
      'Users/dave/Library/Application Support',
      'Users/dave/Library/LaunchAgents',
      'home/bob/.config',
      'home/bob/.local/share',
    ])
      expect(reason(path), path).toBe('is a well-known folder of a user profile, never removed whole');
    expect(reason('Users/alice/NTUSER.DAT')).toBe("is a user's registry hive, never removed whole");
    expect(reason('Users/dave/Library/Keychains/login.keychain-db')).toBe(
      'lies in a well-known folder of a user profile, never removed',
    );
    expect(reason('home/bob/.ssh/id_ed25519')).toBe(
      'lies in a well-known folder of a user profile, never removed',
    );
  });

  it('protects the folders a profile keeps system state in, not app folders below them', () => {
    expect(reason('Users/alice/AppData/Roaming/Microsoft/Windows')).toBe(
      'is a well-known folder of a user profile, never removed whole',
    );
    expect(reason('private/var')).toBe('is a system folder, never removed whole');
    expect(reason('Users/alice/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/3CX')).toBeUndefined();
  });

  it('allows an app folder and the app-specific leftovers in a profile', () => {
    for (const path of [
      'Users/alice/AppData/Local/Programs/3CXDesktopApp',
      'Users/alice/AppData/Roaming/3CXDesktopApp',
      'Users/alice/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/3CX Desktop App.lnk',
      'Users/alice/Desktop/3CX Desktop App.lnk',
      'Program Files/3CXDesktopApp',
      'Applications/3CX Desktop App.app',
      'Users/dave/Library/Application Support/3CX Desktop App',
      'Users/dave/Library/LaunchAgents/com.3cx.updateagent.plist',
      'Library/Application Support/3CX Desktop App',
    ])
      expect(reason(path), path).toBeUndefined();
  });

  it("refuses installs inside a user's data folders, and nowhere else", () => {
    const data = (path: string) => dataFolderReason(path.split('/'));
    expect(data('Users/alice/Documents/Work')).toBe(
      "lies in a user's Documents folder, never removed as an install",
    );
    expect(data('home/bob/Downloads/3cx')).toBe(
      "lies in a user's Downloads folder, never removed as an install",
    );
    expect(data('Users/alice/OneDrive - Contoso/tools')).toBeDefined();
    expect(data('Users/alice/AppData/Local/Programs/3CXDesktopApp')).toBeUndefined();
    expect(data('Program Files/Documents/x')).toBeUndefined();
  });

  it('compares names as Windows does, without trailing dots and spaces', () => {
    for (const path of ['Users/alice/Documents.', 'Users/alice/Documents ', 'Users/alice/AppData. /Local'])
      expect(reason(path), path).toBe('is a well-known folder of a user profile, never removed whole');
    expect(reason('Windows./System32 ')).toBe('is a system folder, never removed whole');
    expect(dataFolderReason('Users/alice/Documents../Work'.split('/'))).toBe(
      "lies in a user's Documents.. folder, never removed as an install",
    );
  });
});
