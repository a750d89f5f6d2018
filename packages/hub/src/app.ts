import { createRequire } from 'node:module';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { authenticate } from './http/authenticate.js';
import { bodyLimit } from './http/body-limit.js';
import { HttpError } from './http/http-error.js';
import type { HubDeps, HubEnv, RouteModule } from './http/hub-env.js';
import { access, EVERYONE, jsonResponse, openApiDocument } from './http/openapi.js';
import { type HubLog, jsonLineLog, requestLog } from './http/request-log.js';
import { securityHeaders } from './http/security-headers.js';
import { isStoreBusy } from './store/store-busy.js';

const HUB_VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** Where the OpenAPI document of the hub's API is served. */
export const OPENAPI_PATH = '/api/v1/openapi.json';

/** How the app reports; `log` receives one entry per request and one per unexpected error. */
export interface AppOptions {
  log?: HubLog;
}

/**
 * The hub's HTTP app over its dependencies and route modules (no `listen()`): request ids and logs, security
 * headers, the body limit, authentication and CSRF, JSON errors (never a stack), 404 for unknown routes, and
 * the OpenAPI document of every module.
 */
export function createApp(
  deps: HubDeps,
  modules: readonly RouteModule[],
  options: AppOptions = {},
): Hono<HubEnv> {
  const log = options.log ?? jsonLineLog(process.stderr);
  const app = new Hono<HubEnv>();
  app.use('*', requestLog(log), securityHeaders(), bodyLimit(deps.config.maxBodyBytes), authenticate(deps));

  const own: RouteModule = {
    routes: new Hono<HubEnv>().get(OPENAPI_PATH, (c) => c.json(document)),
    openapi: {
      [OPENAPI_PATH]: {
        get: {
          summary: 'This document',
          ...access(EVERYONE),
          responses: { '200': jsonResponse('The OpenAPI 3.1 document of the hub') },
        },
      },
    },
  };
  const all = [...modules, own];
  const document = openApiDocument(all, HUB_VERSION);
  for (const module of all) app.route('/', module.routes);

  const allowed = allowedMethods(document);
  app.notFound((c) => {
    const methods = allowed(c.req.path);
    // A path the document knows, asked with a method it allows, is a route that found nothing: 404.
    if (methods.length > 0 && !methods.includes(c.req.method)) {
      const wrong = new HttpError(405, 'METHOD_NOT_ALLOWED', `${c.req.method} is not allowed here`, {
        headers: { Allow: methods.join(', ') },
      });
      return c.json(wrong.toJSON(), 405, wrong.headers);
    }
    return c.json(new HttpError(404, 'NOT_FOUND', 'no such route').toJSON(), 404);
  });
  app.onError((error, c) => {
    if (error instanceof HttpError) return c.json(error.toJSON(), error.status, error.headers);
    if (error instanceof HTTPException && error.status < 500) {
      const status = error.status as ContentfulStatusCode;
      return c.json(
        { error: { code: status === 413 ? 'TOO_LARGE' : 'BAD_REQUEST', message: 'bad request' } },
        status,
      );
    }
    if (isStoreBusy(error)) {
      const busy = new HttpError(503, 'BUSY', 'the store is busy; send again', {
        headers: { 'Retry-After': '1' },
      });
      return c.json(busy.toJSON(), 503, busy.headers);
    }
    if (error instanceof SyntaxError && /JSON/.test(error.message))
      return c.json(new HttpError(400, 'BAD_JSON', 'the body is not valid JSON').toJSON(), 400);
    const requestId = c.get('requestId');
    log({
      level: 'error',
      msg: 'unexpected error',
      requestId,
      error: error instanceof Error ? error.message : String(error),
      stack: error instanceof Error ? error.stack : undefined,
    });
    return c.json({ error: { code: 'INTERNAL', message: `internal error (request ${requestId})` } }, 500);
  });
  return app;
}

/**
 * The methods the OpenAPI document gives the path a request names (`{id}` matching one segment), or none when no
 * route has that path: a request that found no route with a known path used the wrong method (405, `Allow`).
 */
function allowedMethods(document: Record<string, unknown>): (path: string) => string[] {
  const paths = Object.entries(document.paths as Record<string, Record<string, unknown>>).map(
    ([template, item]) => ({
      pattern: new RegExp(
        `^${template
          .split(/\{[^}]+\}/)
          .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
          .join('[^/]+')}$`,
      ),
      methods: Object.keys(item).map((m) => m.toUpperCase()),
    }),
  );
  return (path) => {
    const methods = new Set(paths.filter((p) => p.pattern.test(path)).flatMap((p) => p.methods));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}
