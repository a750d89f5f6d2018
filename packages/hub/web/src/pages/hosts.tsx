import { api } from '../api.js';
import { ago, STATE_LABELS, shown } from '../format.js';
import { ScrollTable, Show, useLoad, useOrgNames } from '../load.js';
import { BASE, currentRoute, navigate } from '../router.js';

/** A host as the list shows it. */
export interface HostSummary {
  id: string;
  orgId: string;
  hostId: string;
  hostname: string;
  os: string | null;
  addresses: string[];
  state: string;
  stateSince: string;
  lastReportAt: string | null;
  cloned: boolean;
}

/** A host's state as a labelled badge (the word is always there; colour only repeats it). */
export function StateBadge({ state }: { state: string }) {
  return <span class={`badge state-${state}`}>{state}</span>;
}

const FILTERS = [
  ['q', 'Name or address'],
  ['app', 'App'],
  ['version', 'Version'],
  ['indicator', 'Indicator id'],
  ['pack', 'Pack id'],
] as const;

/** Hosts, searchable and filtered by state, app version, indicator and pack, a page at a time. */
export function HostsPage({ staff }: { staff: boolean }) {
  const orgs = useOrgNames(staff);
  const { query } = currentRoute();
  const key = query.toString();
  const loaded = useLoad(
    () => api<{ hosts: HostSummary[]; nextCursor: string | null }>('GET', `/api/v1/hosts?${key}`),
    key,
  );
  const submit = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const next = new URLSearchParams();
    for (const [name, value] of form)
      if (typeof value === 'string' && value.trim()) next.set(name, value.trim());
    navigate(`${BASE}hosts?${next}`);
  };
  return (
    <>
      <h1>Hosts</h1>
      <form class="filters" onSubmit={submit} aria-label="Filter hosts">
        <label>
          State
          <select name="state" value={query.get('state') ?? ''}>
            <option value="">Any</option>
            {Object.entries(STATE_LABELS).map(([state, label]) => (
              <option key={state} value={state}>
                {label}
              </option>
            ))}
          </select>
        </label>
        {FILTERS.map(([name, label]) => (
          <label key={name}>
            {label}
            <input name={name} value={query.get(name) ?? ''} />
          </label>
        ))}
        <button type="submit">Filter</button>
      </form>
      <Show loaded={loaded}>
        {({ hosts, nextCursor }) => (
          <>
            {hosts.length === 0 ? (
              <p>No host matches.</p>
            ) : (
              <ScrollTable label="Hosts">
                <thead>
                  <tr>
                    <th scope="col">Host</th>
                    {staff && <th scope="col">Organisation</th>}
                    <th scope="col">State</th>
                    <th scope="col">OS</th>
                    <th scope="col">Addresses</th>
                    <th scope="col">Last report</th>
                  </tr>
                </thead>
                <tbody>
                  {hosts.map((h) => (
                    <tr key={h.id}>
                      <td>
                        <a href={`${BASE}hosts/${h.id}`}>{shown(h.hostname)}</a>
                        {h.cloned && <span class="badge warn-badge">clone</span>}
                      </td>
                      {staff && <td>{orgs.get(h.orgId) ?? h.orgId}</td>}
                      <td>
                        <StateBadge state={h.state} />
                      </td>
                      <td>{shown(h.os) || '—'}</td>
                      <td class="mono">{h.addresses.slice(0, 3).join(', ')}</td>
                      <td>{ago(h.lastReportAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </ScrollTable>
            )}
            {nextCursor && (
              <p>
                <a href={`${BASE}hosts?${withCursor(query, nextCursor)}`}>Next page</a>
              </p>
            )}
          </>
        )}
      </Show>
    </>
  );
}

function withCursor(query: URLSearchParams, cursor: string): string {
  const next = new URLSearchParams(query);
  next.set('cursor', cursor);
  return next.toString();
}
