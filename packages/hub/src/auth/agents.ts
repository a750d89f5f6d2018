import { randomUUID } from 'node:crypto';
import { noteEnrolledHost } from '../fleet/host-identity.js';
import { HttpError } from '../http/http-error.js';
import type { Db } from '../store/db.js';
import { scopeFilter } from '../store/scope-sql.js';
import type { Scope } from '../tenancy.js';
import { hashSecret, newSecret } from './secrets.js';

/** An agent just enrolled: `credential` is shown this once; the store keeps its hash. */
export interface EnrolledAgent {
  agentId: string;
  orgId: string;
  hostId: string;
  hostname: string;
  credential: string;
}

/**
 * Trades an enrolment token for a new per-host credential. Every enrolment makes a new agent row, even for a
 * host id seen before (re-enrolment, or a cloned image): the fleet decides what that means. Undefined for an
 * unknown, revoked, expired or used-up token. The use count is taken in the same transaction as the insert,
 * so `maxUses` holds under concurrent enrolments.
 */
export async function enrolAgent(
  db: Db,
  input: { token: string; hostId: string; hostname: string },
  now: Date,
): Promise<EnrolledAgent | undefined> {
  const at = now.toISOString();
  return db.transaction(async (tx) => {
    const token = await tx.get<{ id: string; org_id: string }>(
      `SELECT id, org_id FROM enrol_tokens
        WHERE token_hash = ? AND revoked = 0 AND (expires_at IS NULL OR expires_at > ?)
          AND (max_uses IS NULL OR uses < max_uses)`,
      [hashSecret(input.token), at],
    );
    if (!token) return undefined;
    await tx.run('UPDATE enrol_tokens SET uses = uses + 1 WHERE id = ?', [token.id]);
    const agent: EnrolledAgent = {
      agentId: randomUUID(),
      orgId: token.org_id,
      hostId: input.hostId,
      hostname: input.hostname,
      credential: newSecret('agent'),
    };
    await tx.run(
      'INSERT INTO agents (id, org_id, host_id, hostname, credential_hash, enrol_token_id, enrolled_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [agent.agentId, agent.orgId, agent.hostId, agent.hostname, hashSecret(agent.credential), token.id, at],
    );
    await noteEnrolledHost(tx, {
      orgId: agent.orgId,
      agentId: agent.agentId,
      hostId: agent.hostId,
      hostname: agent.hostname,
      at,
    });
    return agent;
  });
}

/** Revokes an agent's credential; 404 for an unknown id or another tenant's. */
export async function revokeAgent(db: Db, scope: Scope, agentId: string, now: Date): Promise<void> {
  const where = scopeFilter(scope);
  const changed = await db.run(
    `UPDATE agents SET revoked = 1, revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND ${where.sql}`,
    [now.toISOString(), agentId, ...where.params],
  );
  if (!changed) throw new HttpError(404, 'NOT_FOUND', 'no such agent');
}

/** An enrolled agent as listed: never its credential. `lastSeenAt` is its last accepted upload, if any. */
export interface AgentInfo {
  id: string;
  orgId: string;
  hostId: string;
  hostname: string;
  enrolledAt: string;
  lastSeenAt: string | null;
  revoked: boolean;
  revokedAt: string | null;
}

/** The agents enrolled in a scope, newest first. */
export async function listAgents(db: Db, scope: Scope): Promise<AgentInfo[]> {
  const where = scopeFilter(scope, 'a.org_id');
  const seen = scopeFilter(scope);
  const rows = await db.all<{
    id: string;
    org_id: string;
    host_id: string;
    hostname: string;
    enrolled_at: string;
    last_seen_at: string | null;
    revoked: number;
    revoked_at: string | null;
  }>(
    `SELECT a.id, a.org_id, a.host_id, a.hostname, a.enrolled_at, a.revoked, a.revoked_at, s.last_seen_at
       FROM agents a
       LEFT JOIN (SELECT agent_id, MAX(last_report_at) AS last_seen_at FROM host_agents
                   WHERE ${seen.sql} GROUP BY agent_id) s ON s.agent_id = a.id
      WHERE ${where.sql}
      ORDER BY a.enrolled_at DESC, a.id`,
    [...seen.params, ...where.params],
  );
  return rows.map((row) => ({
    id: row.id,
    orgId: row.org_id,
    hostId: row.host_id,
    hostname: row.hostname,
    enrolledAt: row.enrolled_at,
    lastSeenAt: row.last_seen_at,
    revoked: Number(row.revoked) === 1,
    revokedAt: row.revoked_at,
  }));
}
