import { Hono } from 'hono';
import { createOrg, getOrg, listOrgs, updateOrg } from '../auth/orgs.js';
import { requireRole } from '../http/access.js';
import { HttpError } from '../http/http-error.js';
import type { HubDeps, HubEnv, RouteModule } from '../http/hub-env.js';
import { onlyFields, readJsonObject } from '../http/json-body.js';
import { access, ERROR_RESPONSE, jsonBody, jsonResponse } from '../http/openapi.js';
import { scopeOf } from '../tenancy.js';

const STAFF = ['vendor-staff'] as const;
const ADMINS = ['vendor-staff', 'org-admin'] as const;
const READERS = ['vendor-staff', 'org-admin', 'org-member'] as const;

/** Organisations: vendor staff list and create them; each organisation's users read its settings, its admins change them. */
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
    })
    .get('/api/v1/orgs/:id', async (c) => {
      const principal = requireRole(c, READERS);
      const org = await getOrg(deps.db, scopeOf(principal), c.req.param('id'));
      if (!org) throw new HttpError(404, 'NOT_FOUND', 'no such organisation');
      return c.json({ org });
    })
    .patch('/api/v1/orgs/:id', async (c) => {
      const principal = requireRole(c, ADMINS);
      const body = onlyFields(await readJsonObject(c), ['staleDays']);
      return c.json({ org: await updateOrg(deps.db, scopeOf(principal), c.req.param('id'), body) });
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
      '/api/v1/orgs/{id}': {
        get: {
          summary: "An organisation's settings (its own users; staff any)",
          ...access(READERS),
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': jsonResponse('The organisation', org), default: ERROR_RESPONSE },
        },
        patch: {
          summary: "Change an organisation's stale threshold in days (null: the hub's default)",
          ...access(ADMINS),
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: jsonBody({
            type: 'object',
            properties: { staleDays: { type: ['integer', 'null'], minimum: 1, maximum: 3650 } },
          }),
          responses: { '200': jsonResponse('The organisation', org), default: ERROR_RESPONSE },
        },
      },
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
