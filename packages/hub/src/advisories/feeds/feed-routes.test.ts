import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolAgent } from '../../auth/agents.js';
import { createToken } from '../../auth/tokens.js';
import { defaultHubConfig } from '../../config.js';
import type { HubDeps } from '../../http/hub-env.js';
import { DIALECTS, openTestStore, type TestStore } from '../../testing/test-db.js';
import { type SeededOrg, seedOrg, TEST_PASSWORD, type TestApp, testApp } from '../../testing/test-hub.js';
import type { PublishedAdvisories, PublishedAdvisory } from '../model.js';
import { AMBER_ADVISORY, listedAdvisories, THREE_CX_ADVISORY } from '../test-advisories.js';
import { advisoryFeedRoutes, FEED_ENTRY_LIMIT } from './feed-routes.js';
import { atomRuleViolations, parseFeed, rssRuleViolations, xmllint } from './test-feed-parsers.js';

const PUBLIC_URL = 'https://hub.example';
const FEEDS = [
  ['/advisories/feed.atom', 'application/atom+xml; charset=utf-8'],
  ['/advisories/feed.rss', 'application/rss+xml; charset=utf-8'],
] as const;

/** The advisory as it stood after revision `n` was published. */
function atRevision(advisory: PublishedAdvisory, n: number): PublishedAdvisory {
  const revisions = advisory.revisions.slice(0, n);
  return { ...advisory, revisions, currentReleaseDate: revisions.at(-1)?.at ?? advisory.initialReleaseDate };
}

