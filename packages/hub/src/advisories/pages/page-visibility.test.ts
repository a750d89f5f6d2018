import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolAgent } from '../../auth/agents.js';
import { createToken } from '../../auth/tokens.js';
import { DIALECTS, openTestStore, type TestStore } from '../../testing/test-db.js';
import { type SeededOrg, seedOrg, TEST_PASSWORD, type TestApp } from '../../testing/test-hub.js';
import type { PublishedAdvisory, PublishedRevision } from '../model.js';
import { AMBER_ADVISORY, THREE_CX_ADVISORY } from '../test-advisories.js';
import { pagesApp } from './page-testing.js';

const AMBER = '/advisories/csw-2024-0001';
const AMBER_PATHS = [AMBER, `${AMBER}/revisions/1`, `${AMBER}/diff?from=1&to=2`, '/advisories/CSW-2024-0001'];

/**
 * Who reads which label: anonymous callers and agents TLP:WHITE only, and a label they may not read is 404 on every
 * page of it (a diff with bad numbers too), exactly as an advisory that does not exist; users and API tokens read all.
 */
describe.each(DIALECTS)('advisory page visibility on %s', (dialect) => {
  let store: TestStore;
  let hub: TestApp;
  let org: SeededOrg;
  const callers: Record<string, Record<string, string>> = {};
  const as = (caller: string) => ({ headers: callers[caller] ?? {} });

  beforeAll(async () => {
    store = await openTestStore(dialect);
    hub = pagesApp(store.db, [THREE_CX_ADVISORY, AMBER_ADVISORY]);
    org = await seedOrg(store.db, 'Pages');
    const enrol = await createToken(
      store.db,
      { kind: 'org', orgId: org.orgId },
      { kind: 'enrol' },
      new Date(),
    );
    const agent = await enrolAgent(
      store.db,
      { token: enrol.token, hostId: 'pages-host', hostname: 'h' },
      new Date(),
    );
    const login = await hub.app.request('/api/v1/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: org.emails['org-member'], password: TEST_PASSWORD }),
    });
    expect(login.status).toBe(201);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    callers.anonymous = {};
    callers.agent = { authorization: `Bearer ${agent?.credential}` };
    callers.revoked = { authorization: 'Bearer csw_api_not_a_real_token' };
    callers.session = { cookie };
    callers['org-member token'] = { authorization: `Bearer ${org.apiTokens['org-member']}` };
    callers['vendor-staff token'] = { authorization: `Bearer ${org.apiTokens['vendor-staff']}` };
  });
  afterAll(() => store.cleanup());

  it('answers 404 on every page of a TLP:AMBER advisory to anonymous callers and agents, like a missing one', async () => {
    const missing = await (await hub.app.request('/advisories/csw-2099-0001')).json();
    for (const caller of ['anonymous', 'agent', 'revoked'])
      for (const path of AMBER_PATHS) {
        const res = await hub.app.request(path, as(caller));
        expect({ caller, path, status: res.status }).toEqual({ caller, path, status: 404 });
        const body = JSON.stringify(await res.json());
        // The message names only what the caller sent, as for a slug that does not exist.
        expect(body).not.toMatch(/Customer-only|AMBER|revision/i);
        expect(body.replace(/csw-2024-0001/i, 'csw-2099-0001')).toBe(JSON.stringify(missing));
      }
  });

  it('leaves TLP:AMBER out of the list for anonymous callers and agents', async () => {
    for (const caller of ['anonymous', 'agent']) {
      const text = await (await hub.app.request('/advisories', as(caller))).text();
      expect(text).toContain('CSW-2023-0001');
      expect(text).not.toContain('CSW-2024-0001');
      expect(text).toContain('sign in to read those shared with customers only');
    }
  });

  it('shows TLP:AMBER to a signed-in user and to API tokens, privately cached', async () => {
    for (const caller of ['session', 'org-member token', 'vendor-staff token']) {
      const list = await hub.app.request('/advisories', as(caller));
      expect(await list.text()).toContain('<a href="/advisories/csw-2024-0001">Customer-only notice</a>');
      const page = await hub.app.request(AMBER, as(caller));
      expect({ caller, status: page.status }).toEqual({ caller, status: 200 });
      expect(page.headers.get('cache-control')).toBe('private, no-cache');
      expect(page.headers.get('vary')).toBe('Authorization, Cookie');
      const text = await page.text();
      expect(text).toContain('<span class="badge tlp tlp-amber">TLP:AMBER</span>');
      expect(text).toContain('/.well-known/csaf/amber/2024/csw-2024-0001.json');
      const diff = await hub.app.request(`${AMBER}/diff?from=1&to=2`, as(caller));
      expect({
        caller,
        status: diff.status,
        field: ((await diff.json()) as { error: { field?: string } }).error.field,
      }).toEqual({
        caller,
        status: 400,
        field: 'to',
      });
    }
    const anonymous = await hub.app.request('/advisories/csw-2023-0001');
    expect(anonymous.headers.get('cache-control')).toBe('no-cache');
  });

  it('keeps an earlier TLP:AMBER revision of an advisory now TLP:WHITE from anonymous callers', async () => {
    const [first, second] = THREE_CX_ADVISORY.revisions as [PublishedRevision, PublishedRevision];
    const declassified: PublishedAdvisory = {
      ...THREE_CX_ADVISORY,
      revisions: [
        { ...first, content: { ...first.content, tlp: 'AMBER', body: 'Customer-only details.' } },
        second,
      ],
    };
    const own = pagesApp(store.db, [declassified]);
    const page = await (await own.app.request('/advisories/csw-2023-0001')).text();
    expect(page).toContain('Revision 1 <span class="muted">(TLP:AMBER: sign in to read it)</span>');
    expect(page).not.toContain('/advisories/csw-2023-0001/revisions/1');
    expect(page).not.toContain('diff?from=1');
    expect(page).not.toContain('Customer-only details.');
    for (const caller of ['anonymous', 'agent'])
      for (const path of [
        '/advisories/csw-2023-0001/revisions/1',
        '/advisories/csw-2023-0001/diff?from=1&to=2',
      ]) {
        const res = await own.app.request(path, as(caller));
        expect({ caller, path, status: res.status }).toEqual({ caller, path, status: 404 });
        expect(await res.text()).not.toContain('Customer-only details.');
      }
    for (const path of [
      '/advisories/csw-2023-0001/revisions/1',
      '/advisories/csw-2023-0001/diff?from=1&to=2',
    ]) {
      const res = await own.app.request(path, as('session'));
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(await res.text()).toContain('Customer-only details.');
    }
    const signedIn = await (await own.app.request('/advisories/csw-2023-0001', as('session'))).text();
    expect(signedIn).toContain('<a href="/advisories/csw-2023-0001/revisions/1">Revision 1</a>');
  });
});
