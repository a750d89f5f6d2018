import { describe, expect, it } from 'vitest';
import type { PackedIndicator } from '../core/intel.js';
import { FilenameMatcher } from './filename-matcher.js';
import { globToRegExp } from './glob.js';

const indicator = (id: string, value: string, extra: Partial<PackedIndicator> = {}): PackedIndicator => ({
  id,
  kind: 'filename',
  value,
  title: id,
  severity: 'high',
  confidence: 'high',
  references: [],
  packId: 'p',
  ...extra,
});

describe('FilenameMatcher', () => {
  const matcher = new FilenameMatcher([
    indicator('exact', '3CXDesktopApp-18.12.416.msi'),
    indicator('agent', '**/Library/Application Support/3CX Desktop App/UpdateAgent'),
    indicator('relative', 'ProgramData/TPM/winscard.dll'),
    indicator('wild', 'icon?.ico'),
    indicator('loki', '\\\\Windows\\\\System32\\\\wlbsctrl\\.dll', { syntax: 'regex' }),
    indicator('loki-fp', '\\\\TPM\\\\[^\\\\]+\\.exe', { syntax: 'regex', falsePositive: 'Program Files' }),
  ]);
  const ids = (path: string) => matcher.match(path).map((i) => i.id);

  it.each([
    ['/home/a/Downloads/3cxdesktopapp-18.12.416.MSI', ['exact']],
    ['/Users/bob/Library/Application Support/3CX Desktop App/UpdateAgent', ['agent']],
    ['/mnt/img/Users/bob/Library/Application Support/3CX Desktop App/UpdateAgent.bak', []],
    ['/mnt/win/ProgramData/TPM/winscard.dll', ['relative']],
    ['/mnt/win/NotProgramData/TPM/winscard.dll', []],
    ['/x/icon3.ico', ['wild']],
    ['/x/icon13.ico', []],
    ['/mnt/win/Windows/System32/wlbsctrl.dll', ['loki']],
    ['/mnt/win/ProgramData/TPM/TpmVscMgrSvr.exe', ['loki-fp']],
    ['/mnt/win/Program Files/TPM/TpmVscMgrSvr.exe', []],
  ])('%s', (path, expected) => {
    expect(ids(path)).toEqual(expected);
  });
});

describe('globToRegExp', () => {
  it.each([
    ['*.iso', 'movie.ISO', true],
    ['*.iso', 'dir/movie.iso', false],
    ['**/node_modules/**', '/a/node_modules/b/c.js', true],
    ['a/[!x]b', 'a/yb', true],
    ['a/[!x]b', 'a/xb', false],
    ['file(1).txt', 'file(1).txt', true],
  ])('%s ~ %s', (glob, path, expected) => {
    expect(globToRegExp(glob).test(path)).toBe(expected);
  });
});
