import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OPENAPI_PATH } from './app.js';
import { createToken } from './auth/tokens.js';
import type { HubEnv, RouteModule } from './http/hub-env.js';
import { SECURITY_HEADERS } from './http/security-headers.js';
import type { Db } from './store/db.js';
import { DIALECTS, openTestStore, type TestStore } from './testing/test-db.js';
import { type SeededOrg, seedOrg, TEST_PASSWORD, type TestApp, testApp } from './testing/test-hub.js';

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A route that fails the way a bug does, to see what a caller and the log get. */
const BROKEN: RouteModule = {
  routes: new Hono<HubEnv>().get('/test/broken', () => {
    throw new Error('secret detail at /srv/hub/db.ts:12');
  }),
  openapi: {},
};

/** A route whose store stays in conflict past its retries, as many concurrent enrolments on one token can. */
const CONTENDED: RouteModule = {
  routes: new Hono<HubEnv>().get('/test/contended', () => {
    throw Object.assign(new Error('could not serialize access due to concurrent update'), { code: '40001' });
  }),
  openapi: {},
};

async function signIn(app: TestApp['app'], email: string, password = TEST_PASSWORD) {
  const res = await app.request('/api/v1/session', json({ email, password }));
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const body = (await res.json()) as { csrfToken?: string };
  return { res, cookie, csrfToken: body.csrfToken ?? '' };
}

