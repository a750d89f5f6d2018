import { closeSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../core/errors.js';

/** A lock file whose holder wrote nothing for this long is taken to have died while creating it. */
const EMPTY_LOCK_GRACE_MS = 10_000;

/**
 * Takes the lock file at `path`: created with O_EXCL holding our pid. A lock whose pid is no longer running is
 * stale and broken (under a second O_EXCL file, after re-reading it, so two processes never both take over); a
 * live one is waited for, up to `timeoutMs`, then refused with a one-line error naming its pid. `isHolder` says
 * whether a pid still holds the lock (by default: it runs).
 */
export async function acquireLock(
  path: string,
  timeoutMs: number,
  isHolder: (pid: number) => boolean = isRunning,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 20; ; wait = Math.min(wait * 2, 250)) {
    if (tryCreate(path)) return;
    const holder = lockHolder(path, isHolder);
    if (holder === 'stale') {
      breakStale(path, isHolder);
      continue;
    }
    if (Date.now() > deadline)
      throw new UserError(
        'STORE_LOCKED',
        `${path} is held by chainsweep process ${holder ?? '(unknown)'}, which is still running; try again when it ends`,
      );
    await sleep(wait);
  }
}

/** Removes the lock at `path` if it is still ours. */
export function releaseLock(path: string): void {
  if (readPid(path) === process.pid) unlinkSync(path);
}

function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new UserError('STORE_LOCKED', `cannot create lock ${path}: ${(error as Error).message}`);
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The pid holding the lock, 'stale' when it is gone, undefined when the lock vanished or is being written. */
function lockHolder(path: string, isHolder: (pid: number) => boolean): number | 'stale' | undefined {
  const pid = readPid(path);
  if (pid === undefined) {
    const age = Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    return age > EMPTY_LOCK_GRACE_MS ? 'stale' : undefined;
  }
  return isHolder(pid) ? pid : 'stale';
}

function readPid(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Breaks a stale lock while holding `<path>.break`, re-checking under it that the lock is still the stale one. */
function breakStale(path: string, isHolder: (pid: number) => boolean): void {
  const breaker = `${path}.break`;
  if (!tryCreate(breaker)) {
    // Another process is breaking it; a breaker left by a process that died is removed after the grace time.
    const age = Date.now() - (statSync(breaker, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    const pid = readPid(breaker);
    if (age > EMPTY_LOCK_GRACE_MS && (pid === undefined || !isRunning(pid))) rmSync(breaker, { force: true });
    return;
  }
  try {
    if (lockHolder(path, isHolder) === 'stale') unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  } finally {
    unlinkSync(breaker);
  }
}
