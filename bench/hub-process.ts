/** @module The hub under benchmark: its CLI, a `serve` process and its CPU time, and a scratch PostgreSQL database. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** The built CLI the benchmarks run. */
export const CLI = join(fileURLToPath(new URL('..', import.meta.url)), 'dist/bin/chainsweep.js');

/** Runs `chainsweep ...args` (the built CLI, or `cli`) and answers its stdout, trimmed; rejects with its stderr. */
export function chainsweep(args: string[], cli = CLI): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [cli, ...args], { maxBuffer: 1 << 20 }, (error, stdout, stderr) =>
      error ? reject(new Error(`chainsweep ${args.join(' ')}: ${stderr}`)) : resolve(stdout.trim()),
    ),
  );
}

/** CPU seconds (user + system) a process has used, from /proc. */
export function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Starts `chainsweep serve --listen 127.0.0.1:0 ...serveArgs` (node flags first, e.g. a CPU profile), its stderr
 * in `logFile`, and answers once it prints the address it listens on (60 s at most).
 */
export async function startServe(
  serveArgs: string[],
  logFile: string,
  options: { nodeArgs?: string[]; cli?: string } = {},
): Promise<{ child: ChildProcess; url: string }> {
  const fd = openSync(logFile, 'w');
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), options.cli ?? CLI, 'serve', '--listen', '127.0.0.1:0', ...serveArgs],
    { stdio: ['ignore', 'ignore', fd] },
  );
  closeSync(fd);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const match = /listening on (http:\/\/\S+)/.exec(readFileSync(logFile, 'utf8'));
    if (match?.[1]) return { child, url: match[1] };
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`serve did not start: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops a process with SIGTERM and waits for it to exit. */
export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A database made for one run on the server of `serverUrl`, and what the run does with it. */
export interface ScratchDatabase {
  url: string;
  /** Runs ANALYZE when the server's autovacuum is off (a test server's setting), as autovacuum would; else nothing. */
  analyze(): Promise<unknown>;
  autovacuum: boolean;
  sizeMiB(): Promise<number>;
  /** Drops the database (or keeps it, with `keep`) and closes the connections. */
  drop(keep?: boolean): Promise<void>;
}

/** Creates a fresh database named `prefix_PID_TIME` on the server of `serverUrl`. */
export async function scratchDatabase(serverUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const autovacuum = (await admin.query('SHOW autovacuum')).rows[0]?.autovacuum === 'on';
  const stats = new pg.Client({ connectionString: url.toString() });
  await stats.connect();
  return {
    url: url.toString(),
    autovacuum,
    analyze: async () => (autovacuum ? undefined : stats.query('ANALYZE')),
    sizeMiB: async () =>
      Number((await stats.query('SELECT pg_database_size(current_database()) AS size')).rows[0]?.size) /
      1048576,
    drop: async (keep = false) => {
      await stats.end();
      if (!keep) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
