import type { MiddlewareHandler } from 'hono';
import { HttpError } from './http-error.js';
import type { HubEnv } from './hub-env.js';

/** The error for a body over the limit. */
export function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, 'TOO_LARGE', `the request body is larger than ${maxBytes} bytes`);
}

/**
 * Refuses bodies over `maxBytes`: at once when `Content-Length` says so, else while the body streams in, so
 * an oversized body is never buffered; whoever reads the body then gets a 413 `HttpError`.
 */
export function bodyLimit(maxBytes: number): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    const raw = c.req.raw;
    if (raw.method === 'GET' || raw.method === 'HEAD') return next();
    const declared = raw.headers.get('content-length');
    if (declared !== null && !raw.headers.has('transfer-encoding')) {
      if (!/^\d+$/.test(declared) || Number(declared) > maxBytes) throw tooLarge(maxBytes);
      return next();
    }
    // Only a body without a declared length is wrapped: reading `raw.body` turns the Node request into a web stream.
    if (!raw.body) return next();
    let seen = 0;
    const counted = raw.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > maxBytes) controller.error(tooLarge(maxBytes));
          else controller.enqueue(chunk);
        },
      }),
    );
    c.req.raw = new Request(raw, { body: counted, duplex: 'half' } as RequestInit);
    return next();
  };
}
