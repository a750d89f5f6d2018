import { Hono } from 'hono';
import { createOrg, listOrgs } from '../auth/orgs.js';
import { requireRole } from '../http/access.js';
import type { HubDeps, HubEnv, RouteModule } from '../http/hub-env.js';
import { readJsonObject } from '../http/json-body.js';
import { access, ERROR_RESPONSE, jsonBody, jsonResponse } from '../http/openapi.js';
import { scopeOf } from '../tenancy.js';

const STAFF = ['vendor-staff'] as const;

/** Organisations, for vendor staff only: list and create. */
export function orgRoutes(deps: HubDeps): RouteModule {
  const routes = new Hono<HubEnv>()
    .get('/api/v1/orgs', async (c) => {
      const principal = requireRole(c, STAFF);
      return c.json({ orgs: await listOrgs(deps.db, scopeOf(principal)) });
    })
    .post('/api/v1/orgs', async (c) => {
      requireRole(c, STAFF);
      const body = await readJsonObject(c);
      return c.json(await createOrg(deps.db, body, deps.now()), 201);
    });
  const org = {
    type: 'object',
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      staleDays: { type: ['integer', 'null'] },
      createdAt: { type: 'string' },
    },
  };
  return {
    routes,
    openapi: {
      '/api/v1/orgs': {
        get: {
          summary: 'Every organisation',
          ...access(STAFF),
          responses: {
            '200': jsonResponse('Organisations', {
              type: 'object',
              properties: { orgs: { type: 'array', items: org } },
            }),
            '401': ERROR_RESPONSE,
            '403': ERROR_RESPONSE,
          },
        },
        post: {
          summary: 'Create an organisation',
          ...access(STAFF),
          requestBody: jsonBody({
            type: 'object',
            required: ['name'],
            properties: { name: { type: 'string' }, staleDays: { type: 'integer', minimum: 1 } },
          }),
          responses: {
            '201': jsonResponse('Created', org),
            '400': ERROR_RESPONSE,
            '401': ERROR_RESPONSE,
            '403': ERROR_RESPONSE,
            '409': ERROR_RESPONSE,
          },
        },
      },
    },
  };
}
