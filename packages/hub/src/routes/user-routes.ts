import { Hono } from 'hono';
import { grantableRoles } from '../auth/tokens.js';
import { createUser, listUsers } from '../auth/users.js';
import { requireRole } from '../http/access.js';
import { HttpError } from '../http/http-error.js';
import type { HubDeps, HubEnv, RouteModule } from '../http/hub-env.js';
import { readJsonObject } from '../http/json-body.js';
import { access, ERROR_RESPONSE, jsonBody, jsonResponse } from '../http/openapi.js';
import { ROLES, type Role, scopeOf } from '../tenancy.js';

const ADMINS = ['vendor-staff', 'org-admin'] as const;

/** An organisation's users, for its admins (and vendor staff): list and add. */
export function userRoutes(deps: HubDeps): RouteModule {
  const routes = new Hono<HubEnv>()
    .get('/api/v1/users', async (c) => {
      const principal = requireRole(c, ADMINS);
      return c.json({ users: await listUsers(deps.db, scopeOf(principal)) });
    })
    .post('/api/v1/users', async (c) => {
      const principal = requireRole(c, ADMINS);
      const body = await readJsonObject(c);
      if (
        (ROLES as readonly unknown[]).includes(body.role) &&
        !grantableRoles(principal.role).includes(body.role as Role)
      )
        throw new HttpError(403, 'FORBIDDEN', `a ${principal.role} cannot add ${String(body.role)} users`, {
          field: 'role',
        });
      const user = await createUser(deps.db, scopeOf(principal), body, deps.now());
      return c.json(user, 201);
    });
  const user = {
    type: 'object',
    properties: {
      id: { type: 'string' },
      orgId: { type: 'string' },
      email: { type: 'string' },
      role: { enum: [...ROLES] },
      createdAt: { type: 'string' },
    },
  };
  return {
    routes,
    openapi: {
      '/api/v1/users': {
        get: {
          summary: "The organisation's users",
          ...access(ADMINS),
          responses: {
            '200': jsonResponse('Users', {
              type: 'object',
              properties: { users: { type: 'array', items: user } },
            }),
            '401': ERROR_RESPONSE,
            '403': ERROR_RESPONSE,
          },
        },
        post: {
          summary: 'Add a user (an org-admin adds org-admins and org-members to its own organisation)',
          ...access(ADMINS),
          requestBody: jsonBody({
            type: 'object',
            required: ['email', 'password', 'role'],
            properties: {
              email: { type: 'string' },
              password: { type: 'string', minLength: 12 },
              role: { enum: [...ROLES] },
              orgId: { type: 'string', description: 'vendor staff only' },
            },
          }),
          responses: {
            '201': jsonResponse('Added', user),
            '400': ERROR_RESPONSE,
            '401': ERROR_RESPONSE,
            '403': ERROR_RESPONSE,
            '404': ERROR_RESPONSE,
            '409': ERROR_RESPONSE,
          },
        },
      },
    },
  };
}
