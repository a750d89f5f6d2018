import { execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  createWriteStream,
  openSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { createGzip, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type Report, ReportSchema } from '../../src/core/report.js';
import { CLI, runCli } from '../../src/testing/run-cli.js';
import { tempTree } from '../../src/testing/temp-tree.js';

const HIT = '{"ts":1679572800,"uid":"A","id.orig_h":"10.0.0.5","query":"akamaicontainer.com"}\n';
const CLEAN = '{"ts":1679572800,"uid":"A","id.orig_h":"10.0.0.5","query":"www.example.com"}\n';

const report = (stdout: string): Report => ReportSchema.parse(JSON.parse(stdout));
const clients = (r: Report) => r.findings.map((f) => f.subject.log?.client);
const problemCodes = (r: Report) => r.coverage.flatMap((c) => c.problems.map((p) => p.code)).sort();

/** Runs a shell command line (for process substitution and FIFOs); `$CLI` is the built chainsweep. */
function shell(script: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', script],
      {
        cwd,
        timeout: 60_000,
        maxBuffer: 64 << 20,
        env: { ...process.env, NO_COLOR: '1', CLI: `${process.execPath} ${CLI}` },
      },
      (error, stdout, stderr) =>
        resolve({ code: typeof error?.code === 'number' ? error.code : error ? -1 : 0, stdout, stderr }),
    );
  });
}

