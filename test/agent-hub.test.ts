import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHive } from '../src/testing/regf-builder.js';
import { windowsImage } from '../src/testing/remediate-image.js';
import { CLI, runCli } from '../src/testing/run-cli.js';
import { tempTree } from '../src/testing/temp-tree.js';

/** The real hub (`chainsweep serve`) on 127.0.0.1, on a fresh data folder. */
let serve: ChildProcess;
let hubUrl = '';
const data = join(tempTree(), 'hub-data');

beforeAll(async () => {
  serve = spawn(process.execPath, [CLI, 'serve', '--data', data, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  hubUrl = await new Promise<string>((resolve, reject) => {
    serve.stderr?.on('data', (chunk) => {
      stderr += chunk;
      const url = /listening on (http:\/\/\S+)/.exec(stderr)?.[1];
      if (url) resolve(url);
    });
    serve.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
});
afterAll(async () => {
  const exited = new Promise((resolve) => serve.on('exit', resolve));
  serve.kill('SIGTERM');
  await exited;
});

const admin = async (args: string[]) => {
  const result = await runCli(['hub', '--data', data, ...args]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim();
};

describe('chainsweep agent against the real hub', () => {
  it('two machines enrol and report: the fleet summary says one affected, one clean', async () => {
    await admin(['org', 'add', 'acme']);
    const enrolToken = await admin(['token', 'add', '--org', 'acme', '--kind', 'enrol']);
    const apiToken = await admin(['token', 'add', '--org', 'acme', '--kind', 'api', '--role', 'org-admin']);

    // One machine with alice's affected 3CX Desktop App, one with nothing of the kind.
    const affected = windowsImage();
    const clean = tempTree({
      'Windows/System32/config/SOFTWARE': buildHive({ name: 'ROOT' }),
      'Users/carol/Documents/notes.txt': 'nothing to see',
    });
    const hostIds: string[] = [];
    for (const image of [affected, clean]) {
      const state = join(tempTree(), 'agent');
      const run = await runCli([
        'agent',
        '--hub',
        hubUrl,
        '--enrol',
        enrolToken,
        '--state',
        state,
        '--once',
        '--retries',
        '2',
        '--retry-base',
        '100ms',
        '--',
        '--root',
        image,
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/enrolled with /);
      expect(run.stderr).toMatch(/uploaded scan report/);
      hostIds.push(JSON.parse(readFileSync(join(state, 'credential'), 'utf8')).hostId);
    }
    expect(new Set(hostIds).size).toBe(2);

    const get = async (path: string) => {
      const response = await fetch(new URL(path, hubUrl), {
        headers: { authorization: `Bearer ${apiToken}` },
      });
      expect(response.status).toBe(200);
      return response.json();
    };
    const summary = (await get('/api/v1/fleet/summary')) as { counts: Record<string, number> };
    expect(summary.counts).toMatchObject({ affected: 1, clean: 1 });
    expect(Object.values(summary.counts).reduce((a, b) => a + b, 0)).toBe(2);
    // The affected host is the machine with the affected install.
    const listed = (await get('/api/v1/hosts?state=affected')) as { hosts: { hostId: string }[] };
    expect(listed.hosts.map((h) => h.hostId)).toEqual([hostIds[0]]);
  });
});
