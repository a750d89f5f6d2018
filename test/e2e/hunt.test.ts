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
