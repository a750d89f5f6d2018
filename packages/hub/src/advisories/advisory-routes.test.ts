import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PACK_SETTINGS } from '../packs/pack-settings.js';
import { affectedApp, packArchiveBytes, type TestKey, testKey } from '../packs/test-packs.js';
import { DIALECTS, openTestStore, type TestStore } from '../testing/test-db.js';
import { type SeededOrg, seedOrg, type TestApp, testApp } from '../testing/test-hub.js';
import { publishedAdvisories } from './advisory-store.js';
import { activeMarkupIn } from './xss-corpus.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers read by field
type Json = Record<string, any>;

const CONTENT = {
  title: '3CX Desktop App: trojanized builds',
  severity: 'critical',
  summary: 'Signed builds load a malicious library.',
  body: '## What happened\n\nThe build pipeline was compromised.',
  products: [{ packId: 'acme-2026', appId: 'acme-win' }],
  remediation: ['Uninstall the desktop app.'],
  packs: [{ packId: 'acme-2026', sequence: 1 }],
  references: [{ url: 'https://vendor.example/blog', summary: 'Vendor blog' }],
};

describe.each(DIALECTS)('advisories API on %s', (dialect) => {
  let store: TestStore;
  let hub: TestApp;
  let vendor: SeededOrg;
  let acme: SeededOrg;
  let packKey: TestKey;
  let clock: number;
  const call = (method: string, path: string, token: string | undefined, body?: unknown) =>
    hub.app.request(path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const staff = () => vendor.apiTokens['vendor-staff'];
  const create = async (content: Json = CONTENT, extra: Json = {}) => {
    const res = await call('POST', '/api/v1/advisories', staff(), { content, ...extra });
    expect(res.status, await res.clone().text()).toBe(201);
    return ((await res.json()) as Json).advisory as Json;
  };

  beforeEach(async () => {
    store = await openTestStore(dialect);
    vendor = await seedOrg(store.db, 'Vendor');
    acme = await seedOrg(store.db, 'Acme');
    packKey = testKey();
    clock = Date.parse('2023-03-30T09:00:00.000Z');
    hub = testApp(store.db, {
      config: { packs: { ...DEFAULT_PACK_SETTINGS, keyring: [packKey.key] } },
      now: () => new Date(clock),
    });
    const archive = await packArchiveBytes(
      'acme-2026',
      { apps: [affectedApp('acme-win', 'Acme Phone', ['1.0', '1.1'], ['1.2'])] },
      { key: packKey, now: new Date(clock - 1000) },
    );
    const res = await hub.app.request('/api/v1/packs', {
      method: 'POST',
      headers: { authorization: `Bearer ${staff()}`, 'content-type': 'application/gzip' },
      body: new Uint8Array(archive),
    });
    expect(res.status, await res.clone().text()).toBe(201);
  });
  afterEach(async () => {
    await new Promise((r) => setTimeout(r, 50));
    await store.cleanup();
  });

  it('previews Markdown for staff as the page renders it, inert', async () => {
    const res = await call('POST', '/api/v1/advisories/preview', staff(), {
      markdown: '## Steps\n\n<script>alert(1)</script> [x](javascript:alert(1)) **now**',
    });
    expect(res.status).toBe(200);
    const { html } = (await res.json()) as { html: string };
    expect(html).toContain('<h2>Steps</h2>');
    expect(html).toContain('<strong>now</strong>');
    expect(activeMarkupIn(html)).toBeUndefined();
    expect(
      (await call('POST', '/api/v1/advisories/preview', acme.apiTokens['org-admin'], { markdown: 'x' }))
        .status,
    ).toBe(403);
    expect(
      (await call('POST', '/api/v1/advisories/preview', staff(), { markdown: 'bell \u0007' })).status,
    ).toBe(400);
  });

  it('creates a draft with products copied from the pack, visible to staff only', async () => {
    const draft = await create();
    expect(draft.state).toBe('draft');
    expect(draft.trackingId).toMatch(/^DRAFT-[0-9a-f]{12}$/);
    expect(draft.revisions[0].content.products[0]).toMatchObject({
      vendor: '',
      product: 'Acme Phone',
      affected: ['1.0', '1.1'],
      fixed: ['1.2'],
      platforms: ['windows'],
    });
    expect(draft.revisions[0].author.name).toMatch(/^API token \S/);
    for (const token of [acme.apiTokens['org-admin'], acme.apiTokens['org-member']]) {
      expect((await call('GET', `/api/v1/advisories/${draft.id}`, token)).status).toBe(404);
      expect(((await (await call('GET', '/api/v1/advisories', token)).json()) as Json).advisories).toEqual(
        [],
      );
      expect((await call('POST', '/api/v1/advisories', token, { content: CONTENT })).status).toBe(403);
    }
    expect(await publishedAdvisories(store.db, () => 'Vendor PSIRT').list('signed-in')).toEqual([]);
  });

  it('publishes, revises twice, keeps the tracking id and initial release date, numbers revisions 1-3', async () => {
    const draft = await create();
    clock += 60_000;
    const edited = await call('PUT', `/api/v1/advisories/${draft.id}`, staff(), {
      baseSeq: 1,
      summary: 'Wording.',
      content: { ...CONTENT, title: 'Draft two' },
    });
    expect(edited.status).toBe(200);
    clock += 60_000;
    const pub = await call('POST', `/api/v1/advisories/${draft.id}/publish`, staff(), { baseSeq: 2 });
    expect(pub.status, await pub.clone().text()).toBe(200);
    const initial = new Date(clock).toISOString();
    for (const [n, title] of [
      [2, 'Revision two'],
      [3, 'Revision three'],
    ] as const) {
      clock += 3_600_000;
      const seq = n + 2;
      const res = await call('PUT', `/api/v1/advisories/${draft.id}`, staff(), {
        baseSeq: seq - 1,
        summary: `Update ${n}.`,
        content: { ...CONTENT, title, status: n === 3 ? 'final' : 'interim' },
      });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(((await res.json()) as Json).revision.number).toBe(n);
    }
    const [advisory] = await publishedAdvisories(store.db, () => 'Vendor PSIRT').list('public');
    expect(advisory?.trackingId).toBe('CSW-2023-0001');
    // The API takes the tracking id wherever it takes the id.
    const byTrackingId = await call('GET', '/api/v1/advisories/CSW-2023-0001', staff());
    expect(((await byTrackingId.json()) as Json).advisory.id).toBe(draft.id);
    expect(advisory?.initialReleaseDate).toBe(initial);
    expect(advisory?.currentReleaseDate).toBe(new Date(clock).toISOString());
    expect(advisory?.revisions.map((r) => [r.number, r.summary, r.content.title])).toEqual([
      [1, 'Initial release.', 'Draft two'],
      [2, 'Update 2.', 'Revision two'],
      [3, 'Update 3.', 'Revision three'],
    ]);
    expect(advisory?.revisions.map((r) => r.author)).toEqual(Array(3).fill({ id: '', name: 'Vendor PSIRT' }));
    expect(advisory?.packs).toEqual([
      expect.objectContaining({ packId: 'acme-2026', sequence: 1, mediaType: 'application/gzip' }),
    ]);
    // Customers read the published revisions only; staff see the drafts too.
    const theirs = (await (
      await call('GET', `/api/v1/advisories/${draft.id}`, acme.apiTokens['org-member'])
    ).json()) as Json;
    expect(theirs.advisory.revisions).toHaveLength(3);
    const ours = (await (await call('GET', `/api/v1/advisories/${draft.id}`, staff())).json()) as Json;
    expect(ours.advisory.revisions).toHaveLength(5);
    expect(
      (await call('POST', `/api/v1/advisories/${draft.id}/publish`, staff(), { baseSeq: 5 })).status,
    ).toBe(409);
  });

  it('refuses an edit from a stale base, and fields that are not content', async () => {
    const draft = await create();
    expect(
      (
        await call('PUT', `/api/v1/advisories/${draft.id}`, staff(), {
          baseSeq: 1,
          summary: 'a',
          content: CONTENT,
        })
      ).status,
    ).toBe(200);
    const stale = await call('PUT', `/api/v1/advisories/${draft.id}`, staff(), {
      baseSeq: 1,
      summary: 'b',
      content: CONTENT,
    });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as Json).error.field).toBe('baseSeq');
    const sneaky = await call('PUT', `/api/v1/advisories/${draft.id}`, staff(), {
      baseSeq: 2,
      summary: 'c',
      content: { ...CONTENT, trackingId: 'OTHER-1', initialReleaseDate: '2020-01-01T00:00:00Z' },
    });
    expect(sneaky.status).toBe(400);
    expect(((await sneaky.json()) as Json).error.field).toBe('content.trackingId');
    // Beside the content too: refused, not ignored.
    const beside = await call('PUT', `/api/v1/advisories/${draft.id}`, staff(), {
      baseSeq: 2,
      summary: 'd',
      content: CONTENT,
      initialReleaseDate: '2020-01-01T00:00:00Z',
    });
    expect(beside.status).toBe(400);
    expect(((await beside.json()) as Json).error.field).toBe('initialReleaseDate');
  });

  it.each([
    [{ ...CONTENT, products: [{ packId: 'nope', appId: 'x' }] }, 'content.products[0].packId'],
    [{ ...CONTENT, products: [{ packId: 'acme-2026', appId: 'x' }] }, 'content.products[0].appId'],
    [{ ...CONTENT, packs: [{ packId: 'acme-2026', sequence: 9 }] }, 'content.packs[0]'],
    [{ ...CONTENT, severity: 'apocalyptic' }, 'content.severity'],
    [{ ...CONTENT, tlp: 'CLEAR' }, 'content.tlp'],
    [{ ...CONTENT, cves: ['CVE-23-1'] }, 'content.cves[0]'],
    [{ ...CONTENT, references: [{ url: 'javascript:alert(1)', summary: 'x' }] }, 'content.references[0].url'],
    [
      { ...CONTENT, references: [{ url: 'https://u:p@x.example/', summary: 'x' }] },
      'content.references[0].url',
    ],
    [{ ...CONTENT, body: 'a\u0000b' }, 'content.body'],
    [{ ...CONTENT, title: 'a\ud800b' }, 'content.title'],
    [{ ...CONTENT, body: 'x'.repeat(200_001) }, 'content.body'],
    [{ ...CONTENT, remediation: ['  '] }, 'content.remediation[0]'],
    [{ ...CONTENT, summary: 'upgrade to 1.2\u202e3.1' }, 'content.summary'],
    [{ ...CONTENT, remediation: ['run \u2066rm -rf /\u2069'] }, 'content.remediation[0]'],
  ])('refuses bad content with the field named (%#)', async (content, field) => {
    const res = await call('POST', '/api/v1/advisories', staff(), { content });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error.field).toBe(field);
  });

  it('takes a chosen tracking id once, and hides TLP:AMBER from the public', async () => {
    const chosen = await create({ ...CONTENT, tlp: 'AMBER' }, { trackingId: 'ACME-2023-7' });
    expect(chosen.slug).toBe('acme-2023-7');
    const again = await call('POST', '/api/v1/advisories', staff(), {
      content: CONTENT,
      trackingId: 'acme-2023-7',
    });
    expect(again.status).toBe(409);
    expect(
      (await call('POST', `/api/v1/advisories/${chosen.id}/publish`, staff(), { baseSeq: 1 })).status,
    ).toBe(200);
    const source = publishedAdvisories(store.db, () => 'Vendor PSIRT');
    expect(await source.list('public')).toEqual([]);
    expect((await source.get('ACME-2023-7', 'signed-in'))?.trackingId).toBe('ACME-2023-7');
    expect(await source.get('acme-2023-7', 'public')).toBeUndefined();
  });

  it('numbers concurrent revisions one after the other: one wins, the others are told to reload', async () => {
    const draft = await create();
    await call('POST', `/api/v1/advisories/${draft.id}/publish`, staff(), { baseSeq: 1 });
    const results = await Promise.all(
      Array.from(
        { length: 8 },
        async (_, i) =>
          (
            await call('PUT', `/api/v1/advisories/${draft.id}`, staff(), {
              baseSeq: 2,
              summary: `racer ${i}`,
              content: CONTENT,
            })
          ).status,
      ),
    );
    expect(results.filter((s) => s === 200)).toHaveLength(1);
    expect(results.filter((s) => s === 409)).toHaveLength(7);
    const [advisory] = await publishedAdvisories(store.db, () => 'Vendor PSIRT').list('public');
    expect(advisory?.revisions.map((r) => r.number)).toEqual([1, 2]);
  });

  it('links a pack uploaded for an advisory with a revision that copies the new versions', async () => {
    const draft = await create();
    await call('POST', `/api/v1/advisories/${draft.id}/publish`, staff(), { baseSeq: 1 });
    const archive = await packArchiveBytes(
      'acme-2026',
      { apps: [affectedApp('acme-win', 'Acme Phone', ['1.0', '1.1', '1.3'], ['1.4'])] },
      { key: packKey, sequence: 2, now: new Date(clock - 1000) },
    );
    const send = (query: string) =>
      hub.app.request(`/api/v1/packs${query}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${staff()}`, 'content-type': 'application/gzip' },
        body: new Uint8Array(archive),
      });
    const unknown = await send('?advisory=NOPE-1');
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as Json).error.field).toBe('advisory');
    expect((await send('?advisory=a&advisory=b')).status).toBe(400);
    clock += 60_000;
    const res = await send('?advisory=CSW-2023-0001');
    expect(res.status, await res.clone().text()).toBe(201);
    expect(((await res.json()) as Json).advisory.revision.number).toBe(2);
    const [advisory] = await publishedAdvisories(store.db, () => 'Vendor PSIRT').list('public');
    const current = advisory?.revisions.at(-1);
    expect(current?.summary).toBe('Pack acme-2026 #2 published.');
    expect(current?.content.packs).toEqual([{ packId: 'acme-2026', sequence: 2 }]);
    expect(current?.content.products[0]).toMatchObject({ affected: ['1.0', '1.1', '1.3'], fixed: ['1.4'] });
    expect(advisory?.revisions[0]?.content.products[0]?.affected).toEqual(['1.0', '1.1']);
    expect(advisory?.packs.map((p) => p.sequence)).toEqual([2]);
  });

  it('numbers published advisories in publication order: a draft abandoned or published later leaves no gap', async () => {
    const first = await create();
    const abandoned = await create();
    const second = await create();
    expect(abandoned.trackingId).toMatch(/^DRAFT-/);
    await call('POST', `/api/v1/advisories/${second.id}/publish`, staff(), { baseSeq: 1 });
    await call('POST', `/api/v1/advisories/${first.id}/publish`, staff(), { baseSeq: 1 });
    const source = publishedAdvisories(store.db, () => 'Vendor PSIRT');
    expect((await source.list('public')).map((a) => [a.id, a.trackingId]).sort()).toEqual(
      [
        [second.id, 'CSW-2023-0001'],
        [first.id, 'CSW-2023-0002'],
      ].sort(),
    );
    expect(
      (await call('POST', '/api/v1/advisories', staff(), { content: CONTENT, trackingId: 'draft-1234' }))
        .status,
    ).toBe(400);
  });
});
