import { Hono } from 'hono';
import { createToken, grantableRoles, listTokens, revokeToken, TOKEN_KINDS } from '../auth/tokens.js';
import { requireRole } from '../http/access.js';
import { HttpError } from '../http/http-error.js';
import type { HubDeps, HubEnv, RouteModule } from '../http/hub-env.js';
import { readJsonObject } from '../http/json-body.js';
import { access, ERROR_RESPONSE, jsonBody, jsonResponse } from '../http/openapi.js';
import { ROLES, scopeOf } from '../tenancy.js';

const ADMINS = ['vendor-staff', 'org-admin'] as const;

/** An organisation's API and enrolment tokens, for its admins (and vendor staff): list, issue, revoke. */
export function tokenRoutes(deps: HubDeps): RouteModule {
  const routes = new Hono<HubEnv>()
    .get('/api/v1/tokens', async (c) => {
      const principal = requireRole(c, ADMINS);
      return c.json({ tokens: await listTokens(deps.db, scopeOf(principal)) });
    })
    .post('/api/v1/tokens', async (c) => {
      const principal = requireRole(c, ADMINS);
      const body = await readJsonObject(c);
      if (body.kind === 'api') {
        const role = body.role ?? 'org-member';
        if (typeof role === 'string' && (ROLES as readonly string[]).includes(role))
          if (!grantableRoles(principal.role).includes(role as (typeof ROLES)[number]))
            throw new HttpError(403, 'FORBIDDEN', `a ${principal.role} cannot issue ${role} tokens`, {
              field: 'role',
            });
      }
      const made = await createToken(deps.db, scopeOf(principal), body, deps.now());
      return c.json({ token: made.token, ...made.info }, 201);
    })
    .delete('/api/v1/tokens/:id', async (c) => {
      const principal = requireRole(c, ADMINS);
      await revokeToken(deps.db, scopeOf(principal), c.req.param('id'), deps.now());
      return c.body(null, 204);
    });
  const token = {
    type: 'object',
    properties: {
      id: { type: 'string' },
      orgId: { type: 'string' },
      kind: { enum: [...TOKEN_KINDS] },
      name: { type: 'string' },
      role: { type: ['string', 'null'] },
      createdAt: { type: 'string' },
      expiresAt: { type: ['string', 'null'] },
      maxUses: { type: ['integer', 'null'] },
      uses: { type: 'integer' },
      revokedAt: { type: ['string', 'null'] },
    },
  };
  return {
    routes,
    openapi: {
      '/api/v1/tokens': {
        get: {
          summary: "The organisation's API and enrolment tokens (never the tokens themselves)",
          ...access(ADMINS),
          responses: {
            '200': jsonResponse('Tokens', {
              type: 'object',
              properties: { tokens: { type: 'array', items: token } },
            }),
            '401': ERROR_RESPONSE,
            '403': ERROR_RESPONSE,
          },
        },
        post: {
          summary: 'Issue an API or enrolment token; the token is in this response only',
          ...access(ADMINS),
          requestBody: jsonBody({
            type: 'object',
            required: ['kind'],
            properties: {
              kind: { enum: [...TOKEN_KINDS] },
              name: { type: 'string' },
              role: { enum: [...ROLES] },
              expiresAt: { type: 'string', format: 'date-time' },
              maxUses: { type: 'integer', minimum: 1 },
              orgId: { type: 'string', description: 'vendor staff only' },
            },
          }),
          responses: {
            '201': jsonResponse('Issued', token),
            '400': ERROR_RESPONSE,
            '401': ERROR_RESPONSE,
            '403': ERROR_RESPONSE,
            '404': ERROR_RESPONSE,
          },
        },
      },
      '/api/v1/tokens/{id}': {
        delete: {
          summary: 'Revoke a token at once',
          ...access(ADMINS),
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '204': { description: 'Revoked' },
            '401': ERROR_RESPONSE,
            '403': ERROR_RESPONSE,
            '404': ERROR_RESPONSE,
          },
        },
      },
    },
  };
}
