/** @module The console's calls to the hub API: the session cookie, its CSRF token, and the age of offline data. */

/** A refusal from the hub, as its JSON error says it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly body?: Record<string, unknown>,
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;

/** Keeps the session's CSRF token, sent with every unsafe request. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** When the data on screen was fetched, if it came from the offline cache; undefined when it is live. */
export const dataAge = { fetchedAt: undefined as string | undefined, listeners: new Set<() => void>() };

function noteAge(res: Response): void {
  const offline = res.headers.get('x-console-offline') === '1';
  const fetchedAt = offline ? (res.headers.get('x-console-fetched-at') ?? undefined) : undefined;
  if (fetchedAt !== dataAge.fetchedAt) {
    dataAge.fetchedAt = fetchedAt;
    for (const listener of dataAge.listeners) listener();
  }
}

/** Calls the hub: JSON in and out; a non-2xx answer throws ApiError with the hub's code, message and field. */
export async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(
      0,
      'OFFLINE',
      'The hub cannot be reached, and this page is not saved for offline use.',
    );
  }
  noteAge(res);
  if (res.status === 204) return undefined as T;
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const error = (json.error ?? {}) as { code?: string; message?: string; field?: string };
    throw new ApiError(
      res.status,
      error.code ?? 'ERROR',
      error.message ?? `the hub answered ${res.status}`,
      error.field,
      json,
    );
  }
  return json as T;
}
