/** @module Valid chainsweep reports of any size, for tests and benchmarks of what reads them. */
import { fingerprint, hostFingerprint } from '../core/finding.js';
import type { Report } from '../core/report.js';

export interface SampleReportOptions {
  hostId?: string;
  hostname?: string;
  apps?: number;
  findings?: number;
  reportId?: string;
}

/** A scan report of a Windows host with `apps` installed apps and `findings` hash findings (default 50 and 3). */
export function sampleReport(options: SampleReportOptions = {}): Report {
  const hostId = options.hostId ?? '6f0d4c3e-8a1b-4c2d-9e3f-0a1b2c3d4e5f';
  const apps = Array.from({ length: options.apps ?? 50 }, (_, i) => ({
    name: `Example App ${i}`,
    version: `1.${i}.0`,
    source: 'windows-uninstall' as const,
    location: `HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\ExampleApp${i}`,
    publisher: 'Example Ltd',
  }));
  const findings = Array.from({ length: options.findings ?? 3 }, (_, i) => {
    const path = `C:\\Users\\alice\\AppData\\Local\\Programs\\3CXDesktopApp\\app-${i}\\ffmpeg.dll`;
    return {
      fingerprint: hostFingerprint(hostId, fingerprint('3cx-2023', `sha256-${i % 7}`, path)),
      kind: 'sha256' as const,
      indicatorId: `sha256-${i % 7}`,
      packId: '3cx-2023',
      severity: 'critical' as const,
      confidence: 'high' as const,
      title: 'Trojanized ffmpeg.dll shipped with 3CX Desktop App 18.12.407 and 18.12.416',
      subject: { path },
      evidence: {
        file: {
          size: 2_826_240 + i,
          sha256: (
            i.toString(16).padStart(8, '0') +
            '7986bbaee8940da11ce089383521ab420c443ab7b15ed42aed91fd31ce833896'
          ).slice(0, 64),
        },
      },
      references: ['https://www.3cx.com/blog/news/desktopapp-security-alert/'],
    };
  });
  return {
    schemaVersion: 1,
    reportId: options.reportId ?? '9b2f7e7c-3c1d-4a5e-8f60-1d2e3f405162',
    tool: { name: 'chainsweep', version: '0.1.0' },
    command: 'scan',
    host: {
      hostId,
      hostIdSource: 'windows-machine-guid',
      hostname: options.hostname ?? 'desk-0042',
      os: 'win32',
      osRelease: '10.0.19045',
      arch: 'x64',
      addresses: ['10.20.30.42'],
    },
    startedAt: '2026-12-02T09:00:00.000Z',
    finishedAt: '2026-12-02T09:04:12.345Z',
    outcome: 'complete',
    scope: { paths: ['C:\\'], excludes: [], yaraFiles: 'malware-types', yaraEngine: 'native' },
    packs: [{ id: '3cx-2023', title: '3CX 2023', sequence: 7, signed: true, counts: { sha256: 40 } }],
    coverage: [{ name: 'walk', outcome: 'complete', problemCount: 0, problems: [] }],
    inventory: { os: 'windows', apps, verdicts: [] },
    findings,
    stats: {
      files: 120_000,
      bytes: 48_000_000_000,
      yaraFiles: 9_000,
      yaraBytes: 2_000_000_000,
      skipped: {},
      durationMs: 252_345,
    },
  };
}
