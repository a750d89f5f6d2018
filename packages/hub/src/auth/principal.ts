import type { Db } from '../store/db.js';
import type { Principal, Role } from '../tenancy.js';
import { hashSecret, SECRET_PREFIX } from './secrets.js';
import { csrfTokenOf } from './sessions.js';

/** The longest bearer token or session id looked up; anything longer is nobody's. */
const MAX_SECRET_LENGTH = 200;

/** Who a bearer token (API token or agent credential) belongs to, in one query; undefined when nobody's. */
export async function principalOfBearer(db: Db, token: string, now: Date): Promise<Principal | undefined> {
  if (token.length > MAX_SECRET_LENGTH) return undefined;
  if (token.startsWith(SECRET_PREFIX.agent)) {
    const row = await db.get<{ id: string; org_id: string; host_id: string }>(
      'SELECT id, org_id, host_id FROM agents WHERE credential_hash = ? AND revoked = 0',
      [hashSecret(token)],
    );
    return row && { kind: 'agent', agentId: row.id, hostId: row.host_id, orgId: row.org_id };
  }
  if (token.startsWith(SECRET_PREFIX.api)) {
    const row = await db.get<{ id: string; org_id: string; role: Role }>(
      'SELECT id, org_id, role FROM api_tokens WHERE token_hash = ? AND revoked = 0 AND (expires_at IS NULL OR expires_at > ?)',
      [hashSecret(token), now.toISOString()],
    );
    return row && { kind: 'api', tokenId: row.id, orgId: row.org_id, role: row.role };
  }
  return undefined;
}

/** A signed-in user and the CSRF token their unsafe requests must carry. */
export interface SessionPrincipal {
  principal: Extract<Principal, { kind: 'user' }>;
  csrfToken: string;
}

/** Who a session cookie belongs to, in one query; undefined for an unknown or expired session. */
export async function principalOfSession(
  db: Db,
  sessionId: string,
  now: Date,
): Promise<SessionPrincipal | undefined> {
  if (sessionId.length > MAX_SECRET_LENGTH) return undefined;
  const row = await db.get<{ user_id: string; org_id: string; role: Role; csrf_secret: string }>(
    `SELECT s.user_id, u.org_id, u.role, s.csrf_secret FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.id_hash = ? AND s.expires_at > ?`,
    [hashSecret(sessionId), now.toISOString()],
  );
  return (
    row && {
      principal: { kind: 'user', userId: row.user_id, orgId: row.org_id, role: row.role },
      csrfToken: csrfTokenOf(sessionId, row.csrf_secret),
    }
  );
}
