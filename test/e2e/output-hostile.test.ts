import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReportSchema } from '../../src/core/report.js';
import { CLI, runCli } from '../../src/testing/run-cli.js';
import { tempTree } from '../../src/testing/temp-tree.js';

const HIT = '{"ts":1679572800,"uid":"A","id.orig_h":"10.0.0.5","query":"akamaicontainer.com"}\n';
const isRoot = process.getuid?.() === 0;
const tmpLeft = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tmp'));
const oneLine = (stderr: string) => stderr.trimEnd().split('\n');

/** Runs the CLI with stdout on `stdout` (a file descriptor, or a pipe whose reading end is closed at once). */
function runWithStdout(
  args: string[],
  stdout: number | 'closed-pipe',
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', stdout === 'closed-pipe' ? 'pipe' : stdout, 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (stdout === 'closed-pipe') child.stdout?.destroy();
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (t: string) => {
    stderr += t;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

describe('--output never replaces what it names', () => {
  it.runIf(isRoot)(
    'writes into a character device and a symlink to one; refuses a block device',
    async () => {
      const dir = tempTree({ 'dns.json': HIT });
      execFileSync('mknod', [join(dir, 'null'), 'c', '1', '3']);
      execFileSync('mknod', [join(dir, 'disk'), 'b', '7', '250']);
      symlinkSync(join(dir, 'null'), join(dir, 'to-null'));
      for (const out of ['null', 'to-null']) {
        const r = await runCli([
          'hunt',
          join(dir, 'dns.json'),
          '--format',
          'json',
          '--output',
          join(dir, out),
        ]);
        expect(r.code, r.stderr).toBe(1);
      }
      expect(lstatSync(join(dir, 'null')).isCharacterDevice()).toBe(true);
      expect(lstatSync(join(dir, 'to-null')).isSymbolicLink()).toBe(true);
      const b = await runCli(['hunt', join(dir, 'dns.json'), '--output', join(dir, 'disk')]);
      expect(b.code).toBe(2);
      expect(oneLine(b.stderr)).toHaveLength(1);
      expect(lstatSync(join(dir, 'disk')).isBlockDevice()).toBe(true);
      expect(tmpLeft(dir)).toEqual([]);
    },
  );

  it('writes into a FIFO', async () => {
    const dir = tempTree({ 'dns.json': HIT });
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const reader = spawn('timeout', ['30', 'cat', join(dir, 'fifo')], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let read = '';
    reader.stdout.setEncoding('utf8').on('data', (t: string) => {
      read += t;
    });
    const closed = new Promise((resolve) => reader.on('close', resolve));
    const r = await runCli([
      'hunt',
      join(dir, 'dns.json'),
      '--format',
      'json',
      '--output',
      join(dir, 'fifo'),
    ]);
    await closed;
    expect(r.code, r.stderr).toBe(1);
    expect(ReportSchema.parse(JSON.parse(read)).findings).toHaveLength(1);
    expect(lstatSync(join(dir, 'fifo')).isFIFO()).toBe(true);
    expect(tmpLeft(dir)).toEqual([]);
  });

  it('refuses a symlink to a file, a folder and a missing parent, before the work starts', async () => {
    const dir = tempTree({ 'dns.json': HIT, 'precious.txt': 'keep me\n' });
    symlinkSync(join(dir, 'precious.txt'), join(dir, 'report.json'));
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling.json'));
    mkdirSync(join(dir, 'folder'));
    execFileSync('mkfifo', [join(dir, 'never-written')]);
    for (const [command, out] of [
      ['hunt', 'report.json'],
      ['hunt', 'dangling.json'],
      ['hunt', 'folder'],
      ['hunt', 'missing/r.json'],
      ['scan', 'folder'],
      ['scan', 'missing/r.json'],
      ['inventory', 'missing/r.json'],
      ['inventory', 'folder'],
    ] as const) {
      // The hunt reads a FIFO nobody writes to: it would never finish if the output were checked after the work.
      const input =
        command === 'hunt'
          ? [join(dir, 'never-written')]
          : command === 'scan'
            ? [join(dir, 'folder'), '--no-bundled']
            : ['--root', join(dir, 'folder')];
      const r = await runCli([command, ...input, '--format', 'json', '--output', join(dir, out)], {
        timeoutMs: 20_000,
      });
      expect(r.code, `${command} ${out}: ${r.stderr}`).toBe(2);
      expect(oneLine(r.stderr), `${command} ${out}`).toHaveLength(1);
      expect(r.stderr).toContain(join(dir, out));
    }
    expect(readFileSync(join(dir, 'precious.txt'), 'utf8')).toBe('keep me\n');
    expect(readlinkSync(join(dir, 'report.json'))).toBe(join(dir, 'precious.txt'));
    expect(lstatSync(join(dir, 'folder')).isDirectory()).toBe(true);
    expect(tmpLeft(dir)).toEqual([]);
  });

  it('replaces a regular file atomically and leaves no temp file', async () => {
    const dir = tempTree({ 'dns.json': HIT, 'report.json': 'old\n' });
    const r = await runCli([
      'hunt',
      join(dir, 'dns.json'),
      '--format',
      'ndjson',
      '--output',
      join(dir, 'report.json'),
    ]);
    expect(r.code).toBe(1);
    const lines = readFileSync(join(dir, 'report.json'), 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(['finding', 'summary']);
    expect(tmpLeft(dir)).toEqual([]);
  });
});

describe('scan --format ndjson', () => {
  it('streams findings then the summary into --output, and a full output is exit 74', async () => {
    const dir = tempTree({ 'in/bad.bin': 'planted sample\n' });
    const sha256 = createHash('sha256').update('planted sample\n').digest('hex');
    writeFileSync(join(dir, 'iocs.txt'), `${sha256};planted sample\n`);
    const args = [
      'scan',
      join(dir, 'in'),
      '--no-bundled',
      '--ioc',
      join(dir, 'iocs.txt'),
      '--format',
      'ndjson',
    ];
    const r = await runCli([...args, '--output', join(dir, 'report.ndjson')]);
    expect(r.code, r.stderr).toBe(1);
    const lines = readFileSync(join(dir, 'report.ndjson'), 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(['finding', 'summary']);
    expect(tmpLeft(dir)).toEqual([]);
    const full = await runCli([...args, '--output', '/dev/full']);
    expect(full.code).toBe(74);
    expect(oneLine(full.stderr)).toEqual([
      expect.stringMatching(/^chainsweep: cannot write the output to \/dev\/full: ENOSPC/),
    ]);
    const fd = openSync('/dev/full', 'w');
    try {
      const stdout = await runWithStdout(args, fd);
      expect(stdout.code, stdout.stderr).toBe(74);
      expect(oneLine(stdout.stderr)).toHaveLength(1);
    } finally {
      closeSync(fd);
    }
  });
});

describe('a closed or full standard output', () => {
  it('is a one-line error and a non-zero exit that is not "findings"', async () => {
    const dir = tempTree({ 'dns.json': HIT });
    writeFileSync(join(dir, 'many.json'), HIT.repeat(5_000));
    const full = openSync('/dev/full', 'w');
    try {
      for (const [args, stdout] of [
        [['hunt', join(dir, 'many.json'), '--format', 'ndjson'], 'closed-pipe'],
        [['hunt', join(dir, 'dns.json')], 'closed-pipe'],
        [['hunt', join(dir, 'dns.json'), '--format', 'json'], full],
        [['scan', dir, '--no-bundled', '--format', 'json'], full],
        [['version'], full],
        [['packs', 'list'], 'closed-pipe'],
      ] as const) {
        const r = await runWithStdout([...args], stdout);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(74);
        expect(oneLine(r.stderr), args.join(' ')).toHaveLength(1);
        expect(r.stderr).toMatch(/^chainsweep: cannot write the output to standard output: /);
      }
    } finally {
      closeSync(full);
    }
    const r = await runCli(['hunt', join(dir, 'many.json'), '--format', 'ndjson', '--output', '/dev/full']);
    expect(r.code).toBe(74);
    expect(oneLine(r.stderr)).toEqual([
      expect.stringMatching(/^chainsweep: cannot write the output to \/dev\/full: ENOSPC/),
    ]);
  });
});
