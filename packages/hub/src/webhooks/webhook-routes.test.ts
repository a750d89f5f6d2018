import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolAgent } from '../auth/agents.js';
import { createToken } from '../auth/tokens.js';
import { defaultHubConfig } from '../config.js';
import type { HubDeps } from '../http/hub-env.js';
import type { Caller } from '../http/openapi.js';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import { type SeededOrg, seedOrg, type TestApp, testApp } from '../testing/test-hub.js';
import { webhookRoutes } from './webhook-routes.js';
import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from './webhook-settings.js';
import { MAX_WEBHOOKS_PER_ORG } from './webhook-store.js';
import { selfSignedCertificate, testSettings } from './webhook-test-kit.js';

const certificate = selfSignedCertificate();

function call(hub: TestApp, method: string, path: string, token: string, body?: unknown) {
  return hub.app.request(path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function error(
  res: Response,
): Promise<{ status: number; code: string; field?: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; field?: string; message: string } };
  return { status: res.status, ...body.error };
}

describe.each(DIALECTS)('webhook routes on %s', (dialect) => {
  let store: TestStore;
  let a: SeededOrg;
  let b: SeededOrg;
  let open: TestApp;
  let strict: TestApp;
  const hook = (path = 'hook') => `https://127.0.0.1:9/${path}`;

  beforeAll(async () => {
    store = await openTestStore(dialect);
    a = await seedOrg(store.db, 'A');
    b = await seedOrg(store.db, 'B');
    const deps: HubDeps = { db: store.db, config: defaultHubConfig('/nonexistent'), now: () => new Date() };
    const loose = testSettings(certificate);
    const refusing: WebhookSettings = { ...DEFAULT_WEBHOOK_SETTINGS, secretKey: loose.secretKey };
    open = testApp(store.db, { extra: [webhookRoutes(deps, loose)] });
    strict = testApp(store.db, { extra: [webhookRoutes(deps, refusing)] });
  });
  afterAll(() => store.cleanup());

  it('shows the secret once, lists without it, keeps it sealed in the store, and deletes', async () => {
    const res = await call(open, 'POST', '/api/v1/webhooks', a.apiTokens['org-admin'], {
      url: hook(),
      events: ['pack.published', 'advisory.published'],
      description: 'SOAR',
    });
    expect(res.status).toBe(201);
    const made = (await res.json()) as { id: string; secret: string; events: string[]; orgId: string };
    expect(made.secret).toMatch(/^csw_whsec_[A-Za-z0-9_-]{43}$/);
    expect(made.events).toEqual(['advisory.published', 'pack.published']);
    expect(made.orgId).toBe(a.orgId);
    const list = (await (await call(open, 'GET', '/api/v1/webhooks', a.apiTokens['org-admin'])).json()) as {
      webhooks: Record<string, unknown>[];
    };
    expect(list.webhooks).toEqual([
      expect.objectContaining({ id: made.id, url: hook(), description: 'SOAR', events: made.events }),
    ]);
    expect(JSON.stringify(list)).not.toContain(made.secret);
    const rows = await store.db.all('SELECT * FROM webhooks');
    expect(JSON.stringify(rows)).not.toContain(made.secret.slice('csw_whsec_'.length));
    expect((await call(open, 'DELETE', `/api/v1/webhooks/${made.id}`, a.apiTokens['org-admin'])).status).toBe(
      204,
    );
    expect((await call(open, 'DELETE', `/api/v1/webhooks/${made.id}`, a.apiTokens['org-admin'])).status).toBe(
      404,
    );
    expect(await store.db.all('SELECT * FROM webhook_subscriptions')).toEqual([]);
  });

  it("keeps organisation A's webhooks and deliveries from organisation B; members may not manage them", async () => {
    const res = await call(open, 'POST', '/api/v1/webhooks', a.apiTokens['org-admin'], {
      url: hook('a'),
      events: ['advisory.revised'],
    });
    const { id } = (await res.json()) as { id: string };
    const bAdmin = b.apiTokens['org-admin'];
    expect((await call(open, 'GET', `/api/v1/webhooks/${id}/deliveries`, bAdmin)).status).toBe(404);
    expect((await call(open, 'DELETE', `/api/v1/webhooks/${id}`, bAdmin)).status).toBe(404);
    const seen = (await (await call(open, 'GET', '/api/v1/webhooks', bAdmin)).json()) as {
      webhooks: unknown[];
    };
    expect(seen.webhooks).toEqual([]);
    // B's admin cannot create one in A by naming A's organisation either.
    const into = await call(open, 'POST', '/api/v1/webhooks', bAdmin, {
      orgId: a.orgId,
      url: hook(),
      events: ['pack.published'],
    });
    expect(await error(into)).toMatchObject({ status: 404, field: 'orgId' });
    const member = await call(open, 'POST', '/api/v1/webhooks', a.apiTokens['org-member'], {
      url: hook(),
      events: ['pack.published'],
    });
    expect(member.status).toBe(403);
    expect((await call(open, 'GET', '/api/v1/webhooks', a.apiTokens['org-member'])).status).toBe(403);
    expect(
      (await call(open, 'GET', `/api/v1/webhooks/${id}/deliveries`, a.apiTokens['org-member'])).status,
    ).toBe(403);
    expect((await open.app.request('/api/v1/webhooks')).status).toBe(401);
    // Vendor staff see every organisation's, and may register one for B.
    const staff = a.apiTokens['vendor-staff'];
    const forB = await call(open, 'POST', '/api/v1/webhooks', staff, {
      orgId: b.orgId,
      url: hook('b'),
      events: ['pack.published'],
    });
    expect(forB.status).toBe(201);
    const all = (await (await call(open, 'GET', '/api/v1/webhooks', staff)).json()) as {
      webhooks: { orgId: string }[];
    };
    expect(new Set(all.webhooks.map((w) => w.orgId))).toEqual(new Set([a.orgId, b.orgId]));
    expect((await call(open, 'GET', `/api/v1/webhooks/${id}/deliveries`, staff)).status).toBe(200);
    const bSees = (await (await call(open, 'GET', '/api/v1/webhooks', bAdmin)).json()) as {
      webhooks: { url: string }[];
    };
    expect(bSees.webhooks.map((w) => w.url)).toEqual([hook('b')]);
  });

  it.each([
    ['http://example.com/hook', 'url', 'must be https'],
    ['https://user:pass@example.com/hook', 'url', 'user name or password'],
    ['https://user@example.com/hook', 'url', 'user name or password'],
    ['https://127.0.0.1/hook', 'url', '127.0.0.1 is not a public address'],
    ['https://localhost/hook', 'url', 'localhost resolves to'],
    ['https://10.1.2.3/hook', 'url', '10.1.2.3 is not a public address'],
    ['https://169.254.169.254/latest/meta-data', 'url', 'not a public address'],
    ['https://[::1]/hook', 'url', 'not a public address'],
    ['https://[::ffff:127.0.0.1]/hook', 'url', 'not a public address'],
    ['https://[::ffff:a9fe:a9fe]/hook', 'url', 'not a public address'],
    ['https://2130706433/hook', 'url', 'not a public address'],
    ['https://0x7f.1/hook', 'url', 'not a public address'],
    ['https://0/hook', 'url', 'not a public address'],
    [`https://example.com/${'a'.repeat(2000)}`, 'url', '1 to 2000 characters'],
    ['https://exa\nmple.com/hook', 'url', 'control characters'],
    ['https://example.com/hook#frag', 'url', 'fragment'],
    ['not a url', 'url', 'absolute URL'],
    ['javascript:alert(1)', 'url', 'must be https'],
    ['file:///etc/passwd', 'url', 'must be https'],
  ])('refuses the url %s when private addresses and http are refused', async (url, field, message) => {
    const res = await call(strict, 'POST', '/api/v1/webhooks', a.apiTokens['org-admin'], {
      url,
      events: ['pack.published'],
    });
    const got = await error(res);
    expect(got).toMatchObject({ status: 400, field });
    expect(got.message).toContain(message);
  });

  it.each([
    [{ url: hook() }, 'events'],
    [{ url: hook(), events: [] }, 'events'],
    [{ url: hook(), events: ['pack.published', 'advisory.deleted'] }, 'events'],
    [{ url: hook(), events: 'pack.published' }, 'events'],
    [{ url: hook(), events: [{ toString: 1 }] }, 'events'],
    [{ url: hook(), events: ['pack.published'], description: 'x'.repeat(501) }, 'description'],
    [{ events: ['pack.published'] }, 'url'],
    [{ url: 42, events: ['pack.published'] }, 'url'],
  ])('refuses %j naming %s', async (body, field) => {
    const got = await error(await call(open, 'POST', '/api/v1/webhooks', a.apiTokens['org-admin'], body));
    expect(got).toMatchObject({ status: 400, field });
    expect(got.message.length).toBeLessThan(300);
  });

  it('lets each caller kind reach exactly the operations its OpenAPI x-roles name', async () => {
    const module = webhookRoutes(
      { db: store.db, config: defaultHubConfig('/nonexistent'), now: () => new Date() },
      testSettings(certificate),
    );
    const enrol = await createToken(store.db, { kind: 'org', orgId: a.orgId }, { kind: 'enrol' }, new Date());
    const agent = await enrolAgent(
      store.db,
      { token: enrol.token, hostId: 'h1', hostname: 'h1' },
      new Date(),
    );
    const headers: Record<Caller, Record<string, string>> = {
      anonymous: {},
      agent: { authorization: `Bearer ${agent?.credential}` },
      'vendor-staff': { authorization: `Bearer ${a.apiTokens['vendor-staff']}` },
      'org-admin': { authorization: `Bearer ${a.apiTokens['org-admin']}` },
      'org-member': { authorization: `Bearer ${a.apiTokens['org-member']}` },
    };
    const wrong: string[] = [];
    for (const [path, item] of Object.entries(module.openapi))
      for (const [method, op] of Object.entries(item as Record<string, { 'x-roles': Caller[] }>))
        for (const caller of Object.keys(headers) as Caller[]) {
          const unsafe = method !== 'get';
          const res = await open.app.request(
            path.replace(/\{[^}]+\}/g, () => randomUUID()),
            {
              method: method.toUpperCase(),
              headers: { ...headers[caller], ...(unsafe ? { 'content-type': 'application/json' } : {}) },
              ...(unsafe ? { body: '{}' } : {}),
            },
          );
          const refused = res.status === 401 || res.status === 403;
          if (refused === op['x-roles'].includes(caller))
            wrong.push(`${caller} ${method} ${path}: ${res.status}`);
        }
    expect(wrong).toEqual([]);
  });

  it(`refuses the ${MAX_WEBHOOKS_PER_ORG + 1}st webhook of an organisation, even sent all at once`, async () => {
    const c = await seedOrg(store.db, 'C');
    const token = c.apiTokens['org-admin'];
    const answers = await Promise.all(
      Array.from({ length: MAX_WEBHOOKS_PER_ORG + 5 }, (_, i) =>
        call(open, 'POST', '/api/v1/webhooks', token, { url: hook(`c${i}`), events: ['pack.published'] }),
      ),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(MAX_WEBHOOKS_PER_ORG);
    expect(statuses.filter((s) => s === 409)).toHaveLength(5);
    const refused = answers.find((r) => r.status === 409) as Response;
    expect(await error(refused)).toMatchObject({ code: 'LIMIT', field: 'url' });
    const list = (await (await call(open, 'GET', '/api/v1/webhooks', token)).json()) as {
      webhooks: unknown[];
    };
    expect(list.webhooks).toHaveLength(MAX_WEBHOOKS_PER_ORG);
  });
});
