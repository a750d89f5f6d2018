import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enrolAgent } from '../auth/agents.js';
import { createToken } from '../auth/tokens.js';
import { scanReport } from '../fleet/fleet-test-kit.js';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import { type SeededOrg, seedOrg, type TestApp, testApp } from '../testing/test-hub.js';

/** Host ids as agents send them. */
const H = { a1: randomUUID(), a2: randomUUID(), b1: randomUUID() };

describe.each(DIALECTS)('agent routes on %s', (dialect) => {
  let store: TestStore;
  let hub: TestApp;
  let a: SeededOrg;
  let b: SeededOrg;
  beforeEach(async () => {
    store = await openTestStore(dialect);
    hub = testApp(store.db);
    a = await seedOrg(store.db, 'A');
    b = await seedOrg(store.db, 'B');
  });
  afterEach(() => store.cleanup());

  const enrol = async (orgId: string, hostId: string) => {
    const token = await createToken(store.db, { kind: 'org', orgId }, { kind: 'enrol' }, new Date());
    const agent = await enrolAgent(
      store.db,
      { token: token.token, hostId, hostname: `${hostId}.lan` },
      new Date(),
    );
    if (!agent) throw new Error('enrolment failed');
    return agent;
  };
  const as = (token: string, method = 'GET') => ({ method, headers: { authorization: `Bearer ${token}` } });
  const upload = (credential: string, hostId: string) =>
    hub.app.request('/api/v1/reports', {
      method: 'POST',
      headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
      body: JSON.stringify(scanReport({ hostId, hostname: `${hostId}.lan` })),
    });

  it("lists the organisation's agents with their last upload; revoking one stops its credential at once", async () => {
    const one = await enrol(a.orgId, H.a1);
    const two = await enrol(a.orgId, H.a2);
    const other = await enrol(b.orgId, H.b1);
    expect((await upload(one.credential, H.a1)).status).toBe(202);

    const list = await hub.app.request('/api/v1/agents', as(a.apiTokens['org-admin']));
    expect(list.status).toBe(200);
    const { agents } = (await list.json()) as { agents: Record<string, unknown>[] };
    expect(agents.map((x) => x.id).sort()).toEqual([one.agentId, two.agentId].sort());
    const first = agents.find((x) => x.id === one.agentId);
    expect(first).toMatchObject({ hostId: H.a1, hostname: `${H.a1}.lan`, revoked: false, revokedAt: null });
    expect(typeof first?.enrolledAt).toBe('string');
    expect(typeof first?.lastSeenAt).toBe('string');
    expect(agents.find((x) => x.id === two.agentId)?.lastSeenAt).toBeNull();
    expect(JSON.stringify(agents)).not.toContain('csw_');
    expect((await hub.app.request('/api/v1/agents', as(a.apiTokens['org-member']))).status).toBe(403);
    expect((await hub.app.request('/api/v1/agents', as(one.credential))).status).toBe(403);

    // Another organisation's agent is not found, and keeps working.
    const theirs = await hub.app.request(
      `/api/v1/agents/${other.agentId}`,
      as(a.apiTokens['org-admin'], 'DELETE'),
    );
    expect(theirs.status).toBe(404);
    expect((await upload(other.credential, H.b1)).status).toBe(202);
    expect(
      (await hub.app.request(`/api/v1/agents/${one.agentId}`, as(a.apiTokens['org-member'], 'DELETE')))
        .status,
    ).toBe(403);

    const revoked = await hub.app.request(
      `/api/v1/agents/${one.agentId}`,
      as(a.apiTokens['org-admin'], 'DELETE'),
    );
    expect(revoked.status).toBe(204);
    const refused = await upload(one.credential, H.a1);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    expect((await upload(two.credential, H.a2)).status).toBe(202);
    const again = (await (await hub.app.request('/api/v1/agents', as(a.apiTokens['org-admin']))).json()) as {
      agents: Record<string, unknown>[];
    };
    expect(again.agents.find((x) => x.id === one.agentId)).toMatchObject({ revoked: true });
    expect(typeof again.agents.find((x) => x.id === one.agentId)?.revokedAt).toBe('string');
    // Revoking twice is harmless.
    expect(
      (await hub.app.request(`/api/v1/agents/${one.agentId}`, as(a.apiTokens['org-admin'], 'DELETE'))).status,
    ).toBe(204);
  });

  it("lets vendor staff revoke any organisation's agent", async () => {
    const other = await enrol(b.orgId, H.b1);
    const res = await hub.app.request(
      `/api/v1/agents/${other.agentId}`,
      as(a.apiTokens['vendor-staff'], 'DELETE'),
    );
    expect(res.status).toBe(204);
    expect((await upload(other.credential, H.b1)).status).toBe(401);
  });
});
