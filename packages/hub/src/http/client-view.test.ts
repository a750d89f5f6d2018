import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Listening, listenApp } from '../serve.js';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import { type SeededOrg, seedOrg, TEST_PASSWORD, testApp } from '../testing/test-hub.js';
import { type ClientView, directClient, proxiedClient } from './client-view.js';

describe.each(DIALECTS)('client address behind proxies on %s', (dialect) => {
  let store: TestStore;
  let org: SeededOrg;
  let server: Listening | undefined;
  beforeEach(async () => {
    store = await openTestStore(dialect);
    org = await seedOrg(store.db, 'A');
  });
  afterEach(async () => {
    await server?.close(1000);
    server = undefined;
    await store.cleanup();
  });

  const serveWith = async (client: ClientView) => {
    server = await listenApp(testApp(store.db, { client }).app, '127.0.0.1', 0);
    return (email: string, headers: Record<string, string>, password = 'wrong wrong') =>
      fetch(`${server?.url}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ email, password }),
      });
  };

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const signIn = await serveWith(proxiedClient(['192.0.2.1']));
    for (let i = 0; i < 5; i++)
      expect((await signIn(`nobody${i}@a.test`, { 'x-forwarded-for': `203.0.113.${i}` })).status).toBe(401);
    const sixth = await signIn(org.emails['org-admin'], { 'x-forwarded-for': '203.0.113.99' }, TEST_PASSWORD);
    expect(sixth.status).toBe(429);
  });

  it("counts a trusted proxy's clients apart, by the last untrusted X-Forwarded-For hop", async () => {
    const signIn = await serveWith(proxiedClient(['127.0.0.1']));
    for (let i = 0; i < 5; i++)
      expect(
        (await signIn(`nobody${i}@a.test`, { 'x-forwarded-for': `198.51.100.1, 203.0.113.7` })).status,
      ).toBe(401);
    expect((await signIn('other@a.test', { 'x-forwarded-for': '203.0.113.7, 127.0.0.1' })).status).toBe(429);
    const elsewhere = await signIn(
      org.emails['org-admin'],
      { 'x-forwarded-for': '203.0.113.7, 203.0.113.8', 'x-forwarded-proto': 'https' },
      TEST_PASSWORD,
    );
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.headers.get('set-cookie')).toContain('Secure');
  });

  it('judges https by the URL when nobody is trusted', async () => {
    const signIn = await serveWith(directClient);
    const res = await signIn(org.emails['org-admin'], { 'x-forwarded-proto': 'https' }, TEST_PASSWORD);
    expect(res.status).toBe(201);
    expect(res.headers.get('set-cookie')).not.toContain('Secure');
  });
});
