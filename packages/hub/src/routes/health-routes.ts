import { Hono } from 'hono';
import { HttpError } from '../http/http-error.js';
import type { HubDeps, HubEnv, RouteModule } from '../http/hub-env.js';
import { access, ERROR_RESPONSE, EVERYONE, jsonResponse } from '../http/openapi.js';

/** `GET /healthz`: 200 when the store answers, 503 otherwise (for load balancers and probes). */
export function healthRoutes(deps: HubDeps): RouteModule {
  const routes = new Hono<HubEnv>().get('/healthz', async (c) => {
    try {
      await deps.db.get('SELECT 1 AS ok');
    } catch {
      throw new HttpError(503, 'UNAVAILABLE', 'the store does not answer');
    }
    return c.json({ status: 'ok' });
  });
  return {
    routes,
    openapi: {
      '/healthz': {
        get: {
          summary: 'Liveness and store check',
          ...access(EVERYONE),
          responses: { '200': jsonResponse('The hub and its store answer'), '503': ERROR_RESPONSE },
        },
      },
    },
  };
}
