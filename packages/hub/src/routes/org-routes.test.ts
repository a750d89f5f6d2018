import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import { type JsonCall, jsonCaller, type SeededOrg, seedOrg, testApp } from '../testing/test-hub.js';

describe.each(DIALECTS)('organisation settings on %s', (dialect) => {
  let store: TestStore;
  let call: JsonCall;
  let a: SeededOrg;
  let b: SeededOrg;

  beforeEach(async () => {
    store = await openTestStore(dialect);
    const { app } = testApp(store.db);
    call = jsonCaller((path, init) => app.request(path, init));
    a = await seedOrg(store.db, 'Acme');
    b = await seedOrg(store.db, 'Beta');
  });
  afterEach(() => store.cleanup());

  it('lets an organisation read its settings and its admins change the stale threshold, never another’s', async () => {
    const own = await call('GET', `/api/v1/orgs/${a.orgId}`, a.apiTokens['org-member']);
    expect(own).toMatchObject({ status: 200, json: { org: { id: a.orgId, name: 'Acme', staleDays: null } } });
    expect((await call('GET', `/api/v1/orgs/${b.orgId}`, a.apiTokens['org-member'])).status).toBe(404);
    const changed = await call('PATCH', `/api/v1/orgs/${a.orgId}`, a.apiTokens['org-admin'], {
      staleDays: 5,
    });
    expect(changed).toMatchObject({ status: 200, json: { org: { staleDays: 5 } } });
    expect(
      (await call('PATCH', `/api/v1/orgs/${a.orgId}`, a.apiTokens['org-member'], { staleDays: 6 })).status,
    ).toBe(403);
    expect(
      (await call('PATCH', `/api/v1/orgs/${b.orgId}`, a.apiTokens['org-admin'], { staleDays: 6 })).status,
    ).toBe(404);
    for (const body of [{ staleDays: 0 }, { staleDays: 'x' }, { name: 'Evil' }]) {
      const refused = await call('PATCH', `/api/v1/orgs/${a.orgId}`, a.apiTokens['org-admin'], body);
      expect(refused.status).toBe(400);
      expect(refused.json.error.field).toBe(Object.keys(body)[0]);
    }
    expect(
      (await call('GET', `/api/v1/orgs/${b.orgId}`, b.apiTokens['org-admin'])).json.org.staleDays,
    ).toBeNull();
    const reset = await call('PATCH', `/api/v1/orgs/${a.orgId}`, a.apiTokens['org-admin'], {
      staleDays: null,
    });
    expect(reset.json.org.staleDays).toBeNull();
    expect(
      (await call('PATCH', `/api/v1/orgs/${b.orgId}`, a.apiTokens['vendor-staff'], { staleDays: 9 })).status,
    ).toBe(200);
  });
});
