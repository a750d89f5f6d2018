import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ReportSchema } from '../../src/core/report.js';
import { runCli } from '../../src/testing/run-cli.js';
import { tempTree } from '../../src/testing/temp-tree.js';

describe('chainsweep hunt (end to end)', () => {
  it('answers which machines beaconed and when, across a folder of mixed logs', async () => {
    const dir = tempTree({
      'zeek/dns.log': [
        '#separator \\x09',
        '#fields\tts\tuid\tid.orig_h\tquery',
        '1679476800.0\tA\t10.0.0.5\twww.akamaicontainer.com',
        '1679563200.0\tB\t10.0.0.5\tmsstorageazure.com',
        '1679563300.0\tC\t10.0.0.6\twww.example.com',
        '',
      ].join('\n'),
      'proxy/access.log.1.gz': gzipSync(
        '1679650000.000    100 10.0.0.7 TCP_MISS/200 10 GET http://raw.githubusercontent.com/IconStorages/images/main/icon7.ico - HIER_DIRECT/1.2.3.4 image/x-icon\n',
      ),
    });
    const result = await runCli(['hunt', dir, '--format', 'json']);
    expect(result.code).toBe(1);
    const report = ReportSchema.parse(JSON.parse(result.stdout));
    expect(report.command).toBe('hunt');
    expect(report.hunt?.clients).toEqual([
      {
        client: '10.0.0.5',
        firstSeen: '2023-03-22T09:20:00.000Z',
        lastSeen: '2023-03-23T09:20:00.000Z',
        hits: 2,
        indicators: ['akamaicontainer.com', 'msstorageazure.com'],
      },
      {
        client: '10.0.0.7',
        firstSeen: '2023-03-24T09:26:40.000Z',
        lastSeen: '2023-03-24T09:26:40.000Z',
        hits: 1,
        indicators: ['https://raw.githubusercontent.com/IconStorages/images/main/'],
      },
    ]);
    expect(report.findings.every((f) => f.packId === '3cx-2023' && f.subject.log?.file.startsWith(dir))).toBe(
      true,
    );
    const text = await runCli(['hunt', dir]);
    expect(text.stdout).toContain('2 machines touched indicators, first on 2023-03-22');
  });

  it('takes the user IOC list, time window and log format options, and refuses bad ones', async () => {
    const dir = tempTree({
      'x.log': 'Mar 29 10:00:00 fw kernel: DROP SRC=10.1.1.1 DST=198.51.100.7\n',
      'ips.txt': '198.51.100.0/24;90\n',
    });
    const r = await runCli([
      'hunt',
      join(dir, 'x.log'),
      '--no-bundled',
      '--ioc',
      join(dir, 'ips.txt'),
      '--format',
      'json',
    ]);
    expect(ReportSchema.parse(JSON.parse(r.stdout)).findings.map((f) => f.subject.log?.seen)).toEqual([
      '198.51.100.7',
    ]);
    expect((await runCli(['hunt', join(dir, 'x.log'), '--log-format', 'pcap'])).code).toBe(2);
    expect((await runCli(['hunt', join(dir, 'x.log'), '--since', 'yesterday-ish'])).code).toBe(2);
    expect((await runCli(['hunt', join(dir, 'nope.log')])).stderr).toMatch(/nope\.log: no such file/);
    expect((await runCli(['hunt', join(dir, 'x.log'), '--no-bundled'])).stderr).toMatch(
      /no domain, URL or IP indicators/,
    );
  });
});

describe('chainsweep hunt from standard input', () => {
  it('reads - (plain or gzip) and forces a format with --log-format', async () => {
    const { execFileSync } = await import('node:child_process');
    const { CLI } = await import('../../src/testing/run-cli.js');
    const line =
      '29-Mar-2023 13:00:00.123 queries: info: client @0x1 10.6.6.6#53421 (akamaicontainer.com): query: akamaicontainer.com IN A + (10.0.0.1)\n';
    for (const input of [Buffer.from(line), gzipSync(line)]) {
      let out = '';
      try {
        execFileSync(process.execPath, [CLI, 'hunt', '-', '--log-format', 'bind', '--format', 'json'], {
          input,
        });
      } catch (error) {
        out = String((error as { stdout: Buffer }).stdout);
      }
      const report = ReportSchema.parse(JSON.parse(out));
      expect(
        report.findings.map((f) => [f.subject.log?.file, f.subject.log?.client, f.subject.log?.format]),
      ).toEqual([['-', '10.6.6.6', 'bind']]);
    }
  });
});
