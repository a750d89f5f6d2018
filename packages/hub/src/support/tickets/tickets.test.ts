import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../store/db.js';
import { DIALECTS, openTestStore, type TestStore } from '../../testing/test-db.js';
import { type SeededOrg, seedOrg, type TestApp, testApp } from '../../testing/test-hub.js';
import { type TicketEvent, ticketRoutes } from './index.js';

// biome-ignore lint/suspicious/noExplicitAny: test JSON is read loosely
type Json = Record<string, any>;

describe.each(DIALECTS)('tickets on %s', (dialect) => {
  let store: TestStore;
  let hub: TestApp;
  let vendor: SeededOrg;
  let a: SeededOrg;
  let b: SeededOrg;
  let events: TicketEvent[];
  const appOver = (db: Db) => {
    const app = testApp(db, { extra: [] });
    const module = ticketRoutes(app.deps, async (_tx, event) => {
      events.push(event);
    });
    return testApp(db, { extra: [module] });
  };
  const call = (method: string, path: string, token: string, body?: unknown, on = hub) =>
    on.app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const json = async (res: Response | Promise<Response>) => (await (await res).json()) as Json;
  const staff = () => vendor.apiTokens['vendor-staff'];
  const member = () => a.apiTokens['org-member'];
  const open = (token: string, body: Json = {}) =>
    call('POST', '/api/v1/tickets', token, { incident: '3cx-2023', subject: 'DLL on our hosts', ...body });
  const remaining = async (token: string, query = '') =>
    (await json(call('GET', `/api/v1/incidents/3cx-2023/quota${query}`, token))).remaining;

  beforeEach(async () => {
    store = await openTestStore(dialect);
    events = [];
    hub = appOver(store.db);
    vendor = await seedOrg(store.db, 'Vendor');
    a = await seedOrg(store.db, 'Acme');
    b = await seedOrg(store.db, 'Beta');
    const created = await call('POST', '/api/v1/incidents', staff(), { slug: '3cx-2023', title: '3CX' });
    expect(created.status).toBe(201);
  });
  afterEach(() => store.cleanup());

  it('counts down 2, 1, 0, refuses the fourth with the forum link, and gives one back when staff say so', async () => {
    const ids: string[] = [];
    for (const left of [2, 1, 0]) {
      const res = await open(member());
      expect(res.status).toBe(201);
      const { ticket } = await json(res);
      expect(ticket).toMatchObject({ paid: false, counts: true, state: 'new' });
      ids.push(ticket.id);
      expect(await remaining(member())).toBe(left);
    }
    const fourth = await open(member());
    expect(fourth.status).toBe(409);
    expect((await json(fourth)).error).toMatchObject({ code: 'QUOTA_USED_UP', forum: '/forum/3cx-2023' });
    expect(await remaining(b.apiTokens['org-member'])).toBe(3);
    const notCounting = await call('POST', `/api/v1/tickets/${ids[0]}/counting`, staff(), {
      counts: false,
      reason: 'our bug, not theirs',
    });
    expect(notCounting.status).toBe(200);
    expect(await remaining(member())).toBe(1);
    expect((await open(member())).status).toBe(201);
    expect((await open(member())).status).toBe(409);
    const quota = await json(call('GET', `/api/v1/incidents/3cx-2023/quota?org=${a.orgId}`, staff()));
    expect(quota).toMatchObject({ freeTickets: 3, used: 3, remaining: 0, whenUsedUp: 'refuse' });
    expect(quota.ledger.map((l: Json) => l.delta)).toEqual([-1, -1, -1, 1, -1]);
    expect(quota.ledger[3]).toMatchObject({ ticketId: ids[0], reason: 'our bug, not theirs' });
    expect(
      (await call('POST', `/api/v1/tickets/${ids[0]}/counting`, member(), { counts: true, reason: 'x' }))
        .status,
    ).toBe(403);
  });

  it('opens paid tickets beyond the quota when the incident says so', async () => {
    await call('PATCH', '/api/v1/incidents/3cx-2023', staff(), { freeTickets: 1, whenUsedUp: 'paid' });
    expect((await json(open(member()))).ticket.paid).toBe(false);
    const second = await json(open(member()));
    expect(second.ticket).toMatchObject({ paid: true, counts: false });
    expect(await remaining(member())).toBe(0);
    const paidCounting = await call('POST', `/api/v1/tickets/${second.ticket.id}/counting`, staff(), {
      counts: false,
      reason: 'x',
    });
    expect(paidCounting.status).toBe(409);
  });

  it.each([['refuse'], ['paid']])(
    '50 parallel creations by one organisation take exactly the quota (%s)',
    async (whenUsedUp) => {
      await call('PATCH', '/api/v1/incidents/3cx-2023', staff(), { whenUsedUp });
      const hubs = dialect === 'postgres' ? [hub, appOver(await store.reopen())] : [hub];
      const results = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const res = await call(
            'POST',
            '/api/v1/tickets',
            member(),
            { incident: '3cx-2023', subject: `t${i}` },
            hubs[i % hubs.length],
          );
          return { status: res.status, body: (await res.json()) as Json };
        }),
      );
      const created = results.filter((r) => r.status === 201);
      const free = created.filter((r) => !r.body.ticket.paid);
      expect(free).toHaveLength(3);
      if (whenUsedUp === 'refuse') {
        expect(created).toHaveLength(3);
        expect(results.filter((r) => r.status === 409 && r.body.error.code === 'QUOTA_USED_UP')).toHaveLength(
          47,
        );
      } else expect(created).toHaveLength(50);
      expect(await remaining(member())).toBe(0);
    },
  );
});
