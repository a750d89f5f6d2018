import { randomUUID } from 'node:crypto';
import { renderMarkdown } from '../../advisories/markdown.js';
import { HttpError } from '../../http/http-error.js';
import { isUniqueViolation } from '../../store/constraint.js';
import type { Db, SqlValue } from '../../store/db.js';
import { type Principal, scopeOf } from '../../tenancy.js';
import { getIncident } from '../incidents.js';
import { fts5Query, queryTerms, searchTextOf, tsQuery } from './search-terms.js';

/** A signed-in user or API token (agents never reach the forum). */
export type ForumCaller = Exclude<Principal, { kind: 'agent' }>;
/** How long an author may edit their own post (staff may edit any post at any time). */
export const AUTHOR_EDIT_WINDOW_MS = 24 * 60 * 60 * 1000;
/** The most search results one page holds. */
export const MAX_SEARCH_LIMIT = 50;

/** A forum category: staff create it; it may belong to an incident. */
export interface Category {
  id: string;
  slug: string;
  title: string;
  description: string;
  incident: string | null;
  createdAt: string;
}

/** A thread as its reader may see it. */
export interface Thread {
  id: string;
  category: string;
  title: string;
  visibility: 'public' | 'organisation';
  orgId: string | null;
  pinnedIncident: string | null;
  locked: boolean;
  hidden: boolean;
  answerPostId: string | null;
  createdAt: string;
  lastPostAt: string;
}

/** A post as its reader may see it: the Markdown source and its inert HTML. */
export interface Post {
  id: string;
  threadId: string;
  opening: boolean;
  authorRole: 'staff' | 'customer';
  mine: boolean;
  body: string;
  html: string;
  hidden: boolean;
  answer: boolean;
  createdAt: string;
  editedAt: string | null;
  /** Only for staff: who wrote it. */
  author?: string;
  authorOrgId?: string;
}

type CategoryRow = {
  id: string;
  slug: string;
  title: string;
  description: string;
  incident_slug: string | null;
  created_at: string;
};
type ThreadRow = {
  id: string;
  category_slug: string;
  category_incident_id: string | null;
  org_id: string | null;
  title: string;
  pinned_slug: string | null;
  locked: number;
  hidden: number;
  answer_post_id: string | null;
  created_at: string;
  last_post_at: string;
};
type PostRow = {
  id: string;
  thread_id: string;
  opening: number;
  author: string;
  author_org_id: string;
  author_staff: number;
  body: string;
  hidden: number;
  created_at: string;
  edited_at: string | null;
};

/** `user:<id>` or `token:<id>`: who did something. */
export function actorOf(caller: ForumCaller): string {
  return caller.kind === 'user' ? `user:${caller.userId}` : `token:${caller.tokenId}`;
}

const isStaff = (caller: ForumCaller) => scopeOf(caller).kind === 'all';

/**
 * The condition on a thread row `t` for what `caller` may read: staff everything; customers public threads and
 * their organisation's, never hidden ones. Every thread and post query below goes through it.
 */
function readable(caller: ForumCaller): { sql: string; params: SqlValue[] } {
  const scope = scopeOf(caller);
  return scope.kind === 'all'
    ? { sql: '1 = 1', params: [] }
    : { sql: '(t.org_id IS NULL OR t.org_id = ?) AND t.hidden = 0', params: [scope.orgId] };
}

const CATEGORY_SELECT = `SELECT c.id, c.slug, c.title, c.description, i.slug AS incident_slug, c.created_at
  FROM forum_categories c LEFT JOIN incidents i ON i.id = c.incident_id`;

