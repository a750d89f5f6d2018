import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI_PATH } from './app.js';
import { enrolAgent } from './auth/agents.js';
import { createToken } from './auth/tokens.js';
import type { Caller } from './http/openapi.js';
import { DIALECTS, openTestStore, type TestStore } from './testing/test-db.js';
import { type SeededOrg, seedOrg, type TestApp, testApp } from './testing/test-hub.js';

const CALLERS: Caller[] = ['anonymous', 'vendor-staff', 'org-admin', 'org-member', 'agent'];
const UNSAFE = new Set(['post', 'put', 'patch', 'delete']);

type Operation = { 'x-roles'?: Caller[] };

/**
 * The role x endpoint matrix, from the OpenAPI document: every caller kind on every operation. A caller the
 * document does not allow gets 401 or 403; one it allows never does (a `{}` body or a random id may still be
 * 400 or 404). Organisation A's callers never see organisation B's id in any list.
 */
describe.each(DIALECTS)('access matrix on %s', (dialect) => {
  let store: TestStore;
  let hub: TestApp;
  let a: SeededOrg;
  let b: SeededOrg;
  const headers: Record<Caller, Record<string, string>> = {} as never;
  let operations: { method: string; path: string; roles: Caller[] }[] = [];

  beforeAll(async () => {
    store = await openTestStore(dialect);
    hub = testApp(store.db);
    a = await seedOrg(store.db, 'A');
    b = await seedOrg(store.db, 'B');
    const enrol = await createToken(store.db, { kind: 'org', orgId: a.orgId }, { kind: 'enrol' }, new Date());
    const agent = await enrolAgent(
      store.db,
      { token: enrol.token, hostId: 'matrix-host', hostname: 'm' },
      new Date(),
    );
    await createToken(
      store.db,
      { kind: 'org', orgId: b.orgId },
      { kind: 'enrol', name: 'b-secret-name' },
      new Date(),
    );
    headers.anonymous = {};
    headers.agent = { authorization: `Bearer ${agent?.credential}` };
    for (const role of ['vendor-staff', 'org-admin', 'org-member'] as const)
      headers[role] = { authorization: `Bearer ${a.apiTokens[role]}` };
    const doc = (await (await hub.app.request(OPENAPI_PATH)).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ method, path, roles: op['x-roles'] ?? [] })),
    );
  });
  afterAll(() => store.cleanup());

  it('lets each caller reach exactly the operations whose x-roles name it', async () => {
    expect(operations.length).toBeGreaterThan(10);
    const wrong: string[] = [];
    for (const op of operations)
      for (const caller of CALLERS) {
        const url = op.path.replace(/\{[^}]+\}/g, () => randomUUID());
        const res = await hub.app.request(url, {
          method: op.method.toUpperCase(),
          headers: {
            ...headers[caller],
            ...(UNSAFE.has(op.method) ? { 'content-type': 'application/json' } : {}),
          },
          ...(UNSAFE.has(op.method) ? { body: '{}' } : {}),
        });
        const refused = res.status === 401 || res.status === 403;
        if (refused === op.roles.includes(caller))
          wrong.push(`${caller} ${op.method.toUpperCase()} ${op.path}: ${res.status}`);
      }
    expect(wrong).toEqual([]);
  });

  it("never shows organisation A's callers anything of organisation B", async () => {
    const lists = operations.filter((op) => op.method === 'get' && !op.path.includes('{'));
    for (const op of lists)
      for (const caller of ['org-admin', 'org-member', 'agent'] as const) {
        const text = await (await hub.app.request(op.path, { headers: headers[caller] })).text();
        expect({
          op: op.path,
          caller,
          leaks: text.includes(b.orgId) || text.includes('b-secret-name'),
        }).toEqual({
          op: op.path,
          caller,
          leaks: false,
        });
      }
  });
});
