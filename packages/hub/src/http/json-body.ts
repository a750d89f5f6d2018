import type { Context } from 'hono';
import { HttpError } from './http-error.js';
import type { HubEnv } from './hub-env.js';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The request's JSON object body: 415 unless `Content-Type` is JSON (so a cross-site form cannot send it),
 * 400 for malformed JSON, bytes that are not UTF-8 (never replaced silently) or anything but an object; 413 comes
 * from the body limit while reading.
 */
export async function readJsonObject(c: Context<HubEnv>): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type))
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  let value: unknown;
  try {
    value = JSON.parse(STRICT_UTF8.decode(await c.req.arrayBuffer()));
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(400, 'BAD_JSON', 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(400, 'INVALID', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

/** 400 naming the first field of `body` outside `allowed` (a field the hub would otherwise ignore). */
export function onlyFields(
  body: Record<string, unknown>,
  allowed: readonly string[],
): Record<string, unknown> {
  const unknown = Object.keys(body).find((key) => !allowed.includes(key));
  if (unknown !== undefined)
    throw new HttpError(400, 'INVALID', `${unknown} is not a field here (send ${allowed.join(', ')})`, {
      field: unknown,
    });
  return body;
}
