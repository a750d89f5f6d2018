import { useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import type { Me } from '../app.js';
import { when } from '../format.js';
import { ErrorNote, Show, useLoad } from '../load.js';
import { BASE } from '../router.js';

interface Advisory {
  id: string;
  slug: string;
  trackingId: string;
  title?: string;
  tlp?: string;
  status?: string;
  currentReleaseDate?: string;
  revisions?: {
    number: number;
    at: string;
    summary: string;
    content: { title: string; severity: string; tlp: string };
  }[];
  packs?: { packId: string; sequence: number; url?: string }[];
  state?: 'draft' | 'published';
  lastSeq?: number;
}

/** The advisories with their revisions, linked to their pages, feeds, CSAF documents and packs. */
export function AdvisoriesPage({ me }: { me: Me }) {
  const loaded = useLoad(() => api<{ advisories: Advisory[] }>('GET', '/api/v1/advisories'), 'advisories');
  const [error, setError] = useState<ApiError>();
  const publish = async (a: Advisory) => {
    try {
      await api('POST', `/api/v1/advisories/${a.id}/publish`, {
        baseSeq: a.lastSeq,
        summary: 'First release',
      });
      loaded.reload();
    } catch (failure) {
      if (failure instanceof ApiError) setError(failure);
    }
  };
  return (
    <>
      <h1>Advisories</h1>
      <p>
        Follow them in a feed reader: <a href="/advisories/feed.atom">Atom</a> ·{' '}
        <a href="/advisories/feed.rss">RSS</a> ·{' '}
        <a href="/.well-known/csaf/provider-metadata.json">CSAF provider metadata</a> ·{' '}
        <a href="/feed/feed.atom">signed packs</a>
      </p>
      {me.principal.role === 'vendor-staff' && (
        <p>
          <a class="button" href={`${BASE}advisories/new`}>
            Write an advisory
          </a>
        </p>
      )}
      {error && <ErrorNote error={error} />}
      <Show loaded={loaded}>
        {({ advisories }) =>
          advisories.length === 0 ? (
            <p>No advisory yet.</p>
          ) : (
            <ul class="plain advisories">
              {advisories.map((a) => {
                const last = a.revisions?.at(-1);
                const title = last?.content.title ?? a.title ?? a.trackingId;
                return (
                  <li key={a.id}>
                    <h2>{a.state === 'draft' ? title : <a href={`/advisories/${a.slug}`}>{title}</a>}</h2>
                    {a.state === 'draft' && (
                      <p>
                        <span class="badge">draft</span>{' '}
                        <button type="button" onClick={() => publish(a)}>
                          Publish {title}
                        </button>
                      </p>
                    )}
                    <p class="muted">
                      {a.trackingId} · TLP:{last?.content.tlp ?? a.tlp} ·{' '}
                      {last?.content.severity ?? a.status ?? ''} · updated{' '}
                      {when(a.currentReleaseDate ?? last?.at)}
                    </p>
                    {a.revisions && a.revisions.length > 0 && (
                      <details>
                        <summary>Revision history ({a.revisions.length})</summary>
                        <ol>
                          {a.revisions.map((r, i) => (
                            <li key={r.number}>
                              {when(r.at)}: {r.summary}{' '}
                              {i > 0 && (
                                <a href={`/advisories/${a.slug}/diff?from=${r.number - 1}&to=${r.number}`}>
                                  what changed
                                </a>
                              )}
                            </li>
                          ))}
                        </ol>
                      </details>
                    )}
                  </li>
                );
              })}
            </ul>
          )
        }
      </Show>
    </>
  );
}
