import { Hono } from 'hono';
import { ANY_ROLE, requireRole } from '../../http/access.js';
import {
  choiceField,
  lineField,
  markdownField,
  optionalIntField,
  optionalLineField,
} from '../../http/fields.js';
import { HttpError } from '../../http/http-error.js';
import type { HubDeps, HubEnv, RouteModule } from '../../http/hub-env.js';
import { onlyFields, readJsonObject } from '../../http/json-body.js';
import { access, ERROR_RESPONSE, jsonBody, jsonResponse } from '../../http/openapi.js';
import {
  actorOf,
  createCategory,
  createThread,
  editPost,
  getPost,
  getThread,
  listCategories,
  listPosts,
  listThreads,
  MAX_SEARCH_LIMIT,
  pinnedThread,
  postHistory,
  replyTo,
  searchForum,
  setAnswer,
  setPinned,
  setPostHidden,
  setThreadLocked,
} from './forum-store.js';

const STAFF = ['vendor-staff'] as const;
const SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;
/** The longest post body (characters of Markdown). */
const MAX_BODY = 20_000;
const bodyField = (value: unknown) => markdownField(value, 'body', MAX_BODY);

function booleanField(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean')
    throw new HttpError(400, 'INVALID', `${field} must be true or false`, { field });
  return value;
}

function pageOf(query: (name: string) => string | undefined, maxLimit: number) {
  const number = (name: string, min: number, max: number, fallback: number) => {
    const text = query(name);
    if (text === undefined) return fallback;
    const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
    const checked = optionalIntField(Number.isNaN(value) ? text : value, name, min, max);
    return checked ?? fallback;
  };
  return { limit: number('limit', 1, maxLimit, 20), offset: number('offset', 0, 100_000, 0) };
}

/**
 * The support forum: categories (staff create them), threads and replies in Markdown (rendered inert), public or
 * for one organisation, an official pinned thread per incident, answers, moderation and full-text search. Every
 * route needs a signed-in user or API token; reads and writes are scoped in the store.
 */
