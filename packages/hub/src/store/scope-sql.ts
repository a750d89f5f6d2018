import type { Scope } from '../tenancy.js';
import type { SqlValue } from './db.js';

/** The SQL condition limiting `column` (an `org_id`) to a scope, and its parameters; every scoped query uses it. */
export function scopeFilter(scope: Scope, column = 'org_id'): { sql: string; params: SqlValue[] } {
  return scope.kind === 'all'
    ? { sql: '1 = 1', params: [] }
    : { sql: `${column} = ?`, params: [scope.orgId] };
}

/** Whether an organisation id lies in a scope. */
export function inScope(scope: Scope, orgId: string): boolean {
  return scope.kind === 'all' || scope.orgId === orgId;
}
