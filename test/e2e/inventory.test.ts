import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Report, ReportSchema } from '../../src/core/report.js';
import { buildPe, versionInfo } from '../../src/testing/pe-builder.js';
import { uninstallHive } from '../../src/testing/regf-builder.js';
import { runCli } from '../../src/testing/run-cli.js';
import { tempTree } from '../../src/testing/temp-tree.js';

const threeCxExe = (version: string) =>
  buildPe({
    version: versionInfo({
      fileVersion: `${version}.0`,
      strings: {
        CompanyName: '3CX',
        ProductName: '3CX Desktop App',
        ProductVersion: version,
        FileVersion: version,
        FileDescription: '3CX Desktop App',
      },
    }),
  });
const parsed = (stdout: string): Report => ReportSchema.parse(JSON.parse(stdout));
const verdictsOf = (report: Report) =>
  report.inventory.verdicts
    .map((v) => {
      const app = report.inventory.apps[v.app];
      return `${v.verdict} ${v.productId} ${app?.source} ${app?.user ?? '-'} ${app?.version}`;
    })
    .sort();

describe('chainsweep inventory (end to end, on images)', () => {
  it('finds per-user 3CX installs in a Windows image from program folders and user hives', async () => {
    const image = tempTree({
      'Windows/System32/kernel32.dll': buildPe({ dll: true }),
      'Windows/System32/config/SOFTWARE': uninstallHive({
        '7-Zip': { DisplayName: '7-Zip 23.01 (x64)', DisplayVersion: '23.01', Publisher: 'Igor Pavlov' },
      }),
      'Users/alice/AppData/Local/Programs/3CXDesktopApp/3CXDesktopApp.exe': threeCxExe('18.12.416'),
      'Users/alice/AppData/Local/Programs/3CXDesktopApp/Uninstall 3CXDesktopApp.exe': buildPe({}),
      'Users/alice/NTUSER.DAT': uninstallHive(
        {
          '3CXDesktopApp': {
            DisplayName: '3CX Desktop App',
            DisplayVersion: '18.12.416',
            Publisher: '3CX Ltd',
            UninstallString:
              '"C:\\Users\\alice\\AppData\\Local\\Programs\\3CXDesktopApp\\Uninstall 3CXDesktopApp.exe" /currentuser',
          },
        },
        { user: true },
      ),
      'Users/bob/AppData/Local/Programs/3CXDesktopApp/3CXDesktopApp.exe': threeCxExe('18.12.422'),
      'Users/carol/AppData/Local/Programs/notepad-plus/notepad++.exe': buildPe({
        version: versionInfo({
          fileVersion: '8.6.2.0',
          strings: { ProductName: 'Notepad++', ProductVersion: '8.6.2' },
        }),
      }),
      'Users/carol/NTUSER.DAT': 'this is not a registry hive',
      'Program Files/Broken/Broken.exe': buildPe({}).subarray(0, 100),
    });
    const result = await runCli(['inventory', '--root', image, '--format', 'json']);
    const report = parsed(result.stdout);
    expect(report.inventory.os).toBe('windows');
    expect(verdictsOf(report)).toEqual([
      'affected 3cx-desktopapp-windows windows-programs alice 18.12.416',
      'affected 3cx-desktopapp-windows windows-uninstall alice 18.12.416',
      'fixed 3cx-desktopapp-windows windows-programs bob 18.12.422',
    ]);
    expect(report.inventory.apps.map((a) => `${a.name} ${a.version}`)).toEqual(
      expect.arrayContaining(['Notepad++ 8.6.2', '7-Zip 23.01 (x64) 23.01']),
    );
    const uninstall = report.inventory.apps.find(
      (a) => a.source === 'windows-uninstall' && a.user === 'alice',
    );
    expect(uninstall?.uninstallCommand).toContain('/currentuser');
    expect(uninstall?.location).toBe(
      'HKU\\alice\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\3CXDesktopApp',
    );
    // The corrupt hive and the truncated program are reported; everything else was still read.
    const problems = report.coverage.flatMap((c) =>
      c.problems.map((p) => `${c.name} ${p.code} ${p.path.slice(image.length)}`),
    );
    expect(problems.sort()).toEqual([
      'apps/windows-programs unreadable-executable /Program Files/Broken/Broken.exe',
      'apps/windows-uninstall unreadable-hive /Users/carol/NTUSER.DAT',
    ]);
    expect(report.outcome).toBe('partial');
    expect(result.code).toBe(1);
    expect(report.findings.filter((f) => f.kind === 'app')).toHaveLength(2);
  });

  it('reads binary and XML Info.plists in a macOS image and skips a bundle whose plist is neither', async () => {
    const fixture = (name: string) =>
      readFileSync(new URL(`../../src/collectors/parsers/testdata/${name}`, import.meta.url));
    const image = tempTree({
      'System/Library/CoreServices/SystemVersion.plist':
        '<?xml version="1.0"?><plist version="1.0"><dict><key>ProductVersion</key><string>13.2.1</string></dict></plist>',
      'Applications/3CX Desktop App.app/Contents/Info.plist': fixture('3cx-Info.binary.plist'),
      'Applications/Utilities/Old 3CX.app/Contents/Info.plist': fixture('3cx-Info.xml.plist'),
      'Users/dave/Applications/3CX Desktop App.app/Contents/Info.plist': fixture(
        '3cx-clean-Info.binary.plist',
      ),
      'Applications/Broken.app/Contents/Info.plist': 'CFBundleVersion = 1;',
    });
    const report = parsed((await runCli(['inventory', '--root', image, '--format', 'json'])).stdout);
    expect(report.inventory.os).toBe('macos');
    expect(verdictsOf(report)).toEqual([
      'affected 3cx-desktopapp-macos macos-bundle - 18.12.416',
      'affected 3cx-desktopapp-macos macos-bundle - 18.12.416',
      'fixed 3cx-desktopapp-macos macos-bundle dave 18.12.422',
    ]);
    const bad = report.coverage.find((c) => c.name === 'apps/macos-bundles')?.problems;
    expect(bad?.map((p) => p.code)).toEqual(['unreadable-plist']);
  });

  it('judges Debian packages by their exact versions: 5.6.1-1 affected, 5.6.1+really5.4.5-1 fixed', async () => {
    const status = readFileSync(
      new URL('../../src/collectors/parsers/testdata/dpkg-status', import.meta.url),
      'utf8',
    );
    const image = tempTree({
      'etc/os-release': 'ID=debian\nVERSION_CODENAME=trixie\n',
      'var/lib/dpkg/status': status,
    });
    const result = await runCli(['inventory', '--root', image, '--format', 'json']);
    const report = parsed(result.stdout);
    expect(report.inventory.os).toBe('linux');
    expect(verdictsOf(report)).toEqual([
      'affected xz-dpkg dpkg - 5.6.1-1',
      'fixed xz-dpkg dpkg - 5.6.1+really5.4.5-1',
    ]);
    expect(result.code).toBe(1);
    const text = await runCli(['inventory', '--root', image]);
    expect(text.stdout).toContain('AFFECTED     liblzma5 5.6.1-1  [dpkg]');
    expect(text.stdout).toContain('https://www.debian.org/security/2024/dsa-5649');
  });

  it('says what it is when a path is not an image of a known system', async () => {
    const report = parsed(
      (await runCli(['inventory', '--root', tempTree({ 'x.txt': 'x' }), '--format', 'json'])).stdout,
    );
    expect(report.inventory).toEqual({ os: 'unknown', apps: [], verdicts: [] });
  });
});
