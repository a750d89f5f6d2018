import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { principalOfBearer, principalOfSession } from '../auth/principal.js';
import { equalSecrets } from '../auth/secrets.js';
import { HttpError } from './http-error.js';
import type { HubDeps, HubEnv } from './hub-env.js';

/** The console's session cookie. */
export const SESSION_COOKIE = 'csw_session';
/** The header a cookie-signed request with an unsafe method must carry, equal to the session's CSRF token. */
export const CSRF_HEADER = 'X-CSRF-Token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Sets the request's principal from `Authorization: Bearer` (API token or agent credential) or, without a
 * Bearer header (another scheme is left to a proxy in front), from the session cookie. A cookie-signed request
 * with an unsafe method needs the CSRF header (403 otherwise); a bearer request needs none, since browsers
 * never add that header by themselves. An unknown or revoked secret leaves the request anonymous, and the
 * route decides (401 where it needs someone).
 */
export function authenticate(deps: HubDeps): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    const authorization = c.req.header('authorization');
    if (authorization !== undefined && /^Bearer(\s|$)/i.test(authorization)) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match?.[1]) throw new HttpError(401, 'UNAUTHENTICATED', 'send Authorization: Bearer TOKEN');
      c.set('principal', await principalOfBearer(deps.db, match[1], deps.now()));
      return next();
    }
    const sessionId = getCookie(c, SESSION_COOKIE);
    if (sessionId) {
      const session = await principalOfSession(deps.db, sessionId, deps.now());
      if (session) {
        if (!SAFE_METHODS.has(c.req.method)) {
          const sent = c.req.header(CSRF_HEADER) ?? '';
          if (!equalSecrets(sent, session.csrfToken))
            throw new HttpError(403, 'CSRF', `send the session's CSRF token in ${CSRF_HEADER}`);
        }
        c.set('principal', session.principal);
      }
    }
    return next();
  };
}
