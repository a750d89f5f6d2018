import { randomUUID } from 'node:crypto';
import { choiceField, emailField } from '../http/fields.js';
import { HttpError } from '../http/http-error.js';
import { isUniqueViolation } from '../store/constraint.js';
import type { Db } from '../store/db.js';
import { scopeFilter } from '../store/scope-sql.js';
import { ROLES, type Role, type Scope } from '../tenancy.js';
import { targetOrg } from './orgs.js';
import { checkNewPassword, hashPassword } from './passwords.js';

/** A user as the API shows it: never the password hash. */
export interface User {
  id: string;
  orgId: string;
  email: string;
  role: Role;
  createdAt: string;
}

type UserRow = { id: string; org_id: string; email: string; role: Role; created_at: string };
const toUser = (row: UserRow): User => ({
  id: row.id,
  orgId: row.org_id,
  email: row.email,
  role: row.role,
  createdAt: row.created_at,
});

/** Creates a user in an organisation of the scope; 409 when the email is taken, 404 for an org outside it. */
export async function createUser(
  db: Db,
  scope: Scope,
  input: { orgId?: unknown; email?: unknown; password?: unknown; role?: unknown },
  now: Date,
): Promise<User> {
  const email = emailField(input.email);
  const role = choiceField(input.role, 'role', ROLES);
  if (typeof input.password !== 'string')
    throw new HttpError(400, 'INVALID', 'password must be a string', { field: 'password' });
  checkNewPassword(input.password);
  const orgId = await targetOrg(db, scope, input.orgId);
  const password = await hashPassword(input.password);
  const user: User = { id: randomUUID(), orgId, email, role, createdAt: now.toISOString() };
  try {
    await db.run(
      'INSERT INTO users (id, org_id, email, role, password_hash, password_salt, password_params, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [user.id, orgId, email, role, password.hash, password.salt, password.params, user.createdAt],
    );
  } catch (error) {
    if (isUniqueViolation(error))
      throw new HttpError(409, 'CONFLICT', 'a user with this email exists', { field: 'email' });
    throw error;
  }
  return user;
}

/** The users in a scope, by email. */
export async function listUsers(db: Db, scope: Scope): Promise<User[]> {
  const where = scopeFilter(scope);
  const rows = await db.all<UserRow>(
    `SELECT id, org_id, email, role, created_at FROM users WHERE ${where.sql} ORDER BY email`,
    where.params,
  );
  return rows.map(toUser);
}