/** Creates a category (staff); a slug used already is 409, an unknown incident 400. */
export async function createCategory(
  db: Db,
  input: { slug: string; title: string; description: string; incident?: string | undefined },
  by: string,
  now: Date,
): Promise<Category> {
  const incident = input.incident === undefined ? undefined : await getIncident(db, input.incident);
  if (input.incident !== undefined && !incident)
    throw new HttpError(400, 'INVALID', `no incident ${input.incident}`, { field: 'incident' });
  const id = randomUUID();
  try {
    await db.run(
      `INSERT INTO forum_categories (id, slug, title, description, incident_id, created_at, created_by)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [id, input.slug, input.title, input.description, incident?.id ?? null, now.toISOString(), by],
    );
  } catch (error) {
    if (isUniqueViolation(error))
      throw new HttpError(409, 'SLUG_TAKEN', `a category ${input.slug} exists already`, { field: 'slug' });
    throw error;
  }
  return (await getCategory(db, input.slug)) as Category;
}

/** Every category (they are not scoped: their threads are). */
export async function listCategories(db: Db): Promise<Category[]> {
  const rows = await db.all<CategoryRow>(`${CATEGORY_SELECT} ORDER BY c.title, c.id LIMIT 1000`);
  return rows.map(categoryOf);
}

/** One category by slug, or undefined. */
export async function getCategory(db: Db, slug: string): Promise<Category | undefined> {
  const row = await db.get<CategoryRow>(`${CATEGORY_SELECT} WHERE c.slug = ?`, [slug]);
  return row ? categoryOf(row) : undefined;
}

const THREAD_SELECT = `SELECT t.id, c.slug AS category_slug, c.incident_id AS category_incident_id, t.org_id,
  t.title, pi.slug AS pinned_slug, t.locked, t.hidden, t.answer_post_id, t.created_at, t.last_post_at
  FROM forum_threads t JOIN forum_categories c ON c.id = t.category_id
  LEFT JOIN incidents pi ON pi.id = t.pinned_incident_id`;

/** The threads of a category `caller` may read: the pinned one first, then by latest post; undefined if no category. */
export async function listThreads(
  db: Db,
  caller: ForumCaller,
  slug: string,
  page: { limit: number; offset: number },
): Promise<Thread[] | undefined> {
  const category = await getCategory(db, slug);
  if (!category) return undefined;
  const scope = readable(caller);
  const rows = await db.all<ThreadRow>(
    `${THREAD_SELECT} WHERE c.id = ? AND ${scope.sql}
     ORDER BY CASE WHEN t.pinned_incident_id IS NULL THEN 1 ELSE 0 END, t.last_post_at DESC, t.id
     LIMIT ? OFFSET ?`,
    [category.id, ...scope.params, page.limit, page.offset],
  );
  return rows.map(threadOf);
}

/** One thread `caller` may read, or undefined (another organisation's thread is as absent as a missing one). */
export async function getThread(db: Db, caller: ForumCaller, id: string): Promise<Thread | undefined> {
  const scope = readable(caller);
  const row = await db.get<ThreadRow>(`${THREAD_SELECT} WHERE t.id = ? AND ${scope.sql}`, [
    id,
    ...scope.params,
  ]);
  return row ? threadOf(row) : undefined;
}

/** The pinned official thread of an incident (by id or slug) if `caller` may read it. */
export async function pinnedThread(
  db: Db,
  caller: ForumCaller,
  incident: string,
): Promise<Thread | undefined> {
  const scope = readable(caller);
  const row = await db.get<ThreadRow>(`${THREAD_SELECT} WHERE (pi.slug = ? OR pi.id = ?) AND ${scope.sql}`, [
    incident,
    incident,
    ...scope.params,
  ]);
  return row ? threadOf(row) : undefined;
}

/** The posts of a thread `caller` may read, oldest first: hidden ones only for staff (flagged). */
export async function listPosts(db: Db, caller: ForumCaller, thread: Thread): Promise<Post[]> {
  const rows = await db.all<PostRow>(
    `SELECT * FROM forum_posts WHERE thread_id = ? ${isStaff(caller) ? '' : 'AND hidden = 0'} ORDER BY seq LIMIT 1000`,
    [thread.id],
  );
  return rows.map((row) => postOf(row, caller, thread.answerPostId));
}

/**
 * Opens a thread with its first post. Customers post publicly or to their own organisation; staff may name any
 * organisation. 404 for an unknown category.
 */
export async function createThread(
  db: Db,
  caller: ForumCaller,
  input: {
    category: string;
    title: string;
    body: string;
    visibility: 'public' | 'organisation';
    orgId?: string | undefined;
  },
  now: Date,
): Promise<{ thread: Thread; post: Post }> {
  const category = await getCategory(db, input.category);
  if (!category) throw new HttpError(400, 'INVALID', `no category ${input.category}`, { field: 'category' });
  let orgId: string | null = null;
  if (input.visibility === 'organisation') {
    orgId = isStaff(caller) && input.orgId ? input.orgId : caller.orgId;
    if (!(await db.get('SELECT id FROM orgs WHERE id = ?', [orgId])))
      throw new HttpError(400, 'INVALID', `no organisation ${orgId}`, { field: 'orgId' });
  }
  const threadId = randomUUID();
  const postId = randomUUID();
  const at = now.toISOString();
  const staff = isStaff(caller) ? 1 : 0;
  await db.transaction(async (tx) => {
    await tx.run(
      `INSERT INTO forum_threads (id, category_id, org_id, title, author, author_org_id, author_staff, created_at, last_post_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [threadId, category.id, orgId, input.title, actorOf(caller), caller.orgId, staff, at, at],
    );
    await insertPost(
      tx,
      caller,
      { id: postId, threadId, opening: 1, body: input.body, title: input.title },
      at,
    );
  });
  const thread = (await getThread(db, caller, threadId)) as Thread;
  return { thread, post: (await getPost(db, caller, postId))?.post as Post };
}

