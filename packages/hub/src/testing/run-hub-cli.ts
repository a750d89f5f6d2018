/** @module Runs the built `chainsweep` binary's `hub` and `serve` commands the way an operator does. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../../../dist/bin/chainsweep.js', import.meta.url));
const HOME = mkdtempSync(join(tmpdir(), 'chainsweep-home-'));
const ENV = { ...process.env, NO_COLOR: '1', CHAINSWEEP_HOME: HOME };

/** What a finished run printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `chainsweep ...args` with `input` on stdin (closed at once when absent), in `home` (CHAINSWEEP_HOME). */
export function runHubCli(args: string[], input = '', home = HOME): Promise<CliRun> {
  const env = { ...ENV, CHAINSWEEP_HOME: home };
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A new token from `chainsweep hub --data DATA token add` (an `api` token holds `role`). */
export async function addHubToken(
  data: string,
  org: string,
  kind: 'api' | 'enrol',
  role?: string,
): Promise<string> {
  const run = await runHubCli([
    'hub',
    '--data',
    data,
    'token',
    'add',
    '--org',
    org,
    '--kind',
    kind,
    ...(role ? ['--role', role] : []),
  ]);
  if (run.code !== 0) throw new Error(`token add failed: ${run.stderr}`);
  return run.stdout.trim();
}

/** A `chainsweep serve` process once it printed its address. */
export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** Resolves when stderr has a line matching `pattern`. */
  waitFor(pattern: RegExp): Promise<void>;
  exited: Promise<number>;
}

/** Starts `chainsweep serve ...args` (add `--listen 127.0.0.1:0`) and waits for its `listening on` line. */
export async function startServe(args: string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    env: ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stderr.on('data', (d) => {
    stderr += d;
    for (const waiter of [...waiters])
      if (waiter.pattern.test(stderr)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
  });
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const waitFor = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      if (pattern.test(stderr)) return resolve();
      waiters.push({ pattern, resolve });
      exited.then((code) => reject(new Error(`serve exited with ${code} before ${pattern}: ${stderr}`)));
    });
  await waitFor(/listening on http:\/\/\S+:\d+\n/);
  const url = /listening on (http:\/\/\S+:\d+)\n/.exec(stderr)?.[1] ?? '';
  return { url, child, stderr: () => stderr, waitFor, exited };
}
