import type { Db } from '../store/db.js';
import { hashSecret } from './secrets.js';

/** Sign-in attempts allowed per account and per client address in one window. */
export const LOGIN_LIMIT = { attempts: 5, windowMs: 15 * 60 * 1000 } as const;

/** The counters a sign-in attempt counts against: its account and its client address (stored hashed). */
export function loginKeys(email: string, clientAddress: string): { account: string; address: string } {
  return { account: hashSecret(`account:${email}`), address: hashSecret(`address:${clientAddress}`) };
}

/**
 * Counts an attempt against every key before the password is checked, so parallel guesses are counted too,
 * and says whether it may go on; when not, after how many seconds. The counters live in the store, so hub
 * processes sharing one database share them. Windows that ended are swept on the way.
 */
export async function takeLoginAttempt(
  db: Db,
  keys: readonly string[],
  now: Date,
  limit = LOGIN_LIMIT,
): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }> {
  const at = now.toISOString();
  const cutoff = new Date(now.getTime() - limit.windowMs).toISOString();
  await db.run('DELETE FROM login_attempts WHERE window_start <= ?', [cutoff]);
  let retryAt = 0;
  for (const key of keys) {
    const row = await db.get<{ attempts: number; window_start: string }>(
      `INSERT INTO login_attempts (key, attempts, window_start) VALUES (?, 1, ?)
       ON CONFLICT (key) DO UPDATE SET
         attempts = CASE WHEN login_attempts.window_start <= ? THEN 1 ELSE login_attempts.attempts + 1 END,
         window_start = CASE WHEN login_attempts.window_start <= ? THEN excluded.window_start
                        ELSE login_attempts.window_start END
       RETURNING attempts, window_start`,
      [key, at, cutoff, cutoff],
    );
    if (row && row.attempts > limit.attempts)
      retryAt = Math.max(retryAt, Date.parse(row.window_start) + limit.windowMs);
  }
  if (retryAt === 0) return { allowed: true };
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((retryAt - now.getTime()) / 1000)) };
}

/**
 * After a successful sign-in: the account's counter starts again, and the address gets back the one attempt
 * it spent (its earlier failures still count, so signing in to one's own account does not reset a spray).
 */
export async function settleLoginSuccess(db: Db, keys: { account: string; address: string }): Promise<void> {
  await db.run('DELETE FROM login_attempts WHERE key = ?', [keys.account]);
  await db.run('UPDATE login_attempts SET attempts = attempts - 1 WHERE key = ? AND attempts > 0', [
    keys.address,
  ]);
}
