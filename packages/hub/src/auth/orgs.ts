import { randomUUID } from 'node:crypto';
import { lineField, optionalIntField } from '../http/fields.js';
import { HttpError } from '../http/http-error.js';
import { isUniqueViolation } from '../store/constraint.js';
import type { Db } from '../store/db.js';
import { scopeFilter } from '../store/scope-sql.js';
import type { Scope } from '../tenancy.js';

/** An organisation: a tenant whose hosts, users and tokens no other organisation sees. */
export interface Org {
  id: string;
  name: string;
  /** Days without a report after which its hosts are stale; null means the hub's default. */
  staleDays: number | null;
  createdAt: string;
}

type OrgRow = { id: string; name: string; stale_days: number | null; created_at: string };
const COLUMNS = 'id, name, stale_days, created_at';
const toOrg = (row: OrgRow): Org => ({
  id: row.id,
  name: row.name,
  staleDays: row.stale_days,
  createdAt: row.created_at,
});

/** Creates an organisation; 409 when the name is taken. Only vendor staff and the admin CLI call it. */
export async function createOrg(
  db: Db,
  input: { name?: unknown; staleDays?: unknown },
  now: Date,
): Promise<Org> {
  const name = lineField(input.name, 'name', 100);
  const staleDays = optionalIntField(input.staleDays, 'staleDays', 1, 3650) ?? null;
  const org: Org = { id: randomUUID(), name, staleDays, createdAt: now.toISOString() };
  try {
    await db.run('INSERT INTO orgs (id, name, stale_days, created_at) VALUES (?, ?, ?, ?)', [
      org.id,
      org.name,
      org.staleDays,
      org.createdAt,
    ]);
  } catch (error) {
    if (isUniqueViolation(error))
      throw new HttpError(409, 'CONFLICT', `an organisation named ${JSON.stringify(name)} exists`, {
        field: 'name',
      });
    throw error;
  }
  return org;
}

/**
 * Changes an organisation's settings (the stale threshold; null for the hub's default), within the scope: another
 * tenant's id is 404. Only the fields given change.
 */
export async function updateOrg(
  db: Db,
  scope: Scope,
  id: string,
  input: { staleDays?: unknown },
): Promise<Org> {
  const found = await getOrg(db, scope, id);
  if (!found) throw new HttpError(404, 'NOT_FOUND', 'no such organisation');
  if (!('staleDays' in input)) return found;
  const staleDays =
    input.staleDays === null ? null : (optionalIntField(input.staleDays, 'staleDays', 1, 3650) ?? null);
  await db.run('UPDATE orgs SET stale_days = ? WHERE id = ?', [staleDays, found.id]);
  return { ...found, staleDays };
}

/** The organisations in a scope, by name. */
export async function listOrgs(db: Db, scope: Scope): Promise<Org[]> {
  const where = scopeFilter(scope, 'id');
  const rows = await db.all<OrgRow>(
    `SELECT ${COLUMNS} FROM orgs WHERE ${where.sql} ORDER BY name`,
    where.params,
  );
  return rows.map(toOrg);
}

/** One organisation of a scope by id, or undefined (also for another tenant's id). */
export async function getOrg(db: Db, scope: Scope, id: string): Promise<Org | undefined> {
  const where = scopeFilter(scope, 'id');
  const row = await db.get<OrgRow>(`SELECT ${COLUMNS} FROM orgs WHERE id = ? AND ${where.sql}`, [
    id,
    ...where.params,
  ]);
  return row && toOrg(row);
}

/** One organisation of a scope by name, or undefined. */
export async function findOrgByName(db: Db, scope: Scope, name: string): Promise<Org | undefined> {
  const where = scopeFilter(scope, 'id');
  const row = await db.get<OrgRow>(`SELECT ${COLUMNS} FROM orgs WHERE name = ? AND ${where.sql}`, [
    name,
    ...where.params,
  ]);
  return row && toOrg(row);
}

/** The organisation id a write goes to, checked to exist in the caller's scope: 404 otherwise. */
export async function targetOrg(db: Db, scope: Scope, orgId: unknown): Promise<string> {
  const id = orgId === undefined && scope.kind === 'org' ? scope.orgId : lineField(orgId, 'orgId', 100);
  if (!(await getOrg(db, scope, id)))
    throw new HttpError(404, 'NOT_FOUND', 'no such organisation', { field: 'orgId' });
  return id;
}
