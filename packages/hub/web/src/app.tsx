import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, dataAge, setCsrfToken } from './api.js';
import { ago } from './format.js';
import { AdminPage } from './pages/admin.js';
import { AdvisoriesPage } from './pages/advisories.js';
import { AdvisoryEditorPage } from './pages/advisory-editor.js';
import { ForumPage, ThreadPage } from './pages/forum.js';
import { HostPage } from './pages/host.js';
import { HostsPage } from './pages/hosts.js';
import { OverviewPage } from './pages/overview.js';
import { SignIn } from './pages/sign-in.js';
import { NewTicketPage, TicketPage, TicketsPage } from './pages/tickets.js';
import { BASE, currentRoute, navigate, onNavigate } from './router.js';

/** Who is signed in, as `GET /api/v1/me` says. */
export interface Me {
  principal: { kind: string; role: string; orgId: string; userId?: string; email?: string };
  csrfToken?: string;
}

const PAGES: { path: RegExp; title: string; page: (match: string[], me: Me) => preact.JSX.Element }[] = [
  { path: /^$/, title: 'Fleet overview', page: (_, me) => <OverviewPage me={me} /> },
  {
    path: /^hosts$/,
    title: 'Hosts',
    page: (_, me) => <HostsPage staff={me.principal.role === 'vendor-staff'} />,
  },
  { path: /^hosts\/([^/]+)$/, title: 'Host', page: ([id]) => <HostPage id={id as string} /> },
  { path: /^advisories$/, title: 'Advisories', page: (_, me) => <AdvisoriesPage me={me} /> },
  {
    path: /^advisories\/new$/,
    title: 'New advisory',
    page: (_, me) =>
      me.principal.role === 'vendor-staff' ? (
        <AdvisoryEditorPage />
      ) : (
        <p>Only vendor staff write advisories.</p>
      ),
  },
  { path: /^forum$/, title: 'Forum', page: () => <ForumPage /> },
  {
    path: /^forum\/threads\/([^/]+)$/,
    title: 'Forum thread',
    page: ([id], me) => (
      <ThreadPage
        source={`/api/v1/forum/threads/${encodeURIComponent(id as string)}`}
        staff={me.principal.role === 'vendor-staff'}
      />
    ),
  },
  {
    path: /^forum\/incidents\/([^/]+)$/,
    title: 'Incident thread',
    page: ([slug], me) => (
      <ThreadPage
        source={`/api/v1/forum/incidents/${encodeURIComponent(slug as string)}`}
        staff={me.principal.role === 'vendor-staff'}
      />
    ),
  },
  { path: /^tickets$/, title: 'Tickets', page: (_, me) => <TicketsPage me={me} /> },
  { path: /^tickets\/new$/, title: 'Open a ticket', page: (_, me) => <NewTicketPage me={me} /> },
  {
    path: /^tickets\/([^/]+)$/,
    title: 'Ticket',
    page: ([id], me) => <TicketPage id={id as string} me={me} />,
  },
  { path: /^admin$/, title: 'Admin', page: (_, me) => <AdminPage me={me} /> },
];

const NAV = [
  ['', 'Overview'],
  ['hosts', 'Hosts'],
  ['advisories', 'Advisories'],
  ['forum', 'Forum'],
  ['tickets', 'Tickets'],
  ['admin', 'Admin'],
] as const;

/** Deletes the API answers the service worker saved for offline use (the shell stays). */
async function forgetSavedData(): Promise<void> {
  if ('caches' in window) await caches.delete('chainsweep-data');
}

/** The console: sign-in until there is a session, then the page of the current path inside the shell. */
export function App() {
  const [me, setMe] = useState<Me | null>();
  const [route, setRoute] = useState(currentRoute());
  const [age, setAge] = useState(dataAge.fetchedAt);
  const [signOutError, setSignOutError] = useState<string>();
  useEffect(() => onNavigate(() => setRoute(currentRoute())), []);
  useEffect(() => {
    const listener = () => setAge(dataAge.fetchedAt);
    dataAge.listeners.add(listener);
    return () => dataAge.listeners.delete(listener);
  }, []);
  useEffect(() => {
    api<Me>('GET', '/api/v1/me').then(
      (found) => {
        setCsrfToken(found.csrfToken);
        setMe(found);
      },
      (error: unknown) => {
        // A session that ended (expired, revoked) leaves nothing behind for whoever signs in next.
        if (error instanceof ApiError && error.status === 401) forgetSavedData();
        setMe(null);
      },
    );
  }, []);
  const matched = PAGES.map((p) => ({ p, m: p.path.exec(route.path) })).find((x) => x.m);
  useEffect(() => {
    document.title = `${matched?.p.title ?? 'Not found'} · chainsweep`;
    document.getElementById('main')?.focus();
  }, [route.path]);
  if (me === undefined) return <p class="loading">Loading the console…</p>;
  if (me === null)
    return (
      <SignIn
        onSignedIn={async (found) => {
          await forgetSavedData();
          setCsrfToken(found.csrfToken);
          setMe(found);
        }}
      />
    );
  const signOut = async () => {
    try {
      await api('DELETE', '/api/v1/session');
    } catch (error) {
      // Unless the hub says the session is already gone, it still holds: say so rather than seem signed out.
      if (!(error instanceof ApiError && error.status === 401)) {
        setSignOutError('Not signed out: the hub cannot be reached. Try again when it can.');
        return;
      }
    }
    setSignOutError(undefined);
    await forgetSavedData();
    setCsrfToken(undefined);
    setMe(null);
    navigate(BASE);
  };
  const section = route.path.split('/')[0] ?? '';
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={BASE}>
          chainsweep
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.filter(([path]) => path !== 'admin' || me.principal.role !== 'org-member').map(
              ([path, label]) => (
                <li key={path}>
                  <a href={BASE + path} aria-current={section === path ? 'page' : undefined}>
                    {label}
                  </a>
                </li>
              ),
            )}
          </ul>
        </nav>
        <span class="who">
          {me.principal.email ?? me.principal.role}
          <button type="button" class="link" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      {signOutError && (
        <p class="error" role="alert">
          {signOutError}
        </p>
      )}
      {age && (
        <p class="offline" role="status">
          Offline: showing data saved {ago(age)} ({new Date(age).toLocaleString()}).
        </p>
      )}
      <main id="main" tabIndex={-1}>
        {matched ? (
          matched.p.page(matched.m?.slice(1) ?? [], me)
        ) : (
          <>
            <h1>Not found</h1>
            <p>
              No console page at this address. <a href={BASE}>Back to the overview</a>.
            </p>
          </>
        )}
      </main>
    </>
  );
}
