import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { HubEnv } from './hub-env.js';

/** Where the hub writes its structured log: one JSON object per call. */
export type HubLog = (entry: Record<string, unknown>) => void;

/** A log writing one JSON line per entry to a stream (stderr in `serve`). */
export function jsonLineLog(stream: NodeJS.WritableStream): HubLog {
  return (entry) => {
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
  };
}

/** An incoming request id is kept only when it is short and plain; otherwise the hub makes one. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Gives each request an id (echoed in `X-Request-Id`) and logs one line when it ends: method, path (never the
 * query, which may carry secrets), status, duration, and who called (kind and organisation, never a token).
 */
export function requestLog(log: HubLog): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    c.set('principal', undefined);
    await next();
    c.header('X-Request-Id', requestId);
    const principal = c.get('principal');
    log({
      level: 'info',
      msg: 'request',
      requestId,
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      ...(principal ? { principal: principal.kind, orgId: principal.orgId } : {}),
    });
  };
}
