import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasCommand } from '../../testing/has-command.js';
import { uninstallHive } from '../../testing/regf-builder.js';
import { tempTree } from '../../testing/temp-tree.js';
import { bufferSource } from './byte-source.js';
import { Hive, RegfFormatError } from './regf.js';

const UNINSTALL = 'Microsoft\\Windows\\CurrentVersion\\Uninstall';
const software = uninstallHive({
  '3CXDesktopApp': {
    DisplayName: '3CX Desktop App',
    DisplayVersion: '18.12.416',
    Publisher: '3CX Ltd',
    EstimatedSize: 330000,
  },
  '{90160000-0011-0000-0000-0000000FF1CE}': {
    DisplayName: 'Microsoft Office',
    DisplayVersion: '16.0.4266.1001',
    Long: 'x'.repeat(5000),
  },
});

describe('Hive', () => {
  it('reads keys and values by path, case-insensitively', () => {
    const hive = Hive.open(bufferSource(software));
    const uninstall = hive.key(UNINSTALL.toLowerCase());
    expect(uninstall?.subkeys().map((k) => k.name)).toEqual([
      '3CXDesktopApp',
      '{90160000-0011-0000-0000-0000000FF1CE}',
    ]);
    const app = uninstall?.subkey('3cxdesktopapp');
    expect(app?.text('DisplayVersion')).toBe('18.12.416');
    expect(app?.text('EstimatedSize')).toBe('330000');
    expect(uninstall?.subkey('{90160000-0011-0000-0000-0000000FF1CE}')?.text('Long')).toHaveLength(5000);
    expect(hive.key('Microsoft\\Nope')).toBeUndefined();
  });

  it.runIf(hasCommand('hivexget'))('writes hives that hivex reads the same way', () => {
    const dir = tempTree({ SOFTWARE: software });
    const out = execFileSync(
      'hivexget',
      [join(dir, 'SOFTWARE'), `${UNINSTALL}\\3CXDesktopApp`, 'DisplayVersion'],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe('18.12.416');
  });

  it.runIf(hasCommand('hivexregedit'))('reads keys that hivex wrote', () => {
    const dir = tempTree({ SOFTWARE: software });
    const reg = [
      'Windows Registry Editor Version 5.00',
      '',
      `[HKEY_LOCAL_MACHINE\\SOFTWARE\\${UNINSTALL}\\Zoom]`,
      '"DisplayName"="Zoom Workplace"',
      '"DisplayVersion"="6.1.0 (4214)"',
      '"NoModify"=dword:00000001',
      '',
    ].join('\r\n');
    writeFileSync(join(dir, 'add.reg'), reg);
    execFileSync('hivexregedit', [
      '--merge',
      join(dir, 'SOFTWARE'),
      '--prefix',
      'HKEY_LOCAL_MACHINE\\SOFTWARE',
      join(dir, 'add.reg'),
    ]);
    const hive = Hive.open(bufferSource(readFileSync(join(dir, 'SOFTWARE'))));
    const zoom = hive.key(`${UNINSTALL}\\Zoom`);
    expect(zoom?.text('DisplayVersion')).toBe('6.1.0 (4214)');
    expect(zoom?.text('NoModify')).toBe('1');
    expect(hive.key(UNINSTALL)?.subkeys()).toHaveLength(3);
  });

  it('refuses files that are not hives, and corrupt ones, with RegfFormatError', () => {
    expect(() => Hive.open(bufferSource(Buffer.from('not a hive at all')))).toThrow(RegfFormatError);
    const good = software;
    expect(() => Hive.open(bufferSource(good.subarray(0, 4200))).key(UNINSTALL)).toThrow(RegfFormatError);
    const corrupt = Buffer.from(good);
    corrupt.writeUInt32LE(0x7ffffff0, 36); // root cell offset far past the end
    expect(() => Hive.open(bufferSource(corrupt))).toThrow(RegfFormatError);
    const badList = Buffer.from(good);
    badList.write('zz', badList.indexOf('lf', 4096), 'latin1');
    expect(() => Hive.open(bufferSource(badList)).key(UNINSTALL)?.subkeys()).toThrow(/unknown subkey list/);
  });
});