describe.each(DIALECTS)('advisory feed routes on %s', (dialect) => {
  let store: TestStore;
  let hub: TestApp;
  let org: SeededOrg;
  let agentCredential: string;
  let sessionCookie: string;
  let published: PublishedAdvisory[] = [];
  const source: PublishedAdvisories = {
    list: (viewer) => listedAdvisories(published).list(viewer),
    get: (slug, viewer) => listedAdvisories(published).get(slug, viewer),
  };

  beforeAll(async () => {
    store = await openTestStore(dialect);
    const deps: HubDeps = {
      db: store.db,
      config: { ...defaultHubConfig('/nonexistent'), publicUrl: PUBLIC_URL },
      now: () => new Date(),
    };
    hub = testApp(store.db, { config: deps.config, extra: [advisoryFeedRoutes(deps, source)] });
    org = await seedOrg(store.db, 'Acme');
    const enrol = await createToken(
      store.db,
      { kind: 'org', orgId: org.orgId },
      { kind: 'enrol' },
      new Date(),
    );
    agentCredential =
      (await enrolAgent(store.db, { token: enrol.token, hostId: 'feed-host', hostname: 'h' }, new Date()))
        ?.credential ?? '';
    const login = await hub.app.request('/api/v1/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: org.emails['org-member'], password: TEST_PASSWORD }),
    });
    expect(login.status).toBe(201);
    sessionCookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  });
  afterAll(() => store.cleanup());

  const get = (path: string, headers: Record<string, string> = {}) => hub.app.request(path, { headers });

  it.each(FEEDS)('serves %s as a parseable feed with validators', async (path, type) => {
    published = [THREE_CX_ADVISORY, AMBER_ADVISORY];
    const response = await get(path);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(type);
    expect(response.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(response.headers.get('last-modified')).toBe('Tue, 11 Apr 2023 16:30:00 GMT');
    expect(response.headers.get('vary')).toBe('Authorization, Cookie');
    const xml = await response.text();
    expect(xmllint(xml)).toEqual({ status: 0, output: '' });
    const parsed = parseFeed(xml);
    expect(parsed.bozo, parsed.bozoException).toBe(false);
    expect(path.endsWith('.atom') ? atomRuleViolations(parsed.tree) : rssRuleViolations(parsed.tree)).toEqual(
      [],
    );
    expect(parsed.entries.map((e) => e.id)).toEqual(['tag:hub.example,2023-03-30:advisory/CSW-2023-0001']);
    expect(parsed.entries[0]?.enclosures[0]).toMatchObject({
      href: 'https://hub.example/feed/packs/3cx-2023-6.tar.gz',
      type: 'application/gzip',
      length: '48213',
    });
  });

  it.each(FEEDS)(
    '%s: TLP:AMBER for users and API tokens only, never for anonymous callers or agents',
    async (path) => {
      published = [THREE_CX_ADVISORY, AMBER_ADVISORY];
      const ids = async (headers: Record<string, string>) => {
        const response = await get(path, headers);
        expect(response.status).toBe(200);
        return {
          ids: parseFeed(await response.text()).entries.map((e) => e.id?.replace(/^.*advisory\//, '')),
          cache: response.headers.get('cache-control'),
        };
      };
      const everyLabel = { ids: ['CSW-2024-0001', 'CSW-2023-0001'], cache: 'private, no-cache' };
      const whiteOnly = { ids: ['CSW-2023-0001'], cache: 'no-cache' };
      expect(await ids({})).toEqual(whiteOnly);
      expect(await ids({ authorization: `Bearer ${agentCredential}` })).toEqual(whiteOnly);
      for (const role of ['vendor-staff', 'org-admin', 'org-member'] as const)
        expect(await ids({ authorization: `Bearer ${org.apiTokens[role]}` })).toEqual(everyLabel);
      expect(await ids({ cookie: sessionCookie })).toEqual(everyLabel);
      // A token the hub does not know makes no one signed in: the public feed.
      expect(await ids({ authorization: 'Bearer csw_api_forged' })).toEqual(whiteOnly);
      expect(await ids({ cookie: 'csw_session=forged' })).toEqual(whiteOnly);
    },
  );

  it.each(FEEDS)(
    '%s: answers If-None-Match and If-Modified-Since with 304, and a new revision with 200',
    async (path) => {
      published = [atRevision(THREE_CX_ADVISORY, 2)];
      const first = await get(path);
      const etag = first.headers.get('etag') ?? '';
      const lastModified = first.headers.get('last-modified') ?? '';
      expect(lastModified).toBe('Fri, 31 Mar 2023 18:00:00 GMT');

      const byTag = await get(path, { 'if-none-match': etag });
      expect(byTag.status).toBe(304);
      expect(await byTag.text()).toBe('');
      expect(byTag.headers.get('etag')).toBe(etag);
      expect((await get(path, { 'if-none-match': `"other", W/${etag}` })).status).toBe(304);
      expect((await get(path, { 'if-modified-since': lastModified })).status).toBe(304);
      expect((await get(path, { 'if-modified-since': 'Fri, 31 Mar 2023 17:59:59 GMT' })).status).toBe(200);
      expect((await get(path, { 'if-modified-since': 'not a date' })).status).toBe(200);

      published = [THREE_CX_ADVISORY];
      const revised = await get(path, { 'if-none-match': etag, 'if-modified-since': lastModified });
      expect(revised.status).toBe(200);
      expect(revised.headers.get('etag')).not.toBe(etag);
      expect(revised.headers.get('last-modified')).toBe('Tue, 11 Apr 2023 16:30:00 GMT');
      expect(parseFeed(await revised.text()).entries).toHaveLength(1);
    },
  );

  it.each(FEEDS)(
    '%s: a signed-in feed has its own ETag, so a cached public copy never answers for it',
    async (path) => {
      published = [THREE_CX_ADVISORY, AMBER_ADVISORY];
      const anonymous = (await get(path)).headers.get('etag') ?? '';
      const signedIn = await get(path, {
        authorization: `Bearer ${org.apiTokens['org-member']}`,
        'if-none-match': anonymous,
      });
      expect(signedIn.status).toBe(200);
    },
  );

  it('holds the most recently revised advisories up to the limit, newest first', async () => {
    published = Array.from({ length: FEED_ENTRY_LIMIT + 20 }, (_, i) => ({
      ...THREE_CX_ADVISORY,
      trackingId: `CSW-2023-${1000 + i}`,
      slug: `csw-2023-${1000 + i}`,
      currentReleaseDate: new Date(
        Date.parse(THREE_CX_ADVISORY.currentReleaseDate) + i * 60_000,
      ).toISOString(),
    }));
    for (const [path] of FEEDS) {
      const ids = parseFeed(await (await get(path)).text()).entries.map((e) =>
        e.id?.replace(/^.*advisory\//, ''),
      );
      expect(ids).toHaveLength(FEED_ENTRY_LIMIT);
      expect(ids[0]).toBe(`CSW-2023-${1000 + FEED_ENTRY_LIMIT + 19}`);
      expect(ids.at(-1)).toBe('CSW-2023-1020');
    }
  });

  it('serves an empty feed with fixed validators when nothing is published', async () => {
    published = [];
    const a = await get('/advisories/feed.atom');
    const b = await get('/advisories/feed.atom');
    expect(a.status).toBe(200);
    expect(a.headers.get('etag')).toBe(b.headers.get('etag'));
    expect(a.headers.get('last-modified')).toBe('Sat, 01 Jan 2000 00:00:00 GMT');
  });

  it('lists both feeds in the OpenAPI document for every caller', async () => {
    const doc = (await (await get('/api/v1/openapi.json')).json()) as {
      paths: Record<string, { get?: { 'x-roles': string[] } }>;
    };
    for (const [path] of FEEDS)
      expect(doc.paths[path]?.get?.['x-roles']).toEqual([
        'anonymous',
        'vendor-staff',
        'org-admin',
        'org-member',
        'agent',
      ]);
  });
});
