import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import type { HubEnv } from './hub-env.js';

/** What a cacheable response is validated by: a strong ETag of its bytes and the time it last changed. */
export interface Validators {
  etag: string;
  lastModified: Date;
}

/** The validators of `body` changed at `lastModified` (the ETag is a digest of the bytes). */
export function validatorsOf(body: string | Uint8Array, lastModified: Date): Validators {
  return { etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`, lastModified };
}

/**
 * Answers a GET with `body` (status 200, `type`, ETag, Last-Modified), or 304 with no body when the request's
 * `If-None-Match` names the ETag (or, without `If-None-Match`, `If-Modified-Since` is not before Last-Modified).
 * `private` marks an answer for this caller only (`Cache-Control: private`, `Vary` on the credentials).
 */
export function conditionalResponse(
  c: Context<HubEnv>,
  body: string | Uint8Array,
  type: string,
  lastModified: Date,
  options: { private?: boolean } = {},
): Response {
  const { etag } = validatorsOf(body, lastModified);
  const seconds = Math.floor(lastModified.getTime() / 1000);
  const headers: Record<string, string> = {
    ETag: etag,
    'Last-Modified': new Date(seconds * 1000).toUTCString(),
    // What only a signed-in caller may read is never kept by a shared cache, nor served for another caller.
    ...(options.private
      ? { 'Cache-Control': 'private, no-cache', Vary: 'Authorization, Cookie' }
      : { 'Cache-Control': 'no-cache' }),
  };
  if (notModified(c.req.header('if-none-match'), c.req.header('if-modified-since'), etag, seconds))
    return c.body(null, 304, headers);
  return c.body(typeof body === 'string' ? body : Buffer.from(body), 200, {
    ...headers,
    'Content-Type': type,
  });
}

function notModified(
  ifNoneMatch: string | undefined,
  ifModifiedSince: string | undefined,
  etag: string,
  seconds: number,
): boolean {
  if (ifNoneMatch !== undefined)
    return ifNoneMatch
      .split(',')
      .map((tag) => tag.trim().replace(/^W\//, ''))
      .some((tag) => tag === etag || tag === '*');
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  return !Number.isNaN(since) && Math.floor(since / 1000) >= seconds;
}
