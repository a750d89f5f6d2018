import type { Context } from 'hono';
import type { Principal, Role } from '../tenancy.js';
import { HttpError } from './http-error.js';
import type { HubEnv } from './hub-env.js';

/** The calling user or API token holding one of `roles`: 401 when nobody is signed in, 403 for another role. */
export function requireRole(
  c: Context<HubEnv>,
  roles: readonly Role[],
): Exclude<Principal, { kind: 'agent' }> {
  const principal = c.get('principal');
  if (!principal) throw new HttpError(401, 'UNAUTHENTICATED', 'sign in or send an API token');
  if (principal.kind === 'agent' || !roles.includes(principal.role))
    throw new HttpError(403, 'FORBIDDEN', `this needs one of the roles ${roles.join(', ')}`);
  return principal;
}

/** The calling agent (a host credential): 401 otherwise. */
export function requireAgent(c: Context<HubEnv>): Extract<Principal, { kind: 'agent' }> {
  const principal = c.get('principal');
  if (principal?.kind !== 'agent') throw new HttpError(401, 'UNAUTHENTICATED', 'send the host credential');
  return principal;
}

/** Every role: any signed-in user or API token. */
export const ANY_ROLE: readonly Role[] = ['vendor-staff', 'org-admin', 'org-member'];
