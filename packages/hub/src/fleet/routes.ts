import { type Context, Hono } from 'hono';
import { ANY_ROLE, requireAgent, requireRole } from '../http/access.js';
import { queryCount } from '../http/fields.js';
import { HttpError } from '../http/http-error.js';
import type { HubDeps, HubEnv, RouteModule } from '../http/hub-env.js';
import { scopeOf } from '../tenancy.js';
import { ingestCentralHunt } from './central-hunt.js';
import { ingestReport } from './ingest.js';
import { fleetOpenApi } from './openapi.js';
import { fleetSummary, type HostFilters, hostDetail, listHosts } from './queries.js';
import { refreshStaleHosts } from './stale-sweep.js';
import { HOST_STATES, type HostState } from './states.js';
import { readUploadedReport } from './upload-body.js';

/** Default and largest page of `GET /api/v1/hosts`, and the longest trend of the summary. */
export const HOST_PAGE = { default: 50, max: 500 } as const;
export const TREND_DAYS = { default: 30, max: 366 } as const;

// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters refused
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A query parameter given at most once (a repeated one is ambiguous, so refused). */
function queryParam(c: Context<HubEnv>, field: string): string | undefined {
  const values = c.req.queries(field);
  if (values && values.length > 1) throw new HttpError(400, 'INVALID', `give ${field} once`, { field });
  return values?.[0];
}

function queryText(value: string | undefined, field: string, max = 200): string | undefined {
  if (value === undefined) return undefined;
  if (value.length === 0 || value.length > max)
    throw new HttpError(400, 'INVALID', `${field} must have 1 to ${max} characters`, { field });
  if (CONTROL.test(value))
    throw new HttpError(400, 'INVALID', `${field} must not hold control characters`, { field });
  return value;
}

/** The fleet: report ingest (agents), central hunt uploads (org admins), the summary, host lists and host detail. */
export function fleetRoutes(deps: HubDeps): RouteModule {
  const { db, config } = deps;
  const routes = new Hono<HubEnv>()
    .post('/api/v1/reports', async (c) => {
      const agent = requireAgent(c);
      const upload = await readUploadedReport(c, config);
      const result = await ingestReport(
        db,
        { orgId: agent.orgId, agentId: agent.agentId, enrolledHostId: agent.hostId, ...upload },
        deps.now(),
        config.staleDays,
      );
      return c.json(result, 202);
    })
    .post('/api/v1/hunts', async (c) => {
      const caller = requireRole(c, ['org-admin']);
      const upload = await readUploadedReport(c, config);
      const uploadedBy = caller.kind === 'api' ? `token:${caller.tokenId}` : `user:${caller.userId}`;
      const result = await ingestCentralHunt(
        db,
        { orgId: caller.orgId, uploadedBy, ...upload },
        deps.now(),
        config.staleDays,
      );
      return c.json(result, result.duplicate ? 200 : 201);
    })
    .get('/api/v1/fleet/summary', async (c) => {
      const scope = scopeOf(requireRole(c, ANY_ROLE));
      const days = queryCount(queryParam(c, 'days'), 'days', TREND_DAYS.default, TREND_DAYS.max);
      const now = deps.now();
      await refreshStaleHosts(db, scope, now, config.staleDays);
      return c.json(await fleetSummary(db, scope, now, days));
    })
    .get('/api/v1/hosts', async (c) => {
      const scope = scopeOf(requireRole(c, ANY_ROLE));
      const state = queryParam(c, 'state');
      if (state !== undefined && !(HOST_STATES as readonly string[]).includes(state))
        throw new HttpError(400, 'INVALID', `state must be one of ${HOST_STATES.join(', ')}`, {
          field: 'state',
        });
      const filters: HostFilters = {};
      if (state) filters.state = state as HostState;
      for (const key of ['app', 'version', 'indicator', 'pack', 'q'] as const) {
        const value = queryText(queryParam(c, key), key);
        if (value !== undefined) filters[key] = value;
      }
      if (filters.version !== undefined && filters.app === undefined)
        throw new HttpError(400, 'INVALID', 'version needs app', { field: 'version' });
      const limit = queryCount(queryParam(c, 'limit'), 'limit', HOST_PAGE.default, HOST_PAGE.max);
      const cursor = queryText(queryParam(c, 'cursor'), 'cursor', 2000);
      await refreshStaleHosts(db, scope, deps.now(), config.staleDays);
      return c.json(await listHosts(db, scope, filters, cursor ? { limit, cursor } : { limit }));
    })
    .get('/api/v1/hosts/:id', async (c) => {
      const scope = scopeOf(requireRole(c, ANY_ROLE));
      const id = c.req.param('id');
      await refreshStaleHosts(db, scope, deps.now(), config.staleDays);
      const host = id.length <= 64 ? await hostDetail(db, scope, id) : undefined;
      if (!host) throw new HttpError(404, 'NOT_FOUND', 'no such host');
      return c.json(host);
    });
  return { routes, openapi: fleetOpenApi() };
}