export function forumRoutes(deps: HubDeps): RouteModule {
  const routes = new Hono<HubEnv>()
    .get('/api/v1/forum/categories', async (c) => {
      requireRole(c, ANY_ROLE);
      return c.json({ categories: await listCategories(deps.db) });
    })
    .post('/api/v1/forum/categories', async (c) => {
      const principal = requireRole(c, STAFF);
      const body = onlyFields(await readJsonObject(c), ['slug', 'title', 'description', 'incident']);
      if (typeof body.slug !== 'string' || !SLUG.test(body.slug))
        throw new HttpError(400, 'INVALID', 'slug must be 2 to 63 lower-case letters, digits or dashes', {
          field: 'slug',
        });
      const input = {
        slug: body.slug,
        title: lineField(body.title, 'title', 200),
        description: optionalLineField(body.description, 'description', 1000) ?? '',
        incident: optionalLineField(body.incident, 'incident', 64),
      };
      return c.json({ category: await createCategory(deps.db, input, actorOf(principal), deps.now()) }, 201);
    })
    .get('/api/v1/forum/categories/:slug/threads', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const threads = await listThreads(
        deps.db,
        principal,
        c.req.param('slug'),
        pageOf((n) => c.req.query(n), 50),
      );
      if (!threads) throw new HttpError(404, 'NOT_FOUND', 'no such category');
      return c.json({ threads });
    })
    .post('/api/v1/forum/threads', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const body = onlyFields(await readJsonObject(c), ['category', 'title', 'body', 'visibility', 'orgId']);
      const created = await createThread(
        deps.db,
        principal,
        {
          category: lineField(body.category, 'category', 64),
          title: lineField(body.title, 'title', 200),
          body: bodyField(body.body),
          visibility: choiceField(body.visibility ?? 'public', 'visibility', [
            'public',
            'organisation',
          ] as const),
          orgId: optionalLineField(body.orgId, 'orgId', 64),
        },
        deps.now(),
      );
      return c.json(created, 201);
    })
    .get('/api/v1/forum/search', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const page = pageOf((n) => c.req.query(n), MAX_SEARCH_LIMIT);
      return c.json({ results: await searchForum(deps.db, principal, c.req.query('q'), page) });
    })
    .get('/api/v1/forum/incidents/:slug', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const thread = await pinnedThread(deps.db, principal, c.req.param('slug'));
      if (!thread) throw new HttpError(404, 'NOT_FOUND', 'no pinned thread for this incident');
      return c.json({ thread, posts: await listPosts(deps.db, principal, thread) });
    })
    .get('/api/v1/forum/threads/:id', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const thread = await getThread(deps.db, principal, c.req.param('id'));
      if (!thread) throw new HttpError(404, 'NOT_FOUND', 'no such thread');
      return c.json({ thread, posts: await listPosts(deps.db, principal, thread) });
    })
    .post('/api/v1/forum/threads/:id/replies', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const body = onlyFields(await readJsonObject(c), ['body']);
      const post = await replyTo(deps.db, principal, c.req.param('id'), bodyField(body.body), deps.now());
      return c.json({ post }, 201);
    })
    .post('/api/v1/forum/threads/:id/lock', async (c) => {
      const principal = requireRole(c, STAFF);
      const locked = booleanField(onlyFields(await readJsonObject(c), ['locked']).locked ?? true, 'locked');
      return c.json({ thread: await setThreadLocked(deps.db, principal, c.req.param('id'), locked) });
    })
    .post('/api/v1/forum/threads/:id/pin', async (c) => {
      const principal = requireRole(c, STAFF);
      const body = onlyFields(await readJsonObject(c), ['pinned', 'incident']);
      const pinned = booleanField(body.pinned ?? true, 'pinned');
      const incident = optionalLineField(body.incident, 'incident', 64);
      return c.json({
        thread: await setPinned(deps.db, principal, c.req.param('id'), {
          pinned,
          ...(incident ? { incident } : {}),
        }),
      });
    })
    .post('/api/v1/forum/threads/:id/answer', async (c) => {
      const principal = requireRole(c, STAFF);
      const body = onlyFields(await readJsonObject(c), ['postId']);
      const postId = body.postId === null ? null : lineField(body.postId ?? '', 'postId', 64);
      return c.json({ thread: await setAnswer(deps.db, principal, c.req.param('id'), postId) });
    })
    .patch('/api/v1/forum/posts/:id', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const body = onlyFields(await readJsonObject(c), ['body', 'title']);
      if (body.body === undefined && body.title === undefined)
        throw new HttpError(400, 'INVALID', 'send body or title', { field: 'body' });
      const input = {
        ...(body.body === undefined ? {} : { body: bodyField(body.body) }),
        ...(body.title === undefined ? {} : { title: lineField(body.title, 'title', 200) }),
      };
      return c.json({ post: await editPost(deps.db, principal, c.req.param('id'), input, deps.now()) });
    })
    .get('/api/v1/forum/posts/:id', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const found = await getPost(deps.db, principal, c.req.param('id'));
      if (!found) throw new HttpError(404, 'NOT_FOUND', 'no such post');
      return c.json({ post: found.post });
    })
    .get('/api/v1/forum/posts/:id/history', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      return c.json({ edits: await postHistory(deps.db, principal, c.req.param('id')) });
    })
    .post('/api/v1/forum/posts/:id/hide', async (c) => {
      const principal = requireRole(c, STAFF);
      const hidden = booleanField(onlyFields(await readJsonObject(c), ['hidden']).hidden ?? true, 'hidden');
      return c.json({ post: await setPostHidden(deps.db, principal, c.req.param('id'), hidden) });
    });

  const param = (name: string, description: string) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
    description,
  });
  const query = (name: string, schema: Record<string, unknown>, description: string, required = false) => ({
    name,
    in: 'query',
    required,
    schema,
    description,
  });
  const paging = (max: number) => [
    query('limit', { type: 'integer', minimum: 1, maximum: max }, `at most ${max}, default 20`),
    query('offset', { type: 'integer', minimum: 0 }, 'results to skip'),
  ];
  const threadId = param('id', 'thread id');
  const postId = param('id', 'post id');
  const op = (
    summary: string,
    callers: readonly ('vendor-staff' | 'org-admin' | 'org-member')[],
    rest = {},
  ) => ({
    summary,
    ...access(callers),
    ...rest,
    responses: { '200': jsonResponse('The result'), default: ERROR_RESPONSE },
  });
  return {
    routes,
    openapi: {
      '/api/v1/forum/categories': {
        get: op('Every forum category', ANY_ROLE),
        post: {
          ...op('Create a forum category, optionally of an incident', STAFF, {
            requestBody: jsonBody({
              type: 'object',
              required: ['slug', 'title'],
              properties: {
                slug: { type: 'string' },
                title: { type: 'string' },
                description: { type: 'string' },
                incident: { type: 'string', description: 'incident id or slug' },
              },
            }),
          }),
          responses: { '201': jsonResponse('The category'), default: ERROR_RESPONSE },
        },
      },
      '/api/v1/forum/categories/{slug}/threads': {
        get: op('The threads of a category the caller may read, the pinned one first', ANY_ROLE, {
          parameters: [param('slug', 'category slug'), ...paging(50)],
        }),
      },
      '/api/v1/forum/threads': {
        post: {
          ...op('Open a thread (public, or for one organisation) with its first post in Markdown', ANY_ROLE, {
            requestBody: jsonBody({
              type: 'object',
              required: ['category', 'title', 'body'],
              properties: {
                category: { type: 'string' },
                title: { type: 'string' },
                body: { type: 'string', description: 'Markdown' },
                visibility: { enum: ['public', 'organisation'] },
                orgId: {
                  type: 'string',
                  description: 'staff only: the organisation of an organisation thread',
                },
              },
            }),
          }),
          responses: { '201': jsonResponse('The thread and its first post'), default: ERROR_RESPONSE },
        },
      },
      '/api/v1/forum/search': {
        get: op(
          'Full-text search over the thread titles and posts the caller may read, best first',
          ANY_ROLE,
          {
            parameters: [
              query('q', { type: 'string', maxLength: 500 }, 'words, all required, the last a prefix', true),
              ...paging(MAX_SEARCH_LIMIT),
            ],
          },
        ),
      },
      '/api/v1/forum/incidents/{slug}': {
        get: op("An incident's pinned official thread with its posts", ANY_ROLE, {
          parameters: [param('slug', 'incident slug or id')],
        }),
      },
      '/api/v1/forum/threads/{id}': {
        get: op('A thread with its posts (hidden posts only for staff, flagged)', ANY_ROLE, {
          parameters: [threadId],
        }),
      },
      '/api/v1/forum/threads/{id}/replies': {
        post: {
          ...op('Reply to a thread (409 when it is locked)', ANY_ROLE, {
            parameters: [threadId],
            requestBody: jsonBody({
              type: 'object',
              required: ['body'],
              properties: { body: { type: 'string' } },
            }),
          }),
          responses: { '201': jsonResponse('The reply'), default: ERROR_RESPONSE },
        },
      },
      '/api/v1/forum/threads/{id}/lock': {
        post: op('Lock or unlock a thread', STAFF, {
          parameters: [threadId],
          requestBody: jsonBody({
            type: 'object',
            properties: { locked: { type: 'boolean', default: true } },
          }),
        }),
      },
      '/api/v1/forum/threads/{id}/pin': {
        post: op(
          "Pin a public thread as an incident's official thread (one per incident), or unpin it",
          STAFF,
          {
            parameters: [threadId],
            requestBody: jsonBody({
              type: 'object',
              properties: {
                pinned: { type: 'boolean', default: true },
                incident: { type: 'string', description: "default: the category's incident" },
              },
            }),
          },
        ),
      },
      '/api/v1/forum/threads/{id}/answer': {
        post: op('Mark a reply as the answer of its thread, or none (postId null)', STAFF, {
          parameters: [threadId],
          requestBody: jsonBody({
            type: 'object',
            required: ['postId'],
            properties: { postId: { type: ['string', 'null'] } },
          }),
        }),
      },
      '/api/v1/forum/posts/{id}': {
        get: op('One post', ANY_ROLE, { parameters: [postId] }),
        patch: op(
          'Edit a post (staff any; its author within 24 hours while not locked), keeping history',
          ANY_ROLE,
          {
            parameters: [postId],
            requestBody: jsonBody({
              type: 'object',
              properties: {
                body: { type: 'string' },
                title: { type: 'string', description: 'opening post only' },
              },
            }),
          },
        ),
      },
      '/api/v1/forum/posts/{id}/history': {
        get: op(
          "A post's edits, each with who, when and the previous text (staff and its author)",
          ANY_ROLE,
          {
            parameters: [postId],
          },
        ),
      },
      '/api/v1/forum/posts/{id}/hide': {
        post: op('Hide or show a post (hiding the opening post hides the thread from customers)', STAFF, {
          parameters: [postId],
          requestBody: jsonBody({
            type: 'object',
            properties: { hidden: { type: 'boolean', default: true } },
          }),
        }),
      },
    },
  };
}
