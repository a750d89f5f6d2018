import { type Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { LOGIN_LIMIT, loginKeys, settleLoginSuccess, takeLoginAttempt } from '../auth/login-limit.js';
import { decoyHash } from '../auth/passwords.js';
import { principalOfSession } from '../auth/principal.js';
import { endSession, login } from '../auth/sessions.js';
import { SESSION_COOKIE } from '../http/authenticate.js';
import { type ClientView, directClient } from '../http/client-view.js';
import { emailField } from '../http/fields.js';
import { HttpError } from '../http/http-error.js';
import type { HubDeps, HubEnv, RouteModule } from '../http/hub-env.js';
import { readJsonObject } from '../http/json-body.js';
import { ALL_ROLES, access, ERROR_RESPONSE, EVERYONE, jsonBody, jsonResponse } from '../http/openapi.js';

const cookieOptions = (c: Context<HubEnv>, client: ClientView) => ({
  path: '/',
  httpOnly: true,
  sameSite: 'Lax' as const,
  secure: client.https(c),
});

/**
 * Console sign-in and sign-out, and `GET /api/v1/me`. Sign-in is limited per account and per client address
 * (`LOGIN_LIMIT`, the address as `client` sees it), with the counters in the store so every hub process on one database shares them.
 */
export function sessionRoutes(deps: HubDeps, client: ClientView = directClient): RouteModule {
  // The decoy hash for unknown emails is made now, so the first such sign-in takes no longer than the rest.
  decoyHash().catch(() => undefined);
  const routes = new Hono<HubEnv>()
    .post('/api/v1/session', async (c) => {
      const body = await readJsonObject(c);
      const email = emailField(body.email);
      if (typeof body.password !== 'string')
        throw new HttpError(400, 'INVALID', 'password must be a string', { field: 'password' });
      const now = deps.now();
      const keys = loginKeys(email, client.address(c));
      const attempt = await takeLoginAttempt(deps.db, [keys.account, keys.address], now);
      if (!attempt.allowed)
        throw new HttpError(429, 'RATE_LIMITED', 'too many sign-in attempts; try again later', {
          headers: { 'Retry-After': String(attempt.retryAfterSeconds) },
        });
      const session = await login(deps.db, email, body.password, now);
      if (!session) throw new HttpError(401, 'INVALID_CREDENTIALS', 'wrong email or password');
      await settleLoginSuccess(deps.db, keys);
      setCookie(c, SESSION_COOKIE, session.sessionId, {
        ...cookieOptions(c, client),
        expires: new Date(session.expiresAt),
      });
      return c.json({ user: session.user, csrfToken: session.csrfToken, expiresAt: session.expiresAt }, 201);
    })
    .delete('/api/v1/session', async (c) => {
      const principal = c.get('principal');
      if (!principal || principal.kind === 'agent')
        throw new HttpError(401, 'UNAUTHENTICATED', 'no session to end');
      // A token caller has no session: nothing to end.
      const sessionId = principal.kind === 'user' ? getCookie(c, SESSION_COOKIE) : undefined;
      if (sessionId) {
        await endSession(deps.db, sessionId);
        deleteCookie(c, SESSION_COOKIE, cookieOptions(c, client));
      }
      return c.body(null, 204);
    })
    .get('/api/v1/me', async (c) => {
      const principal = c.get('principal');
      if (!principal) throw new HttpError(401, 'UNAUTHENTICATED', 'sign in or send a token');
      const sessionId = principal.kind === 'user' ? getCookie(c, SESSION_COOKIE) : undefined;
      const session = sessionId ? await principalOfSession(deps.db, sessionId, deps.now()) : undefined;
      return c.json({ principal, ...(session ? { csrfToken: session.csrfToken } : {}) });
    });
  return {
    routes,
    openapi: {
      '/api/v1/session': {
        post: {
          summary: `Sign in to the console (at most ${LOGIN_LIMIT.attempts} attempts per account and address in ${LOGIN_LIMIT.windowMs / 60_000} minutes)`,
          ...access(EVERYONE),
          requestBody: jsonBody({
            type: 'object',
            required: ['email', 'password'],
            properties: { email: { type: 'string' }, password: { type: 'string' } },
          }),
          responses: {
            '201': jsonResponse('Signed in; the session cookie is set and the CSRF token returned'),
            '400': ERROR_RESPONSE,
            '401': ERROR_RESPONSE,
            '429': ERROR_RESPONSE,
          },
        },
        delete: {
          summary: 'Sign out',
          ...access(ALL_ROLES),
          responses: { '204': { description: 'Signed out' }, '401': ERROR_RESPONSE, '403': ERROR_RESPONSE },
        },
      },
      '/api/v1/me': {
        get: {
          summary: 'Who is calling (and the CSRF token of a console session)',
          ...access([...ALL_ROLES, 'agent']),
          responses: { '200': jsonResponse('The caller'), '401': ERROR_RESPONSE },
        },
      },
    },
  };
}
