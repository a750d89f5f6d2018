import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Report, ReportSchema } from '../../src/core/report.js';
import { validateReportBody } from '../../src/core/report-body.js';
import { NdjsonLineSchema } from '../../src/report/ndjson.js';
import { runCli } from '../../src/testing/run-cli.js';
import { tempTree } from '../../src/testing/temp-tree.js';

const EVIL = 'this file is known bad\n';
const sha256 = (text: string) => execFileSync('sha256sum', { input: text }).toString().slice(0, 64);
const iocs = tempTree({ 'hashes.txt': `${sha256(EVIL)};known bad test file\n` });
const IOC = join(iocs, 'hashes.txt');

/** The report the CLI printed, after checking it passes the hub's validator byte for byte. */
function reportOf(stdout: string): Report {
  const checked = validateReportBody(new TextEncoder().encode(stdout));
  expect(checked.ok ? 'ok' : checked).toBe('ok');
  return ReportSchema.parse(JSON.parse(stdout));
}

const linuxImage = (machineId: string, name: string) =>
  tempTree({
    'etc/machine-id': `${machineId}\n`,
    'etc/hostname': `${name}\n`,
    'etc/os-release': 'ID=debian\nVERSION_ID="12"\n',
    'home/alice/Downloads/evil.bin': EVIL,
  });

describe('the host a report describes (end to end)', () => {
  it("scan --root and inventory --root carry the image's host; the same path on two hosts never shares a fingerprint", async () => {
    const images = [
      linuxImage('0123456789abcdef0123456789abcdef', 'web-01'),
      linuxImage('FEDCBA9876543210FEDCBA9876543210', 'web-02'),
    ];
    const scans: Report[] = [];
    for (const [i, image] of images.entries()) {
      const scan = await runCli(['scan', '--root', image, '--no-bundled', '--ioc', IOC, '--format', 'json']);
      expect(scan.code).toBe(1);
      const report = reportOf(scan.stdout);
      const inventory = await runCli(['inventory', '--root', image, '--no-bundled', '--format', 'json']);
      expect(inventory.code).toBe(0);
      expect(reportOf(inventory.stdout).host).toEqual(report.host);
      expect(report.host).toMatchObject({
        hostId: i === 0 ? '0123456789abcdef0123456789abcdef' : 'fedcba9876543210fedcba9876543210',
        hostIdSource: 'linux-machine-id',
        hostname: i === 0 ? 'web-01' : 'web-02',
        os: 'linux',
        osRelease: '12',
        addresses: [],
      });
      scans.push(report);
    }
    // The same path on two machines: one image whose machine-id changes between two scans.
    const image = images[0] as string;
    const evilOf = async () => {
      const run = await runCli(['scan', '--root', image, '--no-bundled', '--ioc', IOC, '--format', 'json']);
      return reportOf(run.stdout).findings.find(
        (f) => f.subject.imagePath === '/home/alice/Downloads/evil.bin',
      );
    };
    const first = await evilOf();
    expect((await evilOf())?.fingerprint).toBe(first?.fingerprint);
    writeFileSync(join(image, 'etc/machine-id'), 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n');
    const elsewhere = await evilOf();
    expect(elsewhere?.subject).toEqual(first?.subject);
    expect(elsewhere?.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(elsewhere?.fingerprint).not.toBe(first?.fingerprint);
  });

  it('streams the same fingerprints in NDJSON as the JSON report holds', async () => {
    const image = linuxImage('0123456789abcdef0123456789abcdef', 'web-01');
    const args = ['scan', '--root', image, '--no-bundled', '--ioc', IOC];
    const json = reportOf((await runCli([...args, '--format', 'json'])).stdout);
    const lines = (await runCli([...args, '--format', 'ndjson'])).stdout
      .trim()
      .split('\n')
      .map((l) => NdjsonLineSchema.parse(JSON.parse(l)));
    const streamed = lines.flatMap((l) => (l.type === 'finding' ? [l.finding.fingerprint] : []));
    expect(streamed).toEqual(json.findings.map((f) => f.fingerprint));
    const summary = lines.at(-1);
    expect(summary?.type === 'summary' && summary.report.host).toEqual(json.host);
  });

  it('scan, inventory and hunt on the live host carry the same host', async () => {
    const dir = tempTree({
      'files/evil.bin': EVIL,
      'logs/dns.log': [
        '#separator \\x09',
        '#fields\tts\tuid\tid.orig_h\tquery',
        '1679476800.0\tA\t10.0.0.5\twww.akamaicontainer.com',
        '',
      ].join('\n'),
    });
    const scan = await runCli(['scan', join(dir, 'files'), '--no-bundled', '--ioc', IOC, '--format', 'json']);
    const inventory = await runCli(['inventory', '--no-bundled', '--format', 'json']);
    const hunt = await runCli(['hunt', join(dir, 'logs'), '--format', 'json']);
    expect([scan.code, hunt.code]).toEqual([1, 1]);
    const hosts = [scan, inventory, hunt].map((r) => reportOf(r.stdout).host);
    expect(hosts[1]).toEqual(hosts[0]);
    expect(hosts[2]).toEqual(hosts[0]);
    expect(hosts[0]?.hostId).toMatch(/^[0-9a-f-]{32,36}$/);
  });
  it('scan --root never carries a control character from a dpkg database into the report', async () => {
    const image = linuxImage('0123456789abcdef0123456789abcdef', 'web-01');
    mkdirSync(join(image, 'var/lib/dpkg'), { recursive: true });
    writeFileSync(
      join(image, 'var/lib/dpkg/status'),
      'Package: ev\u0000il\u001b[2J\nStatus: install ok installed\nVersion: 1.0\u0000\u007f-1\n\nPackage: \u0000\nStatus: install ok installed\nVersion: 2\n',
    );
    const scan = await runCli(['scan', '--root', image, '--no-bundled', '--ioc', IOC, '--format', 'json']);
    expect(scan.stdout).not.toMatch(/\\u00[01][0-9a-f]|\\u007f/i);
    const report = reportOf(scan.stdout);
    expect(report.inventory.apps.map((a) => [a.name, a.version])).toEqual([['evil[2J', '1.0-1']]);
    const dpkg = report.coverage.find((c) => c.name === 'apps/dpkg');
    expect(JSON.stringify(dpkg)).toMatch(/control-characters/);
  });
});
