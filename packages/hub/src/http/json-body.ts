import type { Context } from 'hono';
import { HttpError } from './http-error.js';
import type { HubEnv } from './hub-env.js';

/**
 * The request's JSON object body: 415 unless `Content-Type` is JSON (so a cross-site form cannot send it),
 * 400 for malformed JSON or anything but an object; 413 comes from the body limit while reading.
 */
export async function readJsonObject(c: Context<HubEnv>): Promise<Record<string, unknown>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type))
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'BAD_JSON', 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(400, 'INVALID', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}
