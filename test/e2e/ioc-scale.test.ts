import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/testing/run-cli.js';
import { tempTree } from '../../src/testing/temp-tree.js';

describe('IOC lists at scale (end to end)', () => {
  it('loads a 1,000,000-line hash list into scan and finds the listed file', async () => {
    const dir = tempTree({ 'target/dropper.bin': 'the listed dropper' });
    const listed = createHash('sha256').update('the listed dropper').digest('hex');
    const lines: string[] = [];
    for (let i = 0; i < 999_999; i++)
      lines.push(`${createHash('sha256').update(String(i)).digest('hex')};generated ${i}`);
    lines.push(`${listed};the dropper`);
    writeFileSync(join(dir, 'hash-iocs.txt'), `${lines.join('\n')}\n`);
    const started = Date.now();
    const result = await runCli(
      ['scan', join(dir, 'target'), '--no-bundled', '--ioc', join(dir, 'hash-iocs.txt'), '--format', 'json'],
      { timeoutMs: 300_000 },
    );
    const seconds = (Date.now() - started) / 1000;
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.findings.map((f: { title: string }) => f.title)).toEqual(['the dropper']);
    process.stderr.write(`1,000,000-line IOC list: scan took ${seconds.toFixed(1)} s\n`);
  }, 320_000);
});