describe.each(DIALECTS)('hub app on %s', (dialect) => {
  let store: TestStore;
  let db: Db;
  let hub: TestApp;
  let a: SeededOrg;
  let b: SeededOrg;
  beforeEach(async () => {
    store = await openTestStore(dialect);
    db = store.db;
    hub = testApp(db, { extra: [BROKEN, CONTENDED] });
    [a, b] = [await seedOrg(db, 'A'), await seedOrg(db, 'B')];
  });
  afterEach(() => store.cleanup());

  it('sets the security headers on 2xx, 4xx and 5xx, and never shows a stack', async () => {
    const responses = await Promise.all([
      hub.app.request('/healthz'),
      hub.app.request('/no/such/route'),
      hub.app.request('/api/v1/tokens'),
      hub.app.request('/test/broken'),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 404, 401, 500]);
    for (const res of responses) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name)).toBe(value);
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(await responses[1]?.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no such route' } });
    const broken = await responses[3]?.text();
    expect(JSON.parse(broken ?? '')).toMatchObject({ error: { code: 'INTERNAL' } });
    expect(broken).not.toMatch(/secret detail|db\.ts|at /);
    const logged = hub.logs.find((entry) => entry.level === 'error');
    expect(logged).toMatchObject({ error: 'secret detail at /srv/hub/db.ts:12' });
    expect(String(logged?.stack)).toContain('app.test.ts');
  });

  it('answers a known path with the wrong method 405 naming the allowed ones, an unknown path 404', async () => {
    const wrong = await hub.app.request('/api/v1/tokens', { method: 'PATCH' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(await wrong.json()).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
    const byId = await hub.app.request('/api/v1/hosts/0b7e8a52-51c4-4f0e-8f6e-5e8f3c2d1a02', {
      method: 'DELETE',
    });
    expect(byId.status).toBe(405);
    expect(byId.headers.get('allow')).toBe('GET, HEAD');
    expect((await hub.app.request('/api/v1/hosts/a/b', { method: 'DELETE' })).status).toBe(404);
    expect((await hub.app.request('/api/v1/nothing', { method: 'PATCH' })).status).toBe(404);
    // A template's path that its route's own pattern refuses, with an allowed method: 404, not 405.
    expect((await hub.app.request('/advisories/x.json')).status).toBe(404);
  });

  it('answers a store conflict that outlived its retries with 503 and Retry-After, not 500', async () => {
    const res = await hub.app.request('/test/contended');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({ error: { code: 'BUSY', message: 'the store is busy; send again' } });
  });

  it('answers malformed JSON with 400, a non-JSON body with 415, a wrong field with 400 naming it', async () => {
    const bad = await hub.app.request('/api/v1/enrol', { ...json({}), body: '{"token": ' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'BAD_JSON' } });
    const form = await hub.app.request('/api/v1/enrol', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=x',
    });
    expect(form.status).toBe(415);
    const field = await hub.app.request('/api/v1/enrol', json({ token: 'x', hostId: 7, hostname: 'h' }));
    expect(field.status).toBe(400);
    expect(await field.json()).toMatchObject({ error: { field: 'hostId' } });
    const control = await hub.app.request(
      '/api/v1/enrol',
      json({ token: 'x', hostId: 'h', hostname: 'a\nb' }),
    );
    expect(await control.json()).toMatchObject({ error: { field: 'hostname' } });
  });

  it('refuses a declared body over the limit with 413 before reading it', async () => {
    const small = testApp(db, { config: { maxBodyBytes: 100 } });
    const res = await small.app.request(
      '/api/v1/enrol',
      json({ token: 'x'.repeat(200), hostId: 'h', hostname: 'h' }),
    );
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'TOO_LARGE' } });
  });

  it('signs in with an HttpOnly SameSite=Lax cookie, Secure over https, and signs out', async () => {
    const { res, cookie } = await signIn(hub.app, a.emails['org-admin']);
    expect(res.status).toBe(201);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^csw_session=[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).not.toContain('Secure');
    const secure = await hub.app.request(
      'https://hub.example/api/v1/session',
      json({ email: a.emails['org-member'], password: TEST_PASSWORD }),
    );
    expect(secure.headers.get('set-cookie')).toContain('Secure');

    const me = await hub.app.request('/api/v1/me', { headers: { cookie } });
    expect(await me.json()).toMatchObject({ principal: { kind: 'user', orgId: a.orgId, role: 'org-admin' } });
    const { csrfToken } = (await (await hub.app.request('/api/v1/me', { headers: { cookie } })).json()) as {
      csrfToken: string;
    };
    const out = await hub.app.request('/api/v1/session', {
      method: 'DELETE',
      headers: { cookie, 'x-csrf-token': csrfToken },
    });
    expect(out.status).toBe(204);
    expect((await hub.app.request('/api/v1/me', { headers: { cookie } })).status).toBe(401);
    const wrong = await signIn(hub.app, a.emails['org-admin'], 'not the password');
    expect(wrong.res.status).toBe(401);
    expect(wrong.res.headers.get('set-cookie')).toBeNull();
  });

  it('needs the CSRF token on unsafe cookie requests, and none with a bearer token', async () => {
    const { cookie, csrfToken } = await signIn(hub.app, a.emails['org-admin']);
    const issue = (headers: Record<string, string>) =>
      hub.app.request('/api/v1/tokens', json({ kind: 'enrol' }, headers));
    const missing = await issue({ cookie });
    expect(missing.status).toBe(403);
    expect(await missing.json()).toMatchObject({ error: { code: 'CSRF' } });
    expect(
      (
        await issue({
          cookie,
          'x-csrf-token': `${csrfToken.startsWith('A') ? 'B' : 'A'}${csrfToken.slice(1)}`,
        })
      ).status,
    ).toBe(403);
    const other = await signIn(hub.app, a.emails['org-member']);
    expect((await issue({ cookie, 'x-csrf-token': other.csrfToken })).status).toBe(403);
    expect((await issue({ cookie, 'x-csrf-token': csrfToken })).status).toBe(201);
    expect((await issue(bearer(a.apiTokens['org-admin']))).status).toBe(201);
    expect((await hub.app.request('/api/v1/tokens', { headers: { cookie } })).status).toBe(200);
  });

  it('limits sign-in attempts per account across two apps on one store, with Retry-After', async () => {
    const second = testApp(await store.reopen(), { clientAddress: '192.0.2.7' });
    const first = testApp(db, { clientAddress: '192.0.2.8' });
    const email = a.emails['org-member'];
    for (let i = 0; i < 5; i++)
      expect((await signIn(i % 2 ? first.app : second.app, email, `wrong ${i}`)).res.status).toBe(401);
    const blocked = await signIn(first.app, email);
    expect(blocked.res.status).toBe(429);
    expect(Number(blocked.res.headers.get('retry-after'))).toBeGreaterThan(800);
    expect((await signIn(second.app, email)).res.status).toBe(429);
    expect((await signIn(second.app, a.emails['org-admin'])).res.status).toBe(201);
  });

  it('limits sign-in attempts per client address, whichever accounts they try', async () => {
    const spray = testApp(db, { clientAddress: '198.51.100.1' });
    const targets = [
      a.emails['org-admin'],
      a.emails['org-member'],
      b.emails['org-admin'],
      b.emails['org-member'],
    ];
    for (const email of targets) expect((await signIn(spray.app, email, 'guess guess')).res.status).toBe(401);
    expect((await signIn(spray.app, a.emails['vendor-staff'])).res.status).toBe(201);
    expect((await signIn(spray.app, b.emails['vendor-staff'], 'guess guess')).res.status).toBe(401);
    expect((await signIn(spray.app, b.emails['vendor-staff'])).res.status).toBe(429);
    const elsewhere = testApp(db, { clientAddress: '198.51.100.2' });
    expect((await signIn(elsewhere.app, b.emails['vendor-staff'])).res.status).toBe(201);
  });

  it('counts parallel sign-in guesses before checking them: 20 at once get at most 5 checked', async () => {
    const guesses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => signIn(hub.app, a.emails['org-member'], `parallel guess ${i}`)),
    );
    const statuses = guesses.map((g) => g.res.status).sort();
    const checked = statuses.filter((s) => s === 401).length;
    // Never more than the limit; on PostgreSQL the two counters may see the guesses in different orders,
    // which refuses a few more.
    expect(checked).toBeLessThanOrEqual(5);
    expect(checked).toBeGreaterThanOrEqual(dialect === 'sqlite' ? 5 : 1);
    expect(statuses.filter((s) => s === 429).length).toBe(20 - checked);
  });

  it('uses the cookie when Authorization is not Bearer, and refuses a malformed Bearer header', async () => {
    const { cookie } = await signIn(hub.app, a.emails['org-admin']);
    const basic = await hub.app.request('/api/v1/me', {
      headers: { cookie, authorization: 'Basic dXNlcjpwYXNz' },
    });
    expect(await basic.json()).toMatchObject({ principal: { kind: 'user' } });
    const empty = await hub.app.request('/api/v1/me', { headers: { cookie, authorization: 'Bearer ' } });
    expect(empty.status).toBe(401);
    const other = await hub.app.request('/api/v1/me', {
      headers: { cookie, authorization: `Bearer ${b.apiTokens['org-member']}` },
    });
    expect(await other.json()).toMatchObject({ principal: { kind: 'api', orgId: b.orgId } });
    const forged = await hub.app.request('/api/v1/me', { headers: { cookie: 'csw_session=csw_api_x' } });
    expect(forged.status).toBe(401);
  });

  it('keeps a plain incoming request id and replaces anything else', async () => {
    const plain = await hub.app.request('/healthz', { headers: { 'x-request-id': 'lb-1234.abc' } });
    expect(plain.headers.get('x-request-id')).toBe('lb-1234.abc');
    const hostile = await hub.app.request('/healthz', {
      headers: { 'x-request-id': `"}{"level":"error ${'x'.repeat(80)}` },
    });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('enrols an agent whose credential then identifies it; refuses revoked and unknown tokens', async () => {
    const enrol = await createToken(db, { kind: 'org', orgId: a.orgId }, { kind: 'enrol' }, new Date());
    const res = await hub.app.request(
      '/api/v1/enrol',
      json({ token: enrol.token, hostId: 'host-1', hostname: 'pc-1' }),
    );
    expect(res.status).toBe(201);
    const agent = (await res.json()) as { agentId: string; hostId: string; credential: string };
    expect(Object.keys(agent).sort()).toEqual(['agentId', 'credential', 'hostId']);
    expect(agent.hostId).toBe('host-1');
    const me = await hub.app.request('/api/v1/me', { headers: bearer(agent.credential) });
    expect(await me.json()).toEqual({
      principal: { kind: 'agent', agentId: agent.agentId, hostId: 'host-1', orgId: a.orgId },
    });
    const revoke = await hub.app.request(`/api/v1/tokens/${enrol.info.id}`, {
      method: 'DELETE',
      headers: bearer(a.apiTokens['org-admin']),
    });
    expect(revoke.status).toBe(204);
    const again = await hub.app.request(
      '/api/v1/enrol',
      json({ token: enrol.token, hostId: 'h2', hostname: 'pc-2' }),
    );
    expect(again.status).toBe(401);
    expect(
      (await hub.app.request('/api/v1/enrol', json({ token: 'csw_enrol_x', hostId: 'h', hostname: 'h' })))
        .status,
    ).toBe(401);
    expect((await hub.app.request('/api/v1/me', { headers: bearer(agent.credential) })).status).toBe(200);
    expect((await hub.app.request('/api/v1/tokens', { headers: bearer(agent.credential) })).status).toBe(403);
  });

  it('keeps each organisation to its own tokens and users, and roles to what they may grant', async () => {
    const adminA = bearer(a.apiTokens['org-admin']);
    const made = await hub.app.request(
      '/api/v1/tokens',
      json({ kind: 'api', role: 'org-member' }, bearer(b.apiTokens['org-admin'])),
    );
    const tokenB = (await made.json()) as { id: string; token: string };
    expect(
      (await hub.app.request(`/api/v1/tokens/${tokenB.id}`, { method: 'DELETE', headers: adminA })).status,
    ).toBe(404);
    const listA = (await (await hub.app.request('/api/v1/tokens', { headers: adminA })).json()) as {
      tokens: { orgId: string }[];
    };
    expect(listA.tokens.length).toBeGreaterThan(0);
    expect(listA.tokens.every((t) => t.orgId === a.orgId)).toBe(true);
    expect(JSON.stringify(listA)).not.toContain('csw_api_');
    const intoB = await hub.app.request('/api/v1/tokens', json({ kind: 'enrol', orgId: b.orgId }, adminA));
    expect(intoB.status).toBe(404);
    const escalate = await hub.app.request(
      '/api/v1/tokens',
      json({ kind: 'api', role: 'vendor-staff' }, adminA),
    );
    expect(escalate.status).toBe(403);
    const staffUser = await hub.app.request(
      '/api/v1/users',
      json({ email: 'new@a.test', password: TEST_PASSWORD, role: 'vendor-staff' }, adminA),
    );
    expect(staffUser.status).toBe(403);
    const member = await hub.app.request(
      '/api/v1/users',
      json({ email: 'new@a.test', password: TEST_PASSWORD, role: 'org-member' }, adminA),
    );
    expect(member.status).toBe(201);
    const users = (await (await hub.app.request('/api/v1/users', { headers: adminA })).json()) as {
      users: { orgId: string; email: string }[];
    };
    expect(users.users.every((u) => u.orgId === a.orgId)).toBe(true);
    expect(JSON.stringify(users)).not.toMatch(/hash|salt/);
    expect(
      (await hub.app.request('/api/v1/users', { headers: bearer(a.apiTokens['org-member']) })).status,
    ).toBe(403);
    expect((await hub.app.request('/api/v1/orgs', { headers: adminA })).status).toBe(403);
    const staff = bearer(a.apiTokens['vendor-staff']);
    const orgs = (await (await hub.app.request('/api/v1/orgs', { headers: staff })).json()) as {
      orgs: unknown[];
    };
    expect(orgs.orgs.length).toBe(2);
    expect((await hub.app.request('/api/v1/orgs', json({ name: 'C' }, staff))).status).toBe(201);
    expect((await hub.app.request('/api/v1/orgs', json({ name: 'C' }, staff))).status).toBe(409);
    expect(
      (await hub.app.request('/api/v1/tokens', json({ kind: 'enrol', orgId: b.orgId }, staff))).status,
    ).toBe(201);
  });

  it('logs one line per request with who called, never a token, password or query', async () => {
    const { cookie } = await signIn(hub.app, a.emails['org-admin']);
    await hub.app.request('/api/v1/tokens?token=csw_api_secretquery', {
      headers: bearer(a.apiTokens['org-admin']),
    });
    await hub.app.request('/api/v1/me', { headers: { cookie } });
    const lines = hub.logs.filter((entry) => entry.msg === 'request');
    expect(lines.length).toBe(3);
    expect(lines[1]).toMatchObject({
      method: 'GET',
      path: '/api/v1/tokens',
      status: 200,
      principal: 'api',
      orgId: a.orgId,
    });
    expect(lines[2]).toMatchObject({ principal: 'user' });
    const text = JSON.stringify(hub.logs);
    expect(text).not.toContain('csw_');
    expect(text).not.toContain(TEST_PASSWORD);
    expect(text).not.toContain(cookie.split('=')[1]);
  });

  it('describes every route in the OpenAPI document, and nothing else, with security and x-roles', async () => {
    const plain = testApp(db).app;
    const doc = (await (await plain.request(OPENAPI_PATH)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[]; 'x-roles'?: string[] }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
      .sort();
    const routed = [
      ...new Set(
        plain.routes
          .filter((r) => r.method !== 'ALL')
          .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}')}`),
      ),
    ].sort();
    expect(documented).toEqual(routed);
    for (const item of Object.values(doc.paths))
      for (const operation of Object.values(item)) {
        expect(Array.isArray(operation.security)).toBe(true);
        expect(operation['x-roles']?.length).toBeGreaterThan(0);
      }
  });
});
