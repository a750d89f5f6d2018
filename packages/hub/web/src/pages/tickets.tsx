import { useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import type { Me } from '../app.js';
import { when } from '../format.js';
import { ErrorNote, ScrollTable, Show, useLoad, useOrgNames } from '../load.js';
import { BASE, currentRoute, navigate } from '../router.js';

interface Clock {
  dueAt: string;
  at: string | null;
  breached: boolean;
}
interface Ticket {
  id: string;
  orgId: string;
  incident: { id: string; slug: string };
  subject: string;
  priority: string;
  state: string;
  assigneeId: string | null;
  paid: boolean;
  createdAt: string;
  updatedAt: string;
  sla: { firstResponse: Clock; resolution: Clock };
}
interface Message {
  id: string;
  internal: boolean;
  html: string;
  author: string;
  via: string;
  createdAt: string;
  attachments: { name: string; size: number; url: string }[];
}
interface Quota {
  freeTickets: number;
  used: number;
  remaining: number;
  whenUsedUp: 'refuse' | 'paid';
}

const STATES = ['new', 'open', 'pending', 'resolved', 'closed'];
/** The moves the hub allows from each state (closed is final); customers never set `pending` or `new`. */
const MOVES: Record<string, string[]> = {
  new: ['open', 'pending', 'resolved', 'closed'],
  open: ['pending', 'resolved', 'closed'],
  pending: ['open', 'resolved', 'closed'],
  resolved: ['open', 'closed'],
  closed: [],
};
const CUSTOMER_MOVES = ['open', 'resolved', 'closed'];
const isStaff = (me: Me) => me.principal.role === 'vendor-staff';

/** An SLA clock in words: met, running until its due time, or breached. */
function ClockText({ label, clock }: { label: string; clock: Clock }) {
  const text = clock.at ? `met ${when(clock.at)}` : `due ${when(clock.dueAt)}`;
  return (
    <span class={clock.breached ? 'badge breach' : 'badge'}>
      {label}: {clock.breached ? 'breached, ' : ''}
      {text}
    </span>
  );
}

/** Tickets in the caller's scope; for staff, the queue with filters by state and assignee. */
export function TicketsPage({ me }: { me: Me }) {
  const orgs = useOrgNames(isStaff(me));
  const { query } = currentRoute();
  const key = query.toString();
  const loaded = useLoad(
    () => api<{ tickets: Ticket[]; nextCursor: string | null }>('GET', `/api/v1/tickets?${key}`),
    key,
  );
  const filter = (event: Event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, value] of new FormData(event.target as HTMLFormElement))
      if (typeof value === 'string' && value) next.set(name, value);
    navigate(`${BASE}tickets?${next}`);
  };
  return (
    <>
      <h1>{isStaff(me) ? 'Ticket queue' : 'Your tickets'}</h1>
      <p>
        <a class="button" href={`${BASE}tickets/new`}>
          Open a ticket
        </a>
      </p>
      <form class="filters" onSubmit={filter} aria-label="Filter tickets">
        <label>
          State
          <select name="state" value={query.get('state') ?? ''}>
            <option value="">Any</option>
            {STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        {isStaff(me) && (
          <label>
            Assignee (user id)
            <input name="assignee" value={query.get('assignee') ?? ''} />
          </label>
        )}
        <button type="submit">Filter</button>
      </form>
      <Show loaded={loaded}>
        {({ tickets, nextCursor }) => (
          <>
            {tickets.length === 0 ? (
              <p>No ticket.</p>
            ) : (
              <ScrollTable label="Tickets">
                <thead>
                  <tr>
                    <th scope="col">Subject</th>
                    {isStaff(me) && <th scope="col">Organisation</th>}
                    <th scope="col">State</th>
                    <th scope="col">Priority</th>
                    <th scope="col">SLA</th>
                    <th scope="col">Opened</th>
                  </tr>
                </thead>
                <tbody>
                  {tickets.map((t) => (
                    <tr key={t.id}>
                      <td>
                        <a href={`${BASE}tickets/${t.id}`}>{t.subject}</a>
                        {t.paid && <span class="badge">paid</span>}
                      </td>
                      {isStaff(me) && <td>{orgs.get(t.orgId) ?? t.orgId}</td>}
                      <td>{t.state}</td>
                      <td>{t.priority}</td>
                      <td>
                        <ClockText label="response" clock={t.sla.firstResponse} />
                      </td>
                      <td>{when(t.createdAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </ScrollTable>
            )}
            {nextCursor && (
              <p>
                <a
                  href={`${BASE}tickets?${new URLSearchParams({ ...Object.fromEntries(query), cursor: nextCursor })}`}
                >
                  Next page
                </a>
              </p>
            )}
          </>
        )}
      </Show>
    </>
  );
}

/** Opening a ticket: the incident first, and how many free tickets are left for it, before anything is typed. */
export function NewTicketPage({ me }: { me: Me }) {
  const incidents = useLoad(
    () => api<{ incidents: { id: string; slug: string; title: string }[] }>('GET', '/api/v1/incidents'),
    'incidents',
  );
  const [incident, setIncident] = useState<string>();
  const [error, setError] = useState<ApiError>();
  const chosen = incident ?? incidents.data?.incidents[0]?.slug;
  const quota = useLoad(
    () =>
      chosen && !isStaff(me)
        ? api<Quota>('GET', `/api/v1/incidents/${encodeURIComponent(chosen)}/quota`)
        : Promise.resolve(undefined),
    `${chosen}:${error?.code ?? ''}`,
  );
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    try {
      const made = await api<{ ticket: Ticket }>('POST', '/api/v1/tickets', {
        incident: form.get('incident'),
        subject: form.get('subject'),
        priority: form.get('priority'),
        body: form.get('body'),
        ...(isStaff(me) && form.get('org') ? { org: form.get('org') } : {}),
      });
      navigate(`${BASE}tickets/${made.ticket.id}`);
    } catch (failure) {
      if (failure instanceof ApiError) setError(failure);
    }
  };
  return (
    <>
      <h1>Open a ticket</h1>
      <Show loaded={incidents}>
        {({ incidents: list }) =>
          list.length === 0 ? (
            <p>No incident takes tickets yet.</p>
          ) : (
            <form onSubmit={submit}>
              <label>
                Incident
                <select
                  name="incident"
                  value={chosen}
                  onChange={(e) => setIncident((e.target as HTMLSelectElement).value)}
                >
                  {list.map((i) => (
                    <option key={i.id} value={i.slug}>
                      {i.title}
                    </option>
                  ))}
                </select>
              </label>
              {quota.data && (
                <p class={quota.data.remaining === 0 ? 'warn' : 'note'} role="status" data-testid="quota">
                  {quota.data.remaining} of {quota.data.freeTickets} free tickets left for your organisation.
                  {quota.data.remaining === 0 &&
                    (quota.data.whenUsedUp === 'paid'
                      ? ' A new ticket will be a paid one.'
                      : ' Ask in the forum instead: the answer may already be there.')}
                </p>
              )}
              {isStaff(me) && (
                <label>
                  Organisation id
                  <input name="org" required />
                </label>
              )}
              <label>
                Subject
                <input name="subject" required maxLength={200} />
              </label>
              <label>
                Priority
                <select name="priority" value="normal">
                  {['low', 'normal', 'high', 'urgent'].map((p) => (
                    <option key={p}>{p}</option>
                  ))}
                </select>
              </label>
              <label>
                What happened (Markdown)
                <textarea name="body" rows={6} required />
              </label>
              {error && (
                <div role="alert" class="error">
                  {error.message}
                  {error.code === 'QUOTA_USED_UP' && chosen && (
                    <>
                      {' '}
                      <a href={`${BASE}forum/incidents/${encodeURIComponent(chosen)}`}>
                        Go to the incident’s forum thread
                      </a>
                      .
                    </>
                  )}
                </div>
              )}
              <button type="submit">Open the ticket</button>
            </form>
          )
        }
      </Show>
    </>
  );
}

/** One ticket: its state and SLA clocks, the conversation (staff also see internal notes), a reply, a state move. */
export function TicketPage({ id, me }: { id: string; me: Me }) {
  const loaded = useLoad(
    () =>
      api<{ ticket: Ticket & { messages: Message[] } }>('GET', `/api/v1/tickets/${encodeURIComponent(id)}`),
    id,
  );
  const [error, setError] = useState<ApiError>();
  const act = async (method: string, path: string, body: unknown, form?: HTMLFormElement) => {
    try {
      await api(method, path, body);
      form?.reset();
      setError(undefined);
      loaded.reload();
    } catch (failure) {
      if (failure instanceof ApiError) setError(failure);
    }
  };
  const movesFrom = (state: string) =>
    (MOVES[state] ?? []).filter((to) => isStaff(me) || CUSTOMER_MOVES.includes(to));
  return (
    <Show loaded={loaded}>
      {({ ticket }) => (
        <>
          <h1>{ticket.subject}</h1>
          <p>
            <span class="badge">{ticket.state}</span> <span class="badge">{ticket.priority}</span>{' '}
            <ClockText label="First response" clock={ticket.sla.firstResponse} />{' '}
            <ClockText label="Resolution" clock={ticket.sla.resolution} />
          </p>
          <p class="muted">
            About {ticket.incident.slug} · opened {when(ticket.createdAt)}
            {ticket.paid ? ' · paid' : ''}
            {ticket.assigneeId
              ? ticket.assigneeId === me.principal.userId
                ? ' · assigned to you'
                : ' · assigned'
              : ' · unassigned'}
          </p>
          {isStaff(me) && me.principal.userId && ticket.assigneeId !== me.principal.userId && (
            <p>
              <button
                type="button"
                class="secondary"
                onClick={() =>
                  act('PATCH', `/api/v1/tickets/${ticket.id}`, { assignee: me.principal.userId })
                }
              >
                Assign to me
              </button>
            </p>
          )}
          {ticket.messages.map((m) => (
            <article key={m.id} class={m.internal ? 'post internal' : 'post'}>
              <p class="muted">
                {m.internal ? 'Internal note · ' : ''}
                {m.via === 'email' ? 'by email · ' : ''}
                {when(m.createdAt)}
              </p>
              <div class="markdown" dangerouslySetInnerHTML={{ __html: m.html }} />
              {m.attachments.map((a) => (
                <p key={a.url}>
                  <a href={a.url} download={a.name}>
                    {a.name}
                  </a>{' '}
                  <span class="muted">({a.size} bytes)</span>
                </p>
              ))}
            </article>
          ))}
          {error && <ErrorNote error={error} />}
          {ticket.state !== 'closed' && (
            <form
              onSubmit={(event) => {
                event.preventDefault();
                const form = event.target as HTMLFormElement;
                const data = new FormData(form);
                act(
                  'POST',
                  `/api/v1/tickets/${ticket.id}/messages`,
                  { body: data.get('body'), internal: data.get('internal') === 'on' },
                  form,
                );
              }}
            >
              <label>
                Reply (Markdown)
                <textarea name="body" rows={4} required />
              </label>
              {isStaff(me) && (
                <label class="inline">
                  <input type="checkbox" name="internal" /> Internal note (never shown to the customer)
                </label>
              )}
              <button type="submit">Send</button>
            </form>
          )}
          <fieldset class="actions">
            <legend class="visually-hidden">Move the ticket</legend>
            {movesFrom(ticket.state).map((s) => (
              <button
                key={s}
                type="button"
                class="secondary"
                onClick={() => act('POST', `/api/v1/tickets/${ticket.id}/state`, { to: s })}
              >
                Mark {s}
              </button>
            ))}
          </fieldset>
        </>
      )}
    </Show>
  );
}
