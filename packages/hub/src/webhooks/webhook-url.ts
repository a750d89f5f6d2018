import { lineField } from '../http/fields.js';
import { HttpError } from '../http/http-error.js';
import { RefusedAddressError, resolvePublic } from './addresses.js';
import type { WebhookSettings } from './webhook-settings.js';

/** The longest endpoint URL accepted. */
export const MAX_URL_LENGTH = 2000;

/**
 * An endpoint URL as stored (normalised by the WHATWG parser): https (or http when the settings allow it), at
 * most 2,000 characters, no user name or password, no fragment; 400 naming `url` otherwise.
 */
export function webhookUrlField(value: unknown, settings: Pick<WebhookSettings, 'allowHttp'>): URL {
  const text = lineField(value, 'url', MAX_URL_LENGTH);
  const bad = (why: string) => new HttpError(400, 'INVALID', `url ${why}`, { field: 'url' });
  if (text.trim() !== text) throw bad('must not start or end with spaces');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad('must be an absolute URL');
  }
  if (url.protocol !== 'https:' && !(settings.allowHttp && url.protocol === 'http:'))
    throw bad(settings.allowHttp ? 'must be https or http' : 'must be https');
  if (url.username !== '' || url.password !== '') throw bad('must not hold a user name or password');
  if (url.hash !== '' || text.includes('#')) throw bad('must not have a fragment');
  if (url.hostname === '') throw bad('must name a host');
  if (url.href.length > MAX_URL_LENGTH) throw bad(`must have at most ${MAX_URL_LENGTH} characters`);
  return url;
}

/** Refuses (400 naming `url`) an endpoint whose host does not resolve, or resolves to a refused address. */
export async function checkEndpointHost(url: URL, settings: WebhookSettings): Promise<void> {
  try {
    await resolvePublic(url.hostname, settings.allowPrivateAddresses);
  } catch (error) {
    const message =
      error instanceof RefusedAddressError
        ? error.message
        : `${url.hostname} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    throw new HttpError(400, 'INVALID', `url: ${message}`, { field: 'url' });
  }
}
