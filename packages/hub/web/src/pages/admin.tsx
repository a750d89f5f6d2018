import { useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import type { Me } from '../app.js';
import { when } from '../format.js';
import { ErrorNote, ScrollTable, Show, useLoad } from '../load.js';

interface TokenInfo {
  id: string;
  kind: string;
  name: string;
  role?: string;
  createdAt: string;
  expiresAt: string | null;
  revoked: boolean;
  uses?: number;
  maxUses?: number | null;
}

/** Users, API and enrolment tokens (a new one shown once, with the agent install command), for admins and staff. */
export function AdminPage({ me }: { me: Me }) {
  const admin = me.principal.role === 'org-admin' || me.principal.role === 'vendor-staff';
  const loaded = useLoad(
    async () =>
      admin
        ? {
            tokens: (await api<{ tokens: TokenInfo[] }>('GET', '/api/v1/tokens')).tokens,
            users: (
              await api<{ users: { id: string; email: string; role: string }[] }>('GET', '/api/v1/users')
            ).users,
            org: (
              await api<{ org: { id: string; name: string; staleDays: number | null } }>(
                'GET',
                `/api/v1/orgs/${me.principal.orgId}`,
              )
            ).org,
            webhooks: (
              await api<{ webhooks: { id: string; url: string; events: string[] }[] }>(
                'GET',
                '/api/v1/webhooks',
              )
            ).webhooks,
          }
        : undefined,
    'admin',
  );
  const [made, setMade] = useState<{ token: string; kind: string }>();
  const [error, setError] = useState<ApiError>();
  if (!admin)
    return (
      <>
        <h1>Admin</h1>
        <p>Only organisation admins and vendor staff manage users and tokens.</p>
      </>
    );
  const create = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    const kind = String(form.get('kind'));
    try {
      const answer = await api<{ token: string }>('POST', '/api/v1/tokens', {
        kind,
        name: form.get('name'),
        ...(kind === 'api' ? { role: form.get('role') } : {}),
      });
      setMade({ token: answer.token, kind });
      setError(undefined);
      loaded.reload();
    } catch (failure) {
      if (failure instanceof ApiError) setError(failure);
    }
  };
  const settle = async (path: string, method: string, body: unknown) => {
    try {
      const answer = await api<{ secret?: string }>(method, path, body);
      setError(undefined);
      loaded.reload();
      return answer;
    } catch (failure) {
      if (failure instanceof ApiError) setError(failure);
      return undefined;
    }
  };
  const [secret, setSecret] = useState<string>();
  const revoke = async (id: string) => {
    await api('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`).catch((failure: unknown) => {
      if (failure instanceof ApiError) setError(failure);
    });
    loaded.reload();
  };
  return (
    <>
      <h1>Admin</h1>
      <section aria-labelledby="new-token">
        <h2 id="new-token">New token</h2>
        <form class="filters" onSubmit={create}>
          <label>
            Kind
            <select name="kind">
              <option value="enrol">Agent enrolment</option>
              <option value="api">API</option>
            </select>
          </label>
          <label>
            Name
            <input name="name" required maxLength={100} />
          </label>
          <label>
            Role (API tokens)
            <select name="role" value="org-member">
              <option>org-member</option>
              <option>org-admin</option>
            </select>
          </label>
          <button type="submit">Create</button>
        </form>
        {error && <ErrorNote error={error} />}
        {made && (
          <div class="note" role="status">
            <p>
              The new token, shown this once:{' '}
              <code class="mono" data-testid="new-token">
                {made.token}
              </code>
            </p>
            {made.kind === 'enrol' && (
              <>
                <p>
                  On each host with chainsweep installed, as root or an administrator, enrol and report every
                  6 hours:
                </p>
                <pre class="command">
                  {`chainsweep agent --hub ${location.origin} --enrol ${made.token} --state /var/lib/chainsweep-agent --every 6h`}
                </pre>
              </>
            )}
          </div>
        )}
      </section>
      <Show loaded={loaded}>
        {(data) =>
          data && (
            <>
              <section aria-labelledby="tokens">
                <h2 id="tokens">Tokens</h2>
                <ScrollTable label="Tokens">
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Kind</th>
                      <th scope="col">Created</th>
                      <th scope="col">Expires</th>
                      <th scope="col">
                        <span class="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.tokens.map((t) => (
                      <tr key={t.id}>
                        <td>{t.name}</td>
                        <td>
                          {t.kind}
                          {t.role ? ` (${t.role})` : ''}
                        </td>
                        <td>{when(t.createdAt)}</td>
                        <td>{t.revoked ? 'revoked' : t.expiresAt ? when(t.expiresAt) : 'never'}</td>
                        <td>
                          {!t.revoked && (
                            <button
                              type="button"
                              class="secondary"
                              onClick={() => revoke(t.id)}
                              aria-label={`Revoke ${t.name}`}
                            >
                              Revoke
                            </button>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </ScrollTable>
              </section>
              <section aria-labelledby="settings">
                <h2 id="settings">Organisation settings: {data.org.name}</h2>
                <form
                  class="filters"
                  onSubmit={(event) => {
                    event.preventDefault();
                    const value = String(
                      new FormData(event.target as HTMLFormElement).get('staleDays') ?? '',
                    ).trim();
                    settle(`/api/v1/orgs/${data.org.id}`, 'PATCH', {
                      staleDays: value ? Number(value) : null,
                    });
                  }}
                >
                  <label>
                    Days without a report before a host is stale (empty: the hub's default)
                    <input
                      name="staleDays"
                      type="number"
                      min={1}
                      max={3650}
                      value={data.org.staleDays ?? ''}
                    />
                  </label>
                  <button type="submit">Save</button>
                </form>
              </section>
              <section aria-labelledby="webhooks">
                <h2 id="webhooks">Webhooks</h2>
                <ul class="plain">
                  {data.webhooks.map((w) => (
                    <li key={w.id}>
                      <span class="mono">{w.url}</span> <span class="muted">{w.events.join(', ')}</span>
                    </li>
                  ))}
                </ul>
                <form
                  class="filters"
                  onSubmit={async (event) => {
                    event.preventDefault();
                    const form = new FormData(event.target as HTMLFormElement);
                    const made = await settle('/api/v1/webhooks', 'POST', {
                      url: form.get('url'),
                      events: form.getAll('events'),
                    });
                    setSecret(made?.secret);
                  }}
                >
                  <label>
                    Endpoint (https)
                    <input name="url" type="url" required />
                  </label>
                  <fieldset>
                    <legend>Events</legend>
                    {[
                      'advisory.published',
                      'advisory.revised',
                      'pack.published',
                      'ticket.created',
                      'ticket.replied',
                      'ticket.state_changed',
                    ].map((e) => (
                      <label key={e} class="inline">
                        <input type="checkbox" name="events" value={e} checked={e.startsWith('advisory')} />{' '}
                        {e}
                      </label>
                    ))}
                  </fieldset>
                  <button type="submit">Add the webhook</button>
                </form>
                {secret && (
                  <p class="note" role="status">
                    Its signing secret, shown this once: <code class="mono">{secret}</code>
                  </p>
                )}
              </section>
              <section aria-labelledby="users">
                <h2 id="users">Users</h2>
                <ul class="plain">
                  {data.users.map((u) => (
                    <li key={u.id}>
                      {u.email} <span class="muted">{u.role}</span>
                    </li>
                  ))}
                </ul>
              </section>
            </>
          )
        }
      </Show>
    </>
  );
}
