import { createHmac, randomBytes } from 'node:crypto';
import type { Db } from '../store/db.js';
import type { Role } from '../tenancy.js';
import { decoyHash, verifyPassword } from './passwords.js';
import { hashSecret, newSecret } from './secrets.js';

/** How long a console session lasts from sign-in. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/** A new session: the cookie value and the CSRF token are shown to the browser; the store keeps neither. */
export interface NewSession {
  sessionId: string;
  csrfToken: string;
  expiresAt: string;
  user: { id: string; orgId: string; email: string; role: Role };
}

/** The CSRF token of a session: an HMAC of the session id under the session's stored secret. */
export function csrfTokenOf(sessionId: string, csrfSecret: string): string {
  return createHmac('sha256', csrfSecret).update(sessionId).digest('base64url');
}

type LoginRow = {
  id: string;
  org_id: string;
  email: string;
  role: Role;
  password_hash: string;
  password_salt: string;
  password_params: string;
};

/**
 * Checks an email and password and opens a session; undefined when either is wrong. An unknown email costs
 * the same scrypt as a wrong password. Expired sessions are swept on the way.
 */
export async function login(
  db: Db,
  email: string,
  password: string,
  now: Date,
  ttlMs = SESSION_TTL_MS,
): Promise<NewSession | undefined> {
  const row = await db.get<LoginRow>(
    'SELECT id, org_id, email, role, password_hash, password_salt, password_params FROM users WHERE email = ?',
    [email],
  );
  const stored = row
    ? { hash: row.password_hash, salt: row.password_salt, params: row.password_params }
    : await decoyHash();
  const matches = await verifyPassword(password, stored);
  if (!row || !matches) return undefined;
  await db.run('DELETE FROM sessions WHERE expires_at <= ?', [now.toISOString()]);
  const sessionId = newSecret('session');
  const csrfSecret = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
  await db.run(
    'INSERT INTO sessions (id_hash, org_id, user_id, csrf_secret, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
    [hashSecret(sessionId), row.org_id, row.id, csrfSecret, now.toISOString(), expiresAt],
  );
  return {
    sessionId,
    csrfToken: csrfTokenOf(sessionId, csrfSecret),
    expiresAt,
    user: { id: row.id, orgId: row.org_id, email: row.email, role: row.role },
  };
}

/** Ends a session (sign-out); a session id that is unknown is ignored. */
export async function endSession(db: Db, sessionId: string): Promise<void> {
  await db.run('DELETE FROM sessions WHERE id_hash = ?', [hashSecret(sessionId)]);
}