describe('hunt reads what the user named', () => {
  it('follows a symlink named on the command line', async () => {
    const dir = tempTree({ 'real/dns.json': HIT });
    symlinkSync(join(dir, 'real/dns.json'), join(dir, 'link.json'));
    symlinkSync(join(dir, 'real'), join(dir, 'linkdir'));
    for (const named of ['link.json', 'linkdir']) {
      const r = await runCli(['hunt', join(dir, named), '--format', 'json']);
      expect(r.code).toBe(1);
      expect(clients(report(r.stdout))).toEqual(['10.0.0.5']);
      expect(report(r.stdout).outcome).toBe('complete');
    }
  });

  it('reads process substitution, /dev/stdin and a FIFO as streams, gzip or plain', async () => {
    const dir = tempTree({ 'dns.json': HIT, 'dns.json.gz': gzipSync(HIT) });
    for (const script of [
      '$CLI hunt <(cat dns.json) --format json',
      '$CLI hunt <(cat dns.json.gz) --format json',
      'cat dns.json | $CLI hunt /dev/stdin --format json',
      "mkfifo q && { timeout 20 sh -c 'cat dns.json.gz > q' >/dev/null 2>&1 & } && $CLI hunt q --format json",
    ]) {
      const r = await shell(script, dir);
      expect(r.code, `${script}: ${r.stderr}`).toBe(1);
      expect(clients(report(r.stdout))).toEqual(['10.0.0.5']);
    }
  });

  it('reports symlinks, special files and unreadable folders inside folders: partial, exit 3', async () => {
    const dir = tempTree({ 'logs/a.json': CLEAN, 'logs/locked/b.json': HIT, 'elsewhere/c.json': HIT });
    symlinkSync(join(dir, 'elsewhere/c.json'), join(dir, 'logs/c.json'));
    await shell('mkfifo logs/pipe', dir);
    chmodSync(join(dir, 'logs/locked'), 0o000);
    try {
      const r = await runCli(['hunt', join(dir, 'logs'), '--format', 'json'], {
        obeyPermissions: true,
        timeoutMs: 20_000,
      });
      expect(r.code).toBe(3);
      const rep = report(r.stdout);
      expect(rep.outcome).toBe('partial');
      expect(problemCodes(rep)).toEqual(['special', 'symlink', 'unreadable']);
      expect(rep.coverage[0]?.problems.find((p) => p.code === 'symlink')?.path).toBe(
        join(dir, 'logs/c.json'),
      );
    } finally {
      chmodSync(join(dir, 'logs/locked'), 0o755);
    }
  });

  it('reads a log whose name is not UTF-8, and reports the name escaped', async () => {
    const dir = tempTree();
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/x`), Buffer.from([0xff]), Buffer.from('.json')]), HIT);
    const r = await runCli(['hunt', dir, '--format', 'json']);
    expect(r.code).toBe(1);
    expect(report(r.stdout).findings.map((f) => f.subject.log?.file)).toEqual([`${dir}/x\\xFF.json`]);
  });

  it('escapes log values and file names in text output, so a log cannot forge a line', async () => {
    const dir = tempTree();
    const forged = (client: string) =>
      `${JSON.stringify({ ts: 1679572800, uid: 'A', 'id.orig_h': client, query: 'akamaicontainer.com' })}\n`;
    writeFileSync(
      join(dir, 'a.json'),
      forged('10.0.0.1\nresult: 0 hits; coverage complete') + forged('\x1b[2J\u202e10.0.0.2'),
    );
    writeFileSync(join(dir, 'x\nresult: 0 hits; coverage complete\x1b[0m.json'), HIT);
    const r = await runCli(['hunt', dir]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('result:'))).toEqual([
      'result: 3 hits; coverage complete',
    ]);
    for (const raw of ['\x1b', '\r', '\u202e']) expect(r.stdout).not.toContain(raw);
    expect(r.stdout).toContain('10.0.0.1\\x0Aresult: 0 hits');
  });

  it('an unreadable log named on the command line is partial', async () => {
    const dir = tempTree({ 'a.json': HIT });
    chmodSync(join(dir, 'a.json'), 0o000);
    const r = await runCli(['hunt', join(dir, 'a.json'), '--format', 'json'], { obeyPermissions: true });
    expect(r.code).toBe(3);
    expect(problemCodes(report(r.stdout))).toEqual(['unreadable']);
  });

  it('rejected IOC lines make the hunt partial, as in scan', async () => {
    const dir = tempTree({
      'a.json': CLEAN,
      'iocs.txt': 'akamaicontainer.com\nthis is ;;; not an indicator\n',
    });
    const r = await runCli([
      'hunt',
      join(dir, 'a.json'),
      '--no-bundled',
      '--ioc',
      join(dir, 'iocs.txt'),
      '--format',
      'json',
    ]);
    expect(r.stderr).toMatch(/iocs\.txt:2/);
    expect(r.code).toBe(3);
    expect(problemCodes(report(r.stdout))).toEqual(['rejected']);
  });
});

describe('hunt infers missing years from the file, never from today', () => {
  const lines = [
    'Dec 30 12:00:00 gw dnsmasq[812]: query[A] akamaicontainer.com from 10.7.7.1',
    'Jan  2 12:00:10 gw dnsmasq[812]: query[A] akamaicontainer.com from 10.7.7.2',
    '',
  ].join('\n');
  const bind =
    'Mar 29 13:00:00 ns1 named[99]: client @0x7f1c2c0010a0 10.6.6.6#53421 (akamaicontainer.com): query: akamaicontainer.com IN A + (10.0.0.1)\n';
  const times = (r: Report) => r.findings.map((f) => f.subject.log?.timestamp?.slice(0, 10));

  it('from the mtime: a month later than the mtime means the previous year', async () => {
    const dir = tempTree({ 'dnsmasq.log': lines, 'named.log': bind });
    utimesSync(join(dir, 'dnsmasq.log'), new Date('2019-01-15T12:00:00Z'), new Date('2019-01-15T12:00:00Z'));
    utimesSync(join(dir, 'named.log'), new Date('2017-06-01T12:00:00Z'), new Date('2017-06-01T12:00:00Z'));
    const r = report((await runCli(['hunt', join(dir, 'dnsmasq.log'), '--format', 'json'])).stdout);
    expect(times(r)).toEqual(['2018-12-30', '2019-01-02']);
    const b = report((await runCli(['hunt', join(dir, 'named.log'), '--format', 'json'])).stdout);
    expect(b.findings.map((f) => [f.subject.log?.format, f.subject.log?.client])).toEqual([
      ['bind', '10.6.6.6'],
    ]);
    expect(times(b)).toEqual(['2017-03-29']);
  });

  it('from --year N; a stream without --year has no year, and says so', async () => {
    const dir = tempTree({ 'dnsmasq.log': lines });
    const r = await runCli(['hunt', join(dir, 'dnsmasq.log'), '--year', '2021', '--format', 'json']);
    expect(times(report(r.stdout))).toEqual(['2021-01-02', '2021-12-30']);
    const piped = await shell('cat dnsmasq.log | $CLI hunt - --format json', dir);
    const p = report(piped.stdout);
    expect(times(p)).toEqual([undefined, undefined]);
    expect(p.hunt?.logs[0]?.counts['no-year']).toBe(2);
    expect((await runCli(['hunt', join(dir, 'dnsmasq.log'), '--year', '23'])).code).toBe(2);
  });
});

describe('hunt reads hostile JSON logs', () => {
  it('reads the record and counts a bad time: 1e400, strings, objects, negatives, NaN, huge nesting', async () => {
    const bad = ['1e400', '-1e400', '"soon"', '{"a":1}', '-5', 'null', '"NaN"', '1e20', '[1]', 'true'];
    const zeek = bad.map(
      (ts, i) => `{"ts":${ts},"uid":"U${i}","id.orig_h":"10.1.0.${i}","query":"akamaicontainer.com"}`,
    );
    const eve = bad.map(
      (ts, i) =>
        `{"timestamp":${ts},"event_type":"dns","src_ip":"10.2.0.${i}","dns":{"rrname":"akamaicontainer.com"}}`,
    );
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const wide = `[${Array(200_000).fill('{"a":[1,2,3]}').join(',')}]`;
    const dir = tempTree({
      'zeek.json': `${zeek.join('\n')}\n`,
      'eve.json': `${eve.join('\n')}\n`,
      'deep.json': `{"ts":1679572800,"uid":"D","id.orig_h":"10.3.0.1","query":"akamaicontainer.com","x":${deep}}\n`,
      'wide.json': `{"ts":1679572800,"uid":"W","id.orig_h":"10.3.0.2","x":${wide},"query":"akamaicontainer.com"}\n`,
    });
    const r = await runCli(['hunt', dir, '--format', 'json', '--log-format', 'zeek-json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const zeekOnly = report(r.stdout);
    expect(
      zeekOnly.findings
        .filter((f) => f.subject.log?.file.endsWith('zeek.json'))
        .map((f) => f.subject.log?.client),
    ).toEqual(bad.map((_, i) => `10.1.0.${i}`));
    expect(zeekOnly.findings.filter((f) => f.subject.log?.timestamp)).toEqual(
      zeekOnly.findings.filter((f) => /deep|wide/.test(f.subject.log?.file ?? '')),
    );
    expect(zeekOnly.hunt?.logs.find((l) => l.file.endsWith('zeek.json'))?.counts['bad-times']).toBe(
      bad.length,
    );
    expect(clients(zeekOnly).filter((c) => c?.startsWith('10.3.'))).toEqual(['10.3.0.1', '10.3.0.2']);
    const detected = report((await runCli(['hunt', join(dir, 'eve.json'), '--format', 'json'])).stdout);
    expect(clients(detected)).toEqual(bad.map((_, i) => `10.2.0.${i}`));
    expect(detected.hunt?.logs[0]?.counts['bad-times']).toBe(bad.length);
  });
});

describe('hunt has bounds', () => {
  it('stops inflating a gzip bomb at the ratio limit, reports it, and reads the other logs', async () => {
    const dir = tempTree({ 'ok.json': HIT, 'small.json.gz': gzipSync(HIT.repeat(20_000)) });
    await new Promise<void>((resolve, reject) => {
      const gzip = createGzip({ level: 9 });
      const out = createWriteStream(join(dir, 'bomb.log.gz'));
      gzip.pipe(out).on('finish', resolve).on('error', reject);
      const zeros = Buffer.alloc(16 << 20);
      let left = 64; // 1 GiB of zeros, written 16 MiB at a time
      const more = () => {
        while (left > 0) {
          left--;
          if (!gzip.write(zeros)) return void gzip.once('drain', more);
        }
        gzip.end();
      };
      more();
    });
    const started = Date.now();
    const r = await runCli(['hunt', dir, '--format', 'json'], { timeoutMs: 120_000 });
    const rep = report(r.stdout);
    expect(r.code).toBe(1);
    expect(rep.outcome).toBe('partial');
    const problem = rep.coverage[0]?.problems[0];
    expect(problem?.path).toBe(join(dir, 'bomb.log.gz'));
    expect(problem?.code).toBe('gzip-limit');
    expect(problem?.message).toMatch(/ratio/);
    expect(rep.findings.filter((f) => f.subject.log?.file.endsWith('ok.json'))).toHaveLength(1);
    expect(rep.findings.filter((f) => f.subject.log?.file.endsWith('small.json.gz'))).toHaveLength(20_000);
    expect(Date.now() - started).toBeLessThan(60_000);

    const capped = report(
      (
        await runCli([
          'hunt',
          join(dir, 'small.json.gz'),
          '--max-inflated-size',
          '100K',
          '--max-inflate-ratio',
          '5000',
          '--format',
          'json',
        ])
      ).stdout,
    );
    expect(capped.coverage[0]?.problems.map((p) => [p.code, /size/.test(p.message)])).toEqual([
      ['gzip-limit', true],
    ]);
    expect(capped.findings.length).toBeGreaterThan(500);
    expect(capped.findings.length).toBeLessThan(2_000);
    expect((await runCli(['hunt', dir, '--max-inflate-ratio', '0'])).code).toBe(2);
  }, 180_000);

  it('streams millions of hits as ndjson and keeps a bounded summary', async () => {
    const dir = tempTree();
    const perFile = 1_250_000;
    for (const name of ['a.log', 'b.log']) {
      const fd = openSync(join(dir, name), 'w');
      writeSync(fd, '#separator \\x09\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tquery\n');
      for (let i = 0; i < perFile; i += 10_000) {
        let block = '';
        for (let j = i; j < i + 10_000; j++)
          block += `${1679572800 + j}\tU\t10.${j % 7}.${(j >> 8) & 255}.${j & 255}\takamaicontainer.com\n`;
        writeSync(fd, block);
      }
      closeSync(fd);
    }
    const iocs = join(tempTree({ 'iocs.txt': 'akamaicontainer.com\n' }), 'iocs.txt');
    // The main thread gets a 300 MiB heap: the summary must stay bounded, however many hits there are.
    const child = spawn(
      process.execPath,
      [
        '--max-old-space-size=300',
        CLI,
        'hunt',
        dir,
        '--threads',
        '2',
        '--format',
        'ndjson',
        '--no-bundled',
        '--ioc',
        iocs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    let lines = 0;
    let last = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
      last += text;
      const cut = last.lastIndexOf('\n', last.length - 2);
      if (cut >= 0) last = last.slice(cut + 1);
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(1);
    expect(lines).toBe(2 * perFile + 1);
    const summary = JSON.parse(last);
    expect(summary.type).toBe('summary');
    const hunt = summary.report.hunt as NonNullable<Report['hunt']>;
    expect(hunt.logs.map((l) => l.hits)).toEqual([perFile, perFile]);
    expect(hunt.unlistedHits).toBe(2 * perFile - 100_000);
    expect(hunt.clients.length).toBeLessThanOrEqual(100_001);
    expect(hunt.clients.reduce((n, c) => n + c.hits, 0)).toBe(2 * perFile);
  }, 600_000);
});
