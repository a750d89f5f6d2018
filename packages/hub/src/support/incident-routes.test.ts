import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import { type SeededOrg, seedOrg, type TestApp, testApp } from '../testing/test-hub.js';

describe.each(DIALECTS)('incidents on %s', (dialect) => {
  let store: TestStore;
  let hub: TestApp;
  let vendor: SeededOrg;
  let acme: SeededOrg;
  const call = (method: string, path: string, token: string, body?: unknown) =>
    hub.app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  beforeEach(async () => {
    store = await openTestStore(dialect);
    hub = testApp(store.db);
    vendor = await seedOrg(store.db, 'Vendor');
    acme = await seedOrg(store.db, 'Acme');
  });
  afterEach(() => store.cleanup());

  it('lets staff create and change an incident, with the 3CX offer by default, and everyone read it', async () => {
    const staff = vendor.apiTokens['vendor-staff'];
    const created = await call('POST', '/api/v1/incidents', staff, {
      slug: '3cx-2023',
      title: '3CX supply chain',
    });
    expect(created.status).toBe(201);
    const { incident } = (await created.json()) as { incident: Record<string, unknown> };
    expect(incident).toMatchObject({ slug: '3cx-2023', freeTickets: 3, whenUsedUp: 'refuse' });
    expect(
      (await call('POST', '/api/v1/incidents', staff, { slug: '3cx-2023', title: 'again' })).status,
    ).toBe(409);
    const changed = await call('PATCH', '/api/v1/incidents/3cx-2023', staff, {
      freeTickets: 5,
      whenUsedUp: 'paid',
    });
    expect(((await changed.json()) as { incident: unknown }).incident).toMatchObject({
      freeTickets: 5,
      whenUsedUp: 'paid',
    });
    const member = acme.apiTokens['org-member'];
    expect((await call('GET', `/api/v1/incidents/${incident.id}`, member)).status).toBe(200);
    expect(
      (await call('PATCH', '/api/v1/incidents/3cx-2023', acme.apiTokens['org-admin'], { freeTickets: 99 }))
        .status,
    ).toBe(403);
    expect((await call('POST', '/api/v1/incidents', member, { slug: 'x1', title: 'x' })).status).toBe(403);
  });

  it.each([
    [{ slug: 'Bad Slug', title: 't' }, 'slug'],
    [{ slug: 'ok-1', title: '' }, 'title'],
    [{ slug: 'ok-1', title: 't', freeTickets: -1 }, 'freeTickets'],
    [{ slug: 'ok-1', title: 't', whenUsedUp: 'beg' }, 'whenUsedUp'],
  ])('refuses bad input naming the field (%#)', async (body, field) => {
    const res = await call('POST', '/api/v1/incidents', vendor.apiTokens['vendor-staff'], body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe(field);
  });
});
