import { Hono } from 'hono';
import { ANY_ROLE, requireRole } from '../http/access.js';
import { HttpError } from '../http/http-error.js';
import type { HubDeps, HubEnv, RouteModule } from '../http/hub-env.js';
import { onlyFields, readJsonObject } from '../http/json-body.js';
import { access, ERROR_RESPONSE, jsonBody, jsonResponse } from '../http/openapi.js';
import { createIncident, getIncident, incidentInput, listIncidents, updateIncident } from './incidents.js';

const STAFF = ['vendor-staff'] as const;

const INCIDENT_FIELDS = ['slug', 'title', 'advisoryTrackingId', 'freeTickets', 'whenUsedUp'];
/** Incidents: vendor staff create them and set each one's free-ticket offer; every signed-in caller lists them. */
export function incidentRoutes(deps: HubDeps): RouteModule {
  const routes = new Hono<HubEnv>()
    .get('/api/v1/incidents', async (c) => {
      requireRole(c, ANY_ROLE);
      return c.json({ incidents: await listIncidents(deps.db) });
    })
    .post('/api/v1/incidents', async (c) => {
      const principal = requireRole(c, STAFF);
      const by = principal.kind === 'user' ? `user:${principal.userId}` : `token:${principal.tokenId}`;
      const incident = await createIncident(
        deps.db,
        incidentInput(onlyFields(await readJsonObject(c), INCIDENT_FIELDS), false),
        by,
        deps.now(),
      );
      return c.json({ incident }, 201);
    })
    .get('/api/v1/incidents/:id', async (c) => {
      requireRole(c, ANY_ROLE);
      const incident = await getIncident(deps.db, c.req.param('id'));
      if (!incident) throw new HttpError(404, 'NOT_FOUND', 'no such incident');
      return c.json({ incident });
    })
    .patch('/api/v1/incidents/:id', async (c) => {
      requireRole(c, STAFF);
      const incident = await getIncident(deps.db, c.req.param('id'));
      if (!incident) throw new HttpError(404, 'NOT_FOUND', 'no such incident');
      const input = incidentInput(onlyFields(await readJsonObject(c), INCIDENT_FIELDS), true);
      if (input.slug !== undefined && input.slug !== incident.slug)
        throw new HttpError(400, 'INVALID', 'slug cannot change', { field: 'slug' });
      return c.json({ incident: await updateIncident(deps.db, incident.id, input, deps.now()) });
    });

  const incident = {
    type: 'object',
    properties: {
      slug: { type: 'string' },
      title: { type: 'string' },
      advisoryTrackingId: { type: ['string', 'null'] },
      freeTickets: { type: 'integer', minimum: 0 },
      whenUsedUp: { enum: ['refuse', 'paid'] },
    },
  };
  const id = {
    name: 'id',
    in: 'path',
    required: true,
    schema: { type: 'string' },
    description: 'id or slug',
  };
  return {
    routes,
    openapi: {
      '/api/v1/incidents': {
        get: {
          summary: 'Every incident with its free-ticket offer',
          ...access(ANY_ROLE),
          responses: { '200': jsonResponse('The incidents'), default: ERROR_RESPONSE },
        },
        post: {
          summary:
            'Create an incident (default offer: 3 free tickets per organisation, refused when used up)',
          ...access(STAFF),
          requestBody: jsonBody({ ...incident, required: ['slug', 'title'] }),
          responses: { '201': jsonResponse('The incident'), default: ERROR_RESPONSE },
        },
      },
      '/api/v1/incidents/{id}': {
        get: {
          summary: 'One incident',
          ...access(ANY_ROLE),
          parameters: [id],
          responses: { '200': jsonResponse('The incident'), default: ERROR_RESPONSE },
        },
        patch: {
          summary: "Change an incident's title, advisory or free-ticket offer",
          ...access(STAFF),
          parameters: [id],
          requestBody: jsonBody(incident),
          responses: { '200': jsonResponse('The incident'), default: ERROR_RESPONSE },
        },
      },
    },
  };
}
