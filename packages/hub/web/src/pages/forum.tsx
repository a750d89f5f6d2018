import { useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import { when } from '../format.js';
import { ErrorNote, Show, useLoad } from '../load.js';
import { BASE, currentRoute, navigate } from '../router.js';

interface Thread {
  id: string;
  category: string;
  title: string;
  visibility: string;
  pinnedIncident: string | null;
  locked: boolean;
  answerPostId: string | null;
  lastPostAt: string;
}
interface Post {
  id: string;
  hidden: boolean;
  opening: boolean;
  authorRole: string;
  html: string;
  answer: boolean;
  createdAt: string;
  editedAt: string | null;
}

/** The forum: categories with their threads (the pinned incident thread first), full-text search, a new thread. */
export function ForumPage() {
  const { query } = currentRoute();
  const q = query.get('q') ?? '';
  const loaded = useLoad(async () => {
    if (q)
      return {
        search: (
          await api<{ results: { post: Post; thread: Thread }[] }>(
            'GET',
            `/api/v1/forum/search?q=${encodeURIComponent(q)}`,
          )
        ).results,
      };
    const { categories } = await api<{ categories: { slug: string; title: string; description?: string }[] }>(
      'GET',
      '/api/v1/forum/categories',
    );
    const threads = await Promise.all(
      categories.map((c) => api<{ threads: Thread[] }>('GET', `/api/v1/forum/categories/${c.slug}/threads`)),
    );
    return { categories: categories.map((c, i) => ({ ...c, threads: threads[i]?.threads ?? [] })) };
  }, q);
  const search = (event: Event) => {
    event.preventDefault();
    const value = String(new FormData(event.target as HTMLFormElement).get('q') ?? '').trim();
    navigate(`${BASE}forum${value ? `?q=${encodeURIComponent(value)}` : ''}`);
  };
  const [error, setError] = useState<ApiError>();
  const start = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    try {
      const made = await api<{ thread: Thread }>('POST', '/api/v1/forum/threads', {
        category: form.get('category'),
        title: form.get('title'),
        body: form.get('body'),
        visibility: form.get('visibility'),
      });
      navigate(`${BASE}forum/threads/${made.thread.id}`);
    } catch (failure) {
      if (failure instanceof ApiError) setError(failure);
    }
  };
  return (
    <>
      <h1>Forum</h1>
      <form class="filters" onSubmit={search} aria-label="Search the forum">
        <label>
          Search the forum
          <input name="q" type="search" value={q} />
        </label>
        <button type="submit">Search</button>
      </form>
      <Show loaded={loaded}>
        {(data) =>
          'search' in data && data.search ? (
            <>
              <h2>Results for “{q}”</h2>
              {data.search.length === 0 ? (
                <p>Nothing matches.</p>
              ) : (
                <ul class="plain">
                  {data.search.map((r) => (
                    <li key={r.post.id}>
                      <a href={`${BASE}forum/threads/${r.thread.id}`}>{r.thread.title}</a>{' '}
                      <span class="muted">{when(r.post.createdAt)}</span>
                    </li>
                  ))}
                </ul>
              )}
            </>
          ) : (
            (data.categories ?? []).map((c) => (
              <section key={c.slug} aria-labelledby={`cat-${c.slug}`}>
                <h2 id={`cat-${c.slug}`}>{c.title}</h2>
                {c.threads.length === 0 ? (
                  <p class="muted">No thread yet.</p>
                ) : (
                  <ul class="plain">
                    {c.threads.map((t) => (
                      <li key={t.id}>
                        {t.pinnedIncident && <span class="badge">official</span>}{' '}
                        <a href={`${BASE}forum/threads/${t.id}`}>{t.title}</a>{' '}
                        <span class="muted">
                          {t.answerPostId ? 'answered · ' : ''}
                          {t.locked ? 'locked · ' : ''}last post {when(t.lastPostAt)}
                        </span>
                      </li>
                    ))}
                  </ul>
                )}
              </section>
            ))
          )
        }
      </Show>
      {loaded.data && 'categories' in loaded.data && (loaded.data.categories ?? []).length > 0 && (
        <section aria-labelledby="new-thread">
          <h2 id="new-thread">Ask a question</h2>
          <form onSubmit={start}>
            <label>
              Category
              <select name="category">
                {(loaded.data.categories ?? []).map((c) => (
                  <option key={c.slug} value={c.slug}>
                    {c.title}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Title
              <input name="title" required maxLength={200} />
            </label>
            <label>
              Question (Markdown)
              <textarea name="body" rows={5} required />
            </label>
            <label>
              Who may read it
              <select name="visibility">
                <option value="public">Every customer</option>
                <option value="organisation">My organisation and the vendor</option>
              </select>
            </label>
            {error && <ErrorNote error={error} />}
            <button type="submit">Post the question</button>
          </form>
        </section>
      )}
    </>
  );
}

/** One thread (by id, or an incident's official thread by its slug) with its posts, and a reply form unless locked. */
export function ThreadPage({ source, staff }: { source: string; staff: boolean }) {
  const loaded = useLoad(() => api<{ thread: Thread; posts: Post[] }>('GET', source), source);
  const [error, setError] = useState<ApiError>();
  const moderate = async (path: string, body: unknown) => {
    try {
      await api('POST', `/api/v1/forum/${path}`, body);
      setError(undefined);
      loaded.reload();
    } catch (failure) {
      if (failure instanceof ApiError) setError(failure);
    }
  };
  const reply = async (event: Event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    try {
      const thread = loaded.data?.thread.id ?? '';
      await api('POST', `/api/v1/forum/threads/${encodeURIComponent(thread)}/replies`, {
        body: new FormData(form).get('body'),
      });
      form.reset();
      setError(undefined);
      loaded.reload();
    } catch (failure) {
      if (failure instanceof ApiError) setError(failure);
    }
  };
  return (
    <Show loaded={loaded}>
      {({ thread, posts }) => (
        <>
          <h1>{thread.title}</h1>
          {posts.map((p) => (
            <article
              key={p.id}
              class={p.answer ? 'post answer' : 'post'}
              aria-label={p.answer ? 'The answer' : undefined}
            >
              <p class="muted">
                {p.authorRole === 'staff' ? 'Vendor staff' : 'Customer'} · {when(p.createdAt)}
                {p.editedAt ? ` · edited ${when(p.editedAt)}` : ''}
                {p.answer ? ' · the answer' : ''}
              </p>
              {/* The hub renders Markdown inert (no raw HTML, safe links only). */}
              <div class="markdown" dangerouslySetInnerHTML={{ __html: p.html }} />
              {staff && (
                <p class="actions">
                  {!p.opening && (
                    <button
                      type="button"
                      class="secondary"
                      onClick={() =>
                        moderate(`threads/${thread.id}/answer`, { postId: p.answer ? null : p.id })
                      }
                    >
                      {p.answer ? 'Not the answer' : 'Mark as the answer'}
                    </button>
                  )}
                  <button
                    type="button"
                    class="secondary"
                    onClick={() => moderate(`posts/${p.id}/hide`, { hidden: !p.hidden })}
                  >
                    {p.hidden ? 'Show' : 'Hide'}
                  </button>
                </p>
              )}
            </article>
          ))}
          {staff && (
            <p class="actions">
              <button
                type="button"
                class="secondary"
                onClick={() => moderate(`threads/${thread.id}/lock`, { locked: !thread.locked })}
              >
                {thread.locked ? 'Unlock the thread' : 'Lock the thread'}
              </button>
            </p>
          )}
          {thread.locked ? (
            <p class="muted">This thread is locked.</p>
          ) : (
            <form onSubmit={reply}>
              <label>
                Your reply (Markdown)
                <textarea name="body" rows={5} required />
              </label>
              {error && <ErrorNote error={error} />}
              <button type="submit">Reply</button>
            </form>
          )}
        </>
      )}
    </Show>
  );
}
