import { Hono } from 'hono';
import { listAgents, revokeAgent } from '../auth/agents.js';
import { requireRole } from '../http/access.js';
import type { HubDeps, HubEnv, RouteModule } from '../http/hub-env.js';
import { access, ERROR_RESPONSE, jsonResponse } from '../http/openapi.js';
import { scopeOf } from '../tenancy.js';

const ADMINS = ['vendor-staff', 'org-admin'] as const;

/** An organisation's enrolled agents, for its admins (and vendor staff): list, and revoke a credential at once. */
export function agentRoutes(deps: HubDeps): RouteModule {
  const routes = new Hono<HubEnv>()
    .get('/api/v1/agents', async (c) => {
      const principal = requireRole(c, ADMINS);
      return c.json({ agents: await listAgents(deps.db, scopeOf(principal)) });
    })
    .delete('/api/v1/agents/:id', async (c) => {
      const principal = requireRole(c, ADMINS);
      await revokeAgent(deps.db, scopeOf(principal), c.req.param('id'), deps.now());
      return c.body(null, 204);
    });
  const agent = {
    type: 'object',
    properties: {
      id: { type: 'string' },
      orgId: { type: 'string' },
      hostId: { type: 'string', description: 'the host id the agent enrolled with' },
      hostname: { type: 'string' },
      enrolledAt: { type: 'string' },
      lastSeenAt: { type: ['string', 'null'], description: 'its last accepted upload' },
      revoked: { type: 'boolean' },
      revokedAt: { type: ['string', 'null'] },
    },
  };
  return {
    routes,
    openapi: {
      '/api/v1/agents': {
        get: {
          summary: "The organisation's enrolled agents (never their credentials)",
          ...access(ADMINS),
          responses: {
            '200': jsonResponse('Agents', {
              type: 'object',
              properties: { agents: { type: 'array', items: agent } },
            }),
            '401': ERROR_RESPONSE,
            '403': ERROR_RESPONSE,
          },
        },
      },
      '/api/v1/agents/{id}': {
        delete: {
          summary: "Revoke an agent's credential at once: its uploads get 401 from then on",
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
