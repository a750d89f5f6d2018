import { api } from '../api.js';
import type { Me } from '../app.js';
import { ACTION_STATES, ago, STATE_LABELS, shown } from '../format.js';
import { ScrollTable, Show, useLoad } from '../load.js';
import { BASE } from '../router.js';
import { type HostSummary, StateBadge } from './hosts.js';

type Counts = Record<string, number>;
interface Summary {
  total: number;
  counts: Counts;
  cloned: number;
  trend: { day: string; counts: Counts }[];
}
interface AdvisoryItem {
  slug: string;
  trackingId: string;
  title?: string;
  currentReleaseDate?: string;
  revisions?: { number: number; summary: string; content: { title: string; severity: string } }[];
}

/** The fleet at a glance: counts by state, the trend since the advisory, new advisory revisions, hosts to act on. */
export function OverviewPage({ me }: { me: Me }) {
  const loaded = useLoad(async () => {
    const [summary, ...lists] = await Promise.all([
      api<Summary>('GET', '/api/v1/fleet/summary?days=30'),
      ...ACTION_STATES.map((state) =>
        api<{ hosts: HostSummary[] }>('GET', `/api/v1/hosts?state=${state}&limit=10`),
      ),
    ]);
    const advisories = await api<{ advisories: AdvisoryItem[] }>('GET', '/api/v1/advisories').catch(() => ({
      advisories: [],
    }));
    return { summary, urgent: lists.flatMap((l) => l.hosts).slice(0, 10), advisories: advisories.advisories };
  }, 'overview');
  return (
    <>
      <h1>Fleet overview</h1>
      <Show loaded={loaded}>
        {({ summary, urgent, advisories }) => (
          <>
            <section aria-labelledby="counts">
              <h2 id="counts">Hosts by state ({summary.total})</h2>
              <ul class="cards">
                {Object.entries(STATE_LABELS).map(([state, label]) => (
                  <li key={state} class={`card state-${state}`}>
                    <a href={`${BASE}hosts?state=${state}`}>
                      <span class="count" data-state={state}>
                        {summary.counts[state] ?? 0}
                      </span>
                      <span>{label}</span>
                    </a>
                  </li>
                ))}
              </ul>
              {summary.cloned > 0 && (
                <p class="warn">{summary.cloned} hosts share an identity with another (cloned images).</p>
              )}
            </section>
            <section aria-labelledby="trend">
              <h2 id="trend">How fast the fleet gets clean (30 days)</h2>
              <TrendChart trend={summary.trend} />
            </section>
            <section aria-labelledby="urgent">
              <h2 id="urgent">Hosts to act on first</h2>
              {urgent.length === 0 ? (
                <p>No host has beaconed, holds an indicator or an affected app.</p>
              ) : (
                <ScrollTable label="Hosts to act on first">
                  <thead>
                    <tr>
                      <th scope="col">Host</th>
                      <th scope="col">State</th>
                      <th scope="col">Last report</th>
                    </tr>
                  </thead>
                  <tbody>
                    {urgent.map((h) => (
                      <tr key={h.id}>
                        <td>
                          <a href={`${BASE}hosts/${h.id}`}>{shown(h.hostname)}</a>
                        </td>
                        <td>
                          <StateBadge state={h.state} />
                        </td>
                        <td>{ago(h.lastReportAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </ScrollTable>
              )}
            </section>
            <section aria-labelledby="news">
              <h2 id="news">Newest advisories</h2>
              {advisories.length === 0 ? (
                <p>No advisory is published yet.</p>
              ) : (
                <ul class="plain">
                  {advisories.slice(0, 5).map((a) => {
                    const last = a.revisions?.at(-1);
                    return (
                      <li key={a.slug}>
                        <a href={`/advisories/${a.slug}`}>{last?.content.title ?? a.title ?? a.trackingId}</a>{' '}
                        <span class="muted">
                          {a.trackingId}
                          {last ? `, revision ${last.number}: ${last.summary}` : ''}
                        </span>
                      </li>
                    );
                  })}
                </ul>
              )}
              <p class="muted">
                Signed in as {me.principal.role}. Feeds: <a href="/advisories/feed.atom">Atom</a>,{' '}
                <a href="/advisories/feed.rss">RSS</a>.
              </p>
            </section>
          </>
        )}
      </Show>
    </>
  );
}

/** Hosts needing action and clean hosts per day, as two lines, with the numbers in a table for screen readers. */
function TrendChart({ trend }: { trend: Summary['trend'] }) {
  const needing = trend.map((d) => ACTION_STATES.reduce((n, s) => n + (d.counts[s] ?? 0), 0));
  const clean = trend.map((d) => d.counts.clean ?? 0);
  const top = Math.max(1, ...needing, ...clean);
  const width = 600;
  const height = 160;
  const x = (i: number) => (trend.length <= 1 ? 0 : (i / (trend.length - 1)) * width);
  const y = (n: number) => height - (n / top) * (height - 10);
  const line = (values: number[]) =>
    values.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const first = trend[0]?.day ?? '';
  const last = trend.at(-1)?.day ?? '';
  return (
    <figure class="trend">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`From ${first} to ${last}: hosts needing action went from ${needing[0] ?? 0} to ${needing.at(-1) ?? 0}, clean hosts from ${clean[0] ?? 0} to ${clean.at(-1) ?? 0}.`}
      >
        <path d={line(needing)} class="line-action" />
        <path d={line(clean)} class="line-clean" />
      </svg>
      <figcaption>
        <span class="key-action">Needs action</span> <span class="key-clean">Clean</span>, {first} to {last}
      </figcaption>
      <details>
        <summary>The numbers</summary>
        <ScrollTable label="Hosts needing action and clean hosts per day">
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Needs action</th>
              <th scope="col">Clean</th>
            </tr>
          </thead>
          <tbody>
            {trend.map((d, i) => (
              <tr key={d.day}>
                <td>{d.day}</td>
                <td>{needing[i]}</td>
                <td>{clean[i]}</td>
              </tr>
            ))}
          </tbody>
        </ScrollTable>
      </details>
    </figure>
  );
}
