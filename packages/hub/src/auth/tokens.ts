import { randomUUID } from 'node:crypto';
import { choiceField, optionalFutureTime, optionalIntField, optionalLineField } from '../http/fields.js';
import { HttpError } from '../http/http-error.js';
import type { Db } from '../store/db.js';
import { scopeFilter } from '../store/scope-sql.js';
import { ROLES, type Role, type Scope } from '../tenancy.js';
import { targetOrg } from './orgs.js';
import { hashSecret, newSecret } from './secrets.js';

/** The kinds of token an organisation issues: API access, or enrolment of agents. */
export const TOKEN_KINDS = ['api', 'enrol'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

/** A token as listed: never the token itself. */
export interface TokenInfo {
  id: string;
  orgId: string;
  kind: TokenKind;
  name: string;
  /** The role an API token acts with; null for enrolment tokens. */
  role: Role | null;
  createdAt: string;
  expiresAt: string | null;
  /** How many agents an enrolment token may still enrol in all; null for no limit (and for API tokens). */
  maxUses: number | null;
  uses: number;
  revokedAt: string | null;
}

/** A token just made: `token` is shown this once. */
export interface NewToken {
  token: string;
  info: TokenInfo;
}

/** What a caller asks for; validated here. */
export interface TokenRequest {
  orgId?: unknown;
  kind?: unknown;
  name?: unknown;
  role?: unknown;
  expiresAt?: unknown;
  maxUses?: unknown;
}

/**
 * Issues an API or enrolment token in an organisation of the scope. Roles are not checked here: the caller
 * decides which roles it may hand out (`grantableRoles`).
 */
export async function createToken(db: Db, scope: Scope, request: TokenRequest, now: Date): Promise<NewToken> {
  const kind = choiceField(request.kind, 'kind', TOKEN_KINDS);
  const name = optionalLineField(request.name, 'name', 100) ?? '';
  const expiresAt = optionalFutureTime(request.expiresAt, 'expiresAt', now) ?? null;
  const role = kind === 'api' ? choiceField(request.role ?? 'org-member', 'role', ROLES) : null;
  if (kind === 'api' && request.maxUses !== undefined && request.maxUses !== null)
    throw new HttpError(400, 'INVALID', 'maxUses applies to enrolment tokens only', { field: 'maxUses' });
  if (kind === 'enrol' && request.role !== undefined && request.role !== null)
    throw new HttpError(400, 'INVALID', 'role applies to API tokens only', { field: 'role' });
  const maxUses = optionalIntField(request.maxUses, 'maxUses', 1, 1_000_000_000) ?? null;
  const orgId = await targetOrg(db, scope, request.orgId);
  const token = newSecret(kind);
  const info: TokenInfo = {
    id: randomUUID(),
    orgId,
    kind,
    name,
    role,
    createdAt: now.toISOString(),
    expiresAt,
    maxUses,
    uses: 0,
    revokedAt: null,
  };
  if (kind === 'api')
    await db.run(
      'INSERT INTO api_tokens (id, org_id, token_hash, name, role, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [info.id, orgId, hashSecret(token), name, role, info.createdAt, expiresAt],
    );
  else
    await db.run(
      'INSERT INTO enrol_tokens (id, org_id, token_hash, name, created_at, expires_at, max_uses) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [info.id, orgId, hashSecret(token), name, info.createdAt, expiresAt, maxUses],
    );
  return { token, info };
}

type TokenRow = {
  id: string;
  org_id: string;
  kind: TokenKind;
  name: string;
  role: Role | null;
  created_at: string;
  expires_at: string | null;
  max_uses: number | null;
  uses: number;
  revoked_at: string | null;
};

/** The API and enrolment tokens in a scope, newest first. */
export async function listTokens(db: Db, scope: Scope): Promise<TokenInfo[]> {
  const where = scopeFilter(scope);
  const rows = await db.all<TokenRow>(
    `SELECT id, org_id, 'api' AS kind, name, role, created_at, expires_at, NULL AS max_uses, 0 AS uses, revoked_at
       FROM api_tokens WHERE ${where.sql}
     UNION ALL
     SELECT id, org_id, 'enrol' AS kind, name, NULL AS role, created_at, expires_at, max_uses, uses, revoked_at
       FROM enrol_tokens WHERE ${where.sql}
     ORDER BY created_at DESC, id`,
    [...where.params, ...where.params],
  );
  return rows.map((row) => ({
    id: row.id,
    orgId: row.org_id,
    kind: row.kind,
    name: row.name,
    role: row.role,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    maxUses: row.max_uses === null ? null : Number(row.max_uses),
    uses: Number(row.uses),
    revokedAt: row.revoked_at,
  }));
}

/** Revokes a token of the scope at once (either kind); 404 for an unknown id or another tenant's. */
export async function revokeToken(db: Db, scope: Scope, id: string, now: Date): Promise<void> {
  const where = scopeFilter(scope);
  const params = [now.toISOString(), id, ...where.params];
  const set = 'SET revoked = 1, revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND';
  const changed =
    (await db.run(`UPDATE api_tokens ${set} ${where.sql}`, params)) ||
    (await db.run(`UPDATE enrol_tokens ${set} ${where.sql}`, params));
  if (!changed) throw new HttpError(404, 'NOT_FOUND', 'no such token');
}

/** The roles a caller may put on API tokens or users it creates: never more than its own. */
export function grantableRoles(role: Role): readonly Role[] {
  return role === 'vendor-staff' ? ROLES : role === 'org-admin' ? ['org-admin', 'org-member'] : [];
}
