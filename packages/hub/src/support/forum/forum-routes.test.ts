import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activeMarkupIn, XSS_PAYLOADS } from '../../advisories/xss-corpus.js';
import { DIALECTS, openTestStore, type TestStore } from '../../testing/test-db.js';
import { type SeededOrg, seedOrg, type TestApp, testApp } from '../../testing/test-hub.js';
import { forumRoutes } from './forum-routes.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests read response JSON by path
type Json = Record<string, any>;

describe.each(DIALECTS)('forum on %s', (dialect) => {
  let store: TestStore;
  let hub: TestApp;
  let vendor: SeededOrg;
  let acme: SeededOrg;
  let other: SeededOrg;
  let staff: string;
  let acmeMember: string;
  let otherMember: string;
  const call = async (method: string, path: string, token: string | undefined, body?: unknown) => {
    const res = await hub.app.request(path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        'content-type': 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as Json };
  };
  const thread = async (token: string, title: string, body: string, visibility = 'public') => {
    const res = await call('POST', '/api/v1/forum/threads', token, {
      category: 'help',
      title,
      body,
      visibility,
    });
    expect(res.status).toBe(201);
    return res.json as { thread: Json; post: Json };
  };
  const search = async (token: string, q: string) =>
    call('GET', `/api/v1/forum/search?q=${encodeURIComponent(q)}`, token);

  beforeEach(async () => {
    store = await openTestStore(dialect);
    hub = testApp(store.db);
    hub = testApp(store.db, { extra: [forumRoutes(hub.deps)] });
    vendor = await seedOrg(store.db, 'Vendor');
    acme = await seedOrg(store.db, 'Acme');
    other = await seedOrg(store.db, 'Other');
    staff = vendor.apiTokens['vendor-staff'];
    acmeMember = acme.apiTokens['org-member'];
    otherMember = other.apiTokens['org-member'];
    expect((await call('POST', '/api/v1/incidents', staff, { slug: '3cx-2023', title: '3CX' })).status).toBe(
      201,
    );
    const created = await call('POST', '/api/v1/forum/categories', staff, {
      slug: 'help',
      title: 'Help',
      description: 'Questions about the 3CX incident',
      incident: '3cx-2023',
    });
    expect(created.json.category).toMatchObject({ slug: 'help', incident: '3cx-2023' });
  });
  afterEach(() => store.cleanup());

  it('answers anonymous callers 401 and lets only staff create categories', async () => {
    expect((await call('GET', '/api/v1/forum/categories', undefined)).status).toBe(401);
    expect((await search('', 'x')).status).toBe(401);
    expect(
      (
        await call('POST', '/api/v1/forum/categories', acme.apiTokens['org-admin'], {
          slug: 'zz',
          title: 'z',
        })
      ).status,
    ).toBe(403);
    expect(
      (await call('POST', '/api/v1/forum/categories', staff, { slug: 'help', title: 'again' })).status,
    ).toBe(409);
  });

  it("never shows organisation A's member organisation B's thread by id, listing, search, reply or edit", async () => {
    const secret = await thread(
      otherMember,
      'Other private zebraword',
      'our zebraword host list',
      'organisation',
    );
    const open = await thread(otherMember, 'Public zebraword', 'shared zebraword question');
    const id = secret.thread.id;
    expect((await call('GET', `/api/v1/forum/threads/${id}`, acmeMember)).status).toBe(404);
    expect(
      (await call('POST', `/api/v1/forum/threads/${id}/replies`, acmeMember, { body: 'hi' })).status,
    ).toBe(404);
    expect(
      (await call('PATCH', `/api/v1/forum/posts/${secret.post.id}`, acmeMember, { body: 'x' })).status,
    ).toBe(404);
    expect((await call('GET', `/api/v1/forum/posts/${secret.post.id}/history`, acmeMember)).status).toBe(404);
    const listed = await call('GET', '/api/v1/forum/categories/help/threads', acmeMember);
    expect(listed.json.threads.map((t: Json) => t.id)).toEqual([open.thread.id]);
    const found = await search(acmeMember, 'zebraword');
    expect(found.json.results.map((r: Json) => r.threadId)).toEqual([open.thread.id]);
    expect(JSON.stringify(found.json)).not.toContain('private');
    expect(JSON.stringify(listed.json)).not.toContain(other.orgId);
    // Its own members and staff do see it; staff see who wrote it.
    expect((await call('GET', `/api/v1/forum/threads/${id}`, otherMember)).status).toBe(200);
    const asStaff = await call('GET', `/api/v1/forum/threads/${id}`, staff);
    expect(asStaff.json.posts[0]).toMatchObject({ authorOrgId: other.orgId, authorRole: 'customer' });
    expect((await search(staff, 'zebraword')).json.results).toHaveLength(2);
  });

  it('hides posts from customers and flags them for staff; hiding the opening post hides the thread', async () => {
    const t = await thread(acmeMember, 'Printer question', 'is the printer affected');
    const reply = await call('POST', `/api/v1/forum/threads/${t.thread.id}/replies`, otherMember, {
      body: 'spam spamword',
    });
    expect(
      (await call('POST', `/api/v1/forum/posts/${reply.json.post.id}/hide`, acmeMember, {})).status,
    ).toBe(403);
    expect(
      (await call('POST', `/api/v1/forum/posts/${reply.json.post.id}/hide`, staff, {})).json.post.hidden,
    ).toBe(true);
    const seen = await call('GET', `/api/v1/forum/threads/${t.thread.id}`, acmeMember);
    expect(seen.json.posts.map((p: Json) => p.id)).toEqual([t.post.id]);
    expect((await call('GET', `/api/v1/forum/posts/${reply.json.post.id}`, otherMember)).status).toBe(404);
    expect((await search(otherMember, 'spamword')).json.results).toEqual([]);
    const staffView = await call('GET', `/api/v1/forum/threads/${t.thread.id}`, staff);
    expect(staffView.json.posts.map((p: Json) => p.hidden)).toEqual([false, true]);
    await call('POST', `/api/v1/forum/posts/${t.post.id}/hide`, staff, { hidden: true });
    expect((await call('GET', `/api/v1/forum/threads/${t.thread.id}`, acmeMember)).status).toBe(404);
    expect((await search(acmeMember, 'printer')).json.results).toEqual([]);
    await call('POST', `/api/v1/forum/posts/${t.post.id}/hide`, staff, { hidden: false });
    expect((await call('GET', `/api/v1/forum/threads/${t.thread.id}`, acmeMember)).status).toBe(200);
  });

  it('refuses replies to a locked thread with 409 naming it, until unlocked', async () => {
    const t = await thread(acmeMember, 'Lockme', 'body');
    expect((await call('POST', `/api/v1/forum/threads/${t.thread.id}/lock`, acmeMember, {})).status).toBe(
      403,
    );
    expect(
      (await call('POST', `/api/v1/forum/threads/${t.thread.id}/lock`, staff, {})).json.thread.locked,
    ).toBe(true);
    const refused = await call('POST', `/api/v1/forum/threads/${t.thread.id}/replies`, acmeMember, {
      body: 'hi',
    });
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toContain(t.thread.id);
    expect((await call('PATCH', `/api/v1/forum/posts/${t.post.id}`, acmeMember, { body: 'x' })).status).toBe(
      409,
    );
    await call('POST', `/api/v1/forum/threads/${t.thread.id}/lock`, staff, { locked: false });
    expect(
      (await call('POST', `/api/v1/forum/threads/${t.thread.id}/replies`, acmeMember, { body: 'hi' })).status,
    ).toBe(201);
  });

  it('keeps every edit with who, when and the previous text; authors edit their own, staff any', async () => {
    const t = await thread(acmeMember, 'Old title', 'first oldword body');
    const path = `/api/v1/forum/posts/${t.post.id}`;
    expect((await call('PATCH', path, acme.apiTokens['org-admin'], { body: 'not mine' })).status).toBe(403);
    expect(
      (await call('PATCH', path, acmeMember, { body: 'second newword body', title: 'New title' })).status,
    ).toBe(200);
    expect((await call('PATCH', path, staff, { body: 'third by staff' })).status).toBe(200);
    const history = await call('GET', `${path}/history`, acmeMember);
    expect(history.json.edits.map((e: Json) => [e.previousTitle, e.previousBody])).toEqual([
      ['Old title', 'first oldword body'],
      ['New title', 'second newword body'],
    ]);
    expect(history.json.edits[0].editedBy).toMatch(/^token:/);
    expect((await call('GET', `${path}/history`, acme.apiTokens['org-admin'])).status).toBe(403);
    expect((await search(acmeMember, 'oldword')).json.results).toEqual([]);
    expect((await search(acmeMember, 'new title')).json.results).toHaveLength(1);
    const reply = await call('POST', `/api/v1/forum/threads/${t.thread.id}/replies`, acmeMember, {
      body: 'r',
    });
    const titled = await call('PATCH', `/api/v1/forum/posts/${reply.json.post.id}`, acmeMember, {
      title: 'x',
    });
    expect(titled.json.error.field).toBe('title');
  });

  it('pins one official public thread per incident, served at forum/incidents/{slug}', async () => {
    const first = await thread(staff, 'Official 3CX thread', 'updates here');
    const second = await thread(staff, 'Another', 'b');
    const scoped = await thread(acmeMember, 'Scoped', 'c', 'organisation');
    expect((await call('POST', `/api/v1/forum/threads/${first.thread.id}/pin`, acmeMember, {})).status).toBe(
      403,
    );
    const pinned = await call('POST', `/api/v1/forum/threads/${first.thread.id}/pin`, staff, {});
    expect(pinned.json.thread.pinnedIncident).toBe('3cx-2023');
    const again = await call('POST', `/api/v1/forum/threads/${second.thread.id}/pin`, staff, {
      incident: '3cx-2023',
    });
    expect(again.status).toBe(409);
    expect((await call('POST', `/api/v1/forum/threads/${scoped.thread.id}/pin`, staff, {})).status).toBe(400);
    const official = await call('GET', '/api/v1/forum/incidents/3cx-2023', otherMember);
    expect(official.json.thread.id).toBe(first.thread.id);
    const listed = await call('GET', '/api/v1/forum/categories/help/threads', otherMember);
    expect(listed.json.threads[0].id).toBe(first.thread.id);
    await call('POST', `/api/v1/forum/threads/${first.thread.id}/pin`, staff, { pinned: false });
    expect((await call('GET', '/api/v1/forum/incidents/3cx-2023', otherMember)).status).toBe(404);
    expect((await call('POST', `/api/v1/forum/threads/${second.thread.id}/pin`, staff, {})).status).toBe(200);
  });

  it('lets only staff mark (and unmark) one reply as the answer', async () => {
    const t = await thread(acmeMember, 'Q', 'question');
    const r1 = (await call('POST', `/api/v1/forum/threads/${t.thread.id}/replies`, staff, { body: 'a1' }))
      .json.post;
    const r2 = (
      await call('POST', `/api/v1/forum/threads/${t.thread.id}/replies`, acmeMember, { body: 'a2' })
    ).json.post;
    const path = `/api/v1/forum/threads/${t.thread.id}/answer`;
    expect((await call('POST', path, acmeMember, { postId: r1.id })).status).toBe(403);
    expect((await call('POST', path, staff, { postId: t.post.id })).json.error.field).toBe('postId');
    expect((await call('POST', path, staff, { postId: r1.id })).json.thread.answerPostId).toBe(r1.id);
    expect((await call('POST', path, staff, { postId: r2.id })).json.thread.answerPostId).toBe(r2.id);
    const seen = await call('GET', `/api/v1/forum/threads/${t.thread.id}`, acmeMember);
    expect(seen.json.posts.map((p: Json) => p.answer)).toEqual([false, false, true]);
    expect((await call('POST', path, staff, { postId: null })).json.thread.answerPostId).toBeNull();
  });

  it('renders every XSS payload inert in titles and bodies (or refuses control characters)', async () => {
    for (const payload of XSS_PAYLOADS) {
      const res = await call('POST', '/api/v1/forum/threads', acmeMember, {
        category: 'help',
        // biome-ignore lint/suspicious/noControlCharactersInRegex: titles are one line; the body keeps the tab
        title: payload.replace(/[\u0001-\u001f]/g, ' '),
        body: `${payload}\n\n**${payload}**`,
      });
      if (payload.includes('\u0000')) {
        expect(res.status).toBe(400);
        continue;
      }
      expect(res.status).toBe(201);
      expect(activeMarkupIn(res.json.post.html)).toBeUndefined();
      const reply = await call('POST', `/api/v1/forum/threads/${res.json.thread.id}/replies`, acmeMember, {
        body: payload,
      });
      expect(activeMarkupIn(reply.json.post.html)).toBeUndefined();
      expect(res.json.thread.title).toBe(payload.replace(/\t/g, ' '));
    }
  });

  it('searches words AND-ed, the last a prefix, ignoring case and punctuation, ranked and paged', async () => {
    const a = await thread(acmeMember, 'DLL sideloading in 3CXDesktopApp', 'ffmpeg.dll was replaced');
    const b = await thread(acmeMember, 'Uninstall steps', 'remove the 3CXDesktopApp then reinstall');
    await thread(acmeMember, 'Unrelated', 'printer drivers');
    const ids = async (q: string) =>
      ((await search(acmeMember, q)).json.results as Json[]).map((r) => r.threadId).sort();
    expect(await ids('3cxdesktopapp')).toEqual([a.thread.id, b.thread.id].sort());
    expect(await ids('3CXDESKTOPAPP, ffmpeg!')).toEqual([a.thread.id]);
    expect(await ids('reinst')).toEqual([b.thread.id]);
    expect(await ids('rein remove')).toEqual([]);
    expect(await ids('FFMPEG.DLL')).toEqual([a.thread.id]);
    const paged = await call('GET', '/api/v1/forum/search?q=3cxdesktopapp&limit=1', acmeMember);
    expect(paged.json.results).toHaveLength(1);
    expect((await call('GET', '/api/v1/forum/search?q=x&limit=51', acmeMember)).json.error.field).toBe(
      'limit',
    );
  });

  it('never errors on hostile queries: 400 naming q for empty or too long, otherwise plain terms', async () => {
    await thread(acmeMember, 'near or not', 'quote "me" maybe');
    for (const q of ['', '   ', 'a'.repeat(10_000)]) {
      const res = await search(acmeMember, q);
      expect([res.status, res.json.error?.field]).toEqual([400, 'q']);
    }
    expect((await call('GET', '/api/v1/forum/search', acmeMember)).json.error.field).toBe('q');
    for (const q of HOSTILE_QUERIES) {
      const res = await search(acmeMember, q);
      expect({ q, status: res.status }).toEqual({ q, status: 200 });
    }
    expect((await search(acmeMember, 'NEAR(near or)')).json.results).toHaveLength(1);
    expect((await search(acmeMember, '"me')).json.results).toHaveLength(1);
    expect((await search(acmeMember, 'search_text:me')).json.results).toHaveLength(0);
  });
});

/** Queries FTS5 or to_tsquery would choke on if passed through. */
export const HOSTILE_QUERIES = [
  '"',
  '""',
  '"unbalanced',
  '*',
  'me*',
  '*me',
  'NEAR(a b)',
  'a OR b',
  'a AND NOT b',
  '-me',
  'me -not',
  'search_text:me',
  '{search_text}: me',
  '^me',
  'a & b | !c',
  "me:* & 'x'",
  '(((',
  ')',
  '\u0000\u0001\u001f me \u007f',
  '\u202e\ufeff me',
  'é ü ß İ',
  '🙂 me',
  'x'.repeat(499),
  'w '.repeat(250),
  '%00 %27',
  "'; DROP TABLE forum_posts; --",
];
