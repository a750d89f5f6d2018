/** The roles a user or API token can hold. */
export const ROLES = ['vendor-staff', 'org-admin', 'org-member'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as authentication established it; every store function that reads tenant data takes one. */
export type Principal =
  | { kind: 'user'; userId: string; orgId: string; role: Role }
  | { kind: 'api'; tokenId: string; orgId: string; role: Role }
  | { kind: 'agent'; agentId: string; hostId: string; orgId: string };

/**
 * The rows a caller may see: one organisation, or every organisation for vendor staff. Derived from a
 * principal in one place (`scopeOf`), so no route builds its own.
 */
export type Scope = { kind: 'org'; orgId: string } | { kind: 'all' };

/** The scope of a principal: vendor staff see every organisation, everyone else their own. */
export function scopeOf(principal: Principal): Scope {
  return principal.kind !== 'agent' && principal.role === 'vendor-staff'
    ? { kind: 'all' }
    : { kind: 'org', orgId: principal.orgId };
}
