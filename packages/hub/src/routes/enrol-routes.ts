import { Hono } from 'hono';
import { enrolAgent } from '../auth/agents.js';
import { lineField } from '../http/fields.js';
import { HttpError } from '../http/http-error.js';
import type { HubDeps, HubEnv, RouteModule } from '../http/hub-env.js';
import { readJsonObject } from '../http/json-body.js';
import { access, ERROR_RESPONSE, EVERYONE, jsonBody, jsonResponse } from '../http/openapi.js';

/** `POST /api/v1/enrol`: an agent trades its organisation's enrolment token for its own host credential. */
export function enrolRoutes(deps: HubDeps): RouteModule {
  const routes = new Hono<HubEnv>().post('/api/v1/enrol', async (c) => {
    const body = await readJsonObject(c);
    const token = lineField(body.token, 'token', 200);
    const hostId = lineField(body.hostId, 'hostId', 200);
    const hostname = lineField(body.hostname, 'hostname', 255);
    const agent = await enrolAgent(deps.db, { token, hostId, hostname }, deps.now());
    if (!agent)
      throw new HttpError(
        401,
        'ENROL_REFUSED',
        'the enrolment token is unknown, revoked, expired or used up',
      );
    return c.json({ agentId: agent.agentId, hostId: agent.hostId, credential: agent.credential }, 201);
  });
  return {
    routes,
    openapi: {
      '/api/v1/enrol': {
        post: {
          summary: 'Enrol an agent: an enrolment token becomes a per-host credential, shown once',
          ...access(EVERYONE),
          requestBody: jsonBody({
            type: 'object',
            required: ['token', 'hostId', 'hostname'],
            properties: {
              token: { type: 'string' },
              hostId: { type: 'string' },
              hostname: { type: 'string' },
            },
          }),
          responses: {
            '201': jsonResponse('Enrolled', {
              type: 'object',
              required: ['agentId', 'hostId', 'credential'],
              properties: {
                agentId: { type: 'string' },
                hostId: { type: 'string' },
                credential: { type: 'string' },
              },
            }),
            '400': ERROR_RESPONSE,
            '401': ERROR_RESPONSE,
          },
        },
      },
    },
  };
}