/** Adds a reply to a thread `caller` may read: 404 otherwise, 409 naming the thread when it is locked. */
export async function replyTo(
  db: Db,
  caller: ForumCaller,
  threadId: string,
  body: string,
  now: Date,
): Promise<Post> {
  const postId = randomUUID();
  const at = now.toISOString();
  await db.transaction(async (tx) => {
    const thread = await getThread(tx, caller, threadId);
    if (!thread) throw new HttpError(404, 'NOT_FOUND', 'no such thread');
    if (thread.locked)
      throw new HttpError(409, 'LOCKED', `thread ${thread.id} ("${thread.title.slice(0, 80)}") is locked`);
    await insertPost(tx, caller, { id: postId, threadId, opening: 0, body }, at);
    await tx.run('UPDATE forum_threads SET last_post_at = ? WHERE id = ?', [at, threadId]);
  });
  return (await getPost(db, caller, postId))?.post as Post;
}

async function insertPost(
  tx: Db,
  caller: ForumCaller,
  post: { id: string; threadId: string; opening: number; body: string; title?: string },
  at: string,
): Promise<void> {
  await tx.run(
    `INSERT INTO forum_posts (id, thread_id, opening, author, author_org_id, author_staff, body, search_text, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      post.id,
      post.threadId,
      post.opening,
      actorOf(caller),
      caller.orgId,
      isStaff(caller) ? 1 : 0,
      post.body,
      searchTextOf(post.title ?? '', post.body),
      at,
    ],
  );
}

/** A post `caller` may read (hidden ones only for staff) with its thread, or undefined. */
export async function getPost(
  db: Db,
  caller: ForumCaller,
  id: string,
): Promise<{ post: Post; thread: Thread; row: PostRow } | undefined> {
  const row = await db.get<PostRow>('SELECT * FROM forum_posts WHERE id = ?', [id]);
  if (!row || (row.hidden && !isStaff(caller))) return undefined;
  const thread = await getThread(db, caller, row.thread_id);
  if (!thread) return undefined;
  return { post: postOf(row, caller, thread.answerPostId), thread, row };
}

/**
 * Edits a post, keeping the previous body (and title, for an opening post) in its history. Staff edit any post;
 * an author edits their own within AUTHOR_EDIT_WINDOW_MS of posting, while it is neither hidden nor locked.
 */
export async function editPost(
  db: Db,
  caller: ForumCaller,
  id: string,
  input: { body?: string; title?: string },
  now: Date,
): Promise<Post> {
  await db.transaction(async (tx) => {
    const found = await getPost(tx, caller, id);
    if (!found) throw new HttpError(404, 'NOT_FOUND', 'no such post');
    const { row, thread } = found;
    if (!isStaff(caller)) {
      if (row.author !== actorOf(caller))
        throw new HttpError(403, 'FORBIDDEN', 'only its author or staff edit a post');
      if (thread.locked) throw new HttpError(409, 'LOCKED', `thread ${thread.id} is locked`);
      if (now.getTime() - Date.parse(row.created_at) > AUTHOR_EDIT_WINDOW_MS)
        throw new HttpError(409, 'EDIT_WINDOW_OVER', 'a post can be edited by its author for 24 hours');
    }
    if (input.title !== undefined && !row.opening)
      throw new HttpError(400, 'INVALID', 'only the opening post carries the thread title', {
        field: 'title',
      });
    const body = input.body ?? row.body;
    const title = row.opening ? (input.title ?? thread.title) : undefined;
    await tx.run(
      'INSERT INTO forum_post_edits (post_id, edited_by, edited_at, previous_title, previous_body) VALUES (?, ?, ?, ?, ?)',
      [id, actorOf(caller), now.toISOString(), row.opening ? thread.title : null, row.body],
    );
    await tx.run('UPDATE forum_posts SET body = ?, search_text = ?, edited_at = ? WHERE id = ?', [
      body,
      searchTextOf(title ?? '', body),
      now.toISOString(),
      id,
    ]);
    if (title !== undefined)
      await tx.run('UPDATE forum_threads SET title = ? WHERE id = ?', [title, thread.id]);
  });
  return (await getPost(db, caller, id))?.post as Post;
}

/** One kept edit of a post. */
export interface PostEdit {
  editedBy: string;
  editedAt: string;
  previousTitle: string | null;
  previousBody: string;
}

/** Every edit of a post, oldest first: for staff and the post's author (403 for other readers, 404 otherwise). */
export async function postHistory(db: Db, caller: ForumCaller, id: string): Promise<PostEdit[]> {
  const found = await getPost(db, caller, id);
  if (!found) throw new HttpError(404, 'NOT_FOUND', 'no such post');
  if (!isStaff(caller) && found.row.author !== actorOf(caller))
    throw new HttpError(403, 'FORBIDDEN', "only staff and the post's author read its history");
  const rows = await db.all<{
    edited_by: string;
    edited_at: string;
    previous_title: string | null;
    previous_body: string;
  }>(
    'SELECT edited_by, edited_at, previous_title, previous_body FROM forum_post_edits WHERE post_id = ? ORDER BY seq',
    [id],
  );
  return rows.map((r) => ({
    editedBy: r.edited_by,
    editedAt: r.edited_at,
    previousTitle: r.previous_title,
    previousBody: r.previous_body,
  }));
}

/** Staff: hides or shows a post; hiding the opening post hides the whole thread from customers. */
export async function setPostHidden(db: Db, caller: ForumCaller, id: string, hidden: boolean): Promise<Post> {
  await db.transaction(async (tx) => {
    const found = await getPost(tx, caller, id);
    if (!found) throw new HttpError(404, 'NOT_FOUND', 'no such post');
    await tx.run('UPDATE forum_posts SET hidden = ? WHERE id = ?', [hidden ? 1 : 0, id]);
    if (found.row.opening)
      await tx.run('UPDATE forum_threads SET hidden = ? WHERE id = ?', [hidden ? 1 : 0, found.thread.id]);
    if (hidden && found.thread.answerPostId === id)
      await tx.run('UPDATE forum_threads SET answer_post_id = NULL WHERE id = ?', [found.thread.id]);
  });
  return (await getPost(db, caller, id))?.post as Post;
}

/** Staff: locks or unlocks a thread. */
export async function setThreadLocked(
  db: Db,
  caller: ForumCaller,
  id: string,
  locked: boolean,
): Promise<Thread> {
  return updateThread(db, caller, id, 'locked = ?', [locked ? 1 : 0]);
}

/** Staff: marks a reply of the thread as its answer (it must be a visible reply of that thread), or none. */
export async function setAnswer(
  db: Db,
  caller: ForumCaller,
  id: string,
  postId: string | null,
): Promise<Thread> {
  if (postId !== null) {
    const post = await db.get<PostRow>('SELECT * FROM forum_posts WHERE id = ? AND thread_id = ?', [
      postId,
      id,
    ]);
    if (!post || post.opening || post.hidden)
      throw new HttpError(400, 'INVALID', `postId ${postId} is not a visible reply of this thread`, {
        field: 'postId',
      });
  }
  return updateThread(db, caller, id, 'answer_post_id = ?', [postId]);
}

/**
 * Staff: pins a public thread as the official thread of an incident (given, or its category's), or unpins it.
 * One thread per incident: 409 when the incident has one already.
 */
export async function setPinned(
  db: Db,
  caller: ForumCaller,
  id: string,
  pin: { pinned: boolean; incident?: string },
): Promise<Thread> {
  const thread = await getThread(db, caller, id);
  if (!thread) throw new HttpError(404, 'NOT_FOUND', 'no such thread');
  if (!pin.pinned) return updateThread(db, caller, id, 'pinned_incident_id = NULL', []);
  if (thread.visibility !== 'public')
    throw new HttpError(400, 'INVALID', 'only a public thread can be an incident thread', {
      field: 'pinned',
    });
  const row = await db.get<{ incident_id: string | null }>(
    'SELECT c.incident_id FROM forum_threads t JOIN forum_categories c ON c.id = t.category_id WHERE t.id = ?',
    [id],
  );
  const incident = await getIncident(db, pin.incident ?? row?.incident_id ?? '');
  if (!incident)
    throw new HttpError(400, 'INVALID', 'name the incident (the category has none)', { field: 'incident' });
  try {
    return await updateThread(db, caller, id, 'pinned_incident_id = ?', [incident.id]);
  } catch (error) {
    if (isUniqueViolation(error))
      throw new HttpError(409, 'PINNED_ALREADY', `incident ${incident.slug} has a pinned thread already`, {
        field: 'incident',
      });
    throw error;
  }
}

async function updateThread(
  db: Db,
  caller: ForumCaller,
  id: string,
  set: string,
  params: SqlValue[],
): Promise<Thread> {
  if (!(await getThread(db, caller, id))) throw new HttpError(404, 'NOT_FOUND', 'no such thread');
  await db.run(`UPDATE forum_threads SET ${set} WHERE id = ?`, [...params, id]);
  return (await getThread(db, caller, id)) as Thread;
}

/** One search hit: a post `caller` may read, its thread, and its rank position. */
export interface SearchHit {
  postId: string;
  threadId: string;
  threadTitle: string;
  opening: boolean;
}

/**
 * How many matching posts a search ranks: the caller's newest readable matches, so a query matching most of the
 * forum costs no more than one matching this many posts.
 */
export const SEARCH_RANK_WINDOW = 5_000;

/**
 * Full-text search over thread titles and post bodies `caller` may read: the query's words AND-ed, the last a
 * prefix, case and punctuation ignored (see `queryTerms`). The newest `rankWindow` readable matches are ranked,
 * best first (FTS5 bm25 on SQLite, ts_rank on PostgreSQL), equally scored posts newest first, so both stores page
 * them alike. Hidden posts and threads, and other organisations' threads, are filtered in the query.
 */
export async function searchForum(
  db: Db,
  caller: ForumCaller,
  q: string | undefined,
  page: { limit: number; offset: number },
  rankWindow = SEARCH_RANK_WINDOW,
): Promise<SearchHit[]> {
  const terms = queryTerms(q);
  if (terms.length === 0) return [];
  const scope = readable(caller);
  const hidden = isStaff(caller) ? '' : 'AND p.hidden = 0';
  // The window is taken in seq order, which FTS5 and a backward scan of the primary key give without sorting; the
  // window's rows carry no tsvector, so PostgreSQL sorts them in memory.
  const rows =
    db.dialect === 'sqlite'
      ? await db.all<{ post_id: string; thread_id: string; title: string; opening: number }>(
          `SELECT w.post_id, w.thread_id, w.title, w.opening FROM (
             SELECT p.id AS post_id, p.thread_id, t.title, p.opening, p.seq, bm25(forum_search) AS score
             FROM forum_search s JOIN forum_posts p ON p.seq = s.rowid JOIN forum_threads t ON t.id = p.thread_id
             WHERE forum_search MATCH ? ${hidden} AND ${scope.sql}
             ORDER BY s.rowid DESC LIMIT ?
           ) w ORDER BY w.score, w.seq DESC LIMIT ? OFFSET ?`,
          [fts5Query(terms), ...scope.params, rankWindow, page.limit, page.offset],
        )
      : await db.all<{ post_id: string; thread_id: string; title: string; opening: number }>(
          `SELECT w.post_id, w.thread_id, w.title, w.opening FROM (
             SELECT p.id AS post_id, p.thread_id, t.title, p.opening, p.seq, ts_rank(p.search, query) AS score
             FROM forum_posts p JOIN forum_threads t ON t.id = p.thread_id, to_tsquery('simple', ?) query
             WHERE p.search @@ query ${hidden} AND ${scope.sql}
             ORDER BY p.seq DESC LIMIT ?
           ) w ORDER BY w.score DESC, w.seq DESC LIMIT ? OFFSET ?`,
          [tsQuery(terms), ...scope.params, rankWindow, page.limit, page.offset],
        );
  return rows.map((r) => ({
    postId: r.post_id,
    threadId: r.thread_id,
    threadTitle: r.title,
    opening: Boolean(r.opening),
  }));
}

function categoryOf(row: CategoryRow): Category {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    description: row.description,
    incident: row.incident_slug,
    createdAt: row.created_at,
  };
}

function threadOf(row: ThreadRow): Thread {
  return {
    id: row.id,
    category: row.category_slug,
    title: row.title,
    visibility: row.org_id === null ? 'public' : 'organisation',
    orgId: row.org_id,
    pinnedIncident: row.pinned_slug,
    locked: Boolean(Number(row.locked)),
    hidden: Boolean(Number(row.hidden)),
    answerPostId: row.answer_post_id,
    createdAt: row.created_at,
    lastPostAt: row.last_post_at,
  };
}

function postOf(row: PostRow, caller: ForumCaller, answerPostId: string | null): Post {
  return {
    id: row.id,
    threadId: row.thread_id,
    opening: Boolean(Number(row.opening)),
    authorRole: Number(row.author_staff) ? 'staff' : 'customer',
    mine: row.author === actorOf(caller),
    body: row.body,
    html: renderMarkdown(row.body),
    hidden: Boolean(Number(row.hidden)),
    answer: answerPostId === row.id,
    createdAt: row.created_at,
    editedAt: row.edited_at,
    ...(isStaff(caller) ? { author: row.author, authorOrgId: row.author_org_id } : {}),
  };
}
