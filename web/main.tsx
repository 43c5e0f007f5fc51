// The operator console: signs in with an API key (the server keeps it; the browser gets an HttpOnly session cookie
// and a CSRF token), then routes by the URL's hash to the incidents list, an incident, drills and reports.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiFailure, type Session, api, setCsrfToken } from './api';
import { DrillsPage, DrillRunPage } from './drills';
import { IncidentPage } from './incident';
import { IncidentsPage } from './incidents';
import { ReportsPage } from './reports';
import { Failure } from './ui';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const update = () => setHash(location.hash);
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return hash;
}

function SignIn({ onSignedIn, ended }: { onSignedIn: (s: Session) => void; ended?: string }) {
  const [error, setError] = useState<ApiFailure>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const key = String(new FormData(form).get('key') ?? '').trim();
    setBusy(true);
    try {
      onSignedIn(await api<Session>('/console/session', { body: { key } }));
    } catch (e) {
      setError(e as ApiFailure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <h1>Incident console</h1>
      <form class="card" onSubmit={submit} aria-label="Sign in">
        <label for="sign-in-key">API key</label>
        <input id="sign-in-key" name="key" type="password" autocomplete="current-password" required autoFocus />
        <p class="hint">
          A key from <code>npx incident-engine apikey create</code>, or the first commander key in{' '}
          <code>.data/admin-key.txt</code>. It stays on the server; this browser keeps only a session cookie.
        </p>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in...' : 'Sign in'}
        </button>
        {ended ? <p class="why">{ended}</p> : null}
        <Failure error={error} />
      </form>
    </main>
  );
}

const NAV = [
  ['#/incidents', 'Incidents'],
  ['#/drills', 'Drills'],
  ['#/reports', 'Reports'],
] as const;

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const hash = useHash();
  const path = hash.replace(/^#/, '') || '/incidents';
  const [route, query = ''] = path.split('?');
  const parts = (route ?? '').split('/').filter(Boolean).map(decodeURIComponent);
  let page;
  if (parts[0] === 'incidents' && parts[1]) page = <IncidentPage id={parts[1]} session={session} />;
  else if (parts[0] === 'drills' && parts[1] === 'runs' && parts[2]) page = <DrillRunPage runId={parts[2]} />;
  else if (parts[0] === 'drills') page = <DrillsPage session={session} />;
  else if (parts[0] === 'reports') page = <ReportsPage session={session} what={parts[1]} id={parts[2]} />;
  else page = <IncidentsPage session={session} query={query} />;
  useEffect(() => {
    // Move focus to the new page's heading, so keyboard and screen-reader users land on it.
    (document.querySelector('main h1') as HTMLElement | null)?.focus();
  }, [parts[0], parts[1]]);
  return (
    <>
      <header class="top">
        <a class="brand" href="#/incidents">
          Incident console
        </a>
        <nav aria-label="Main">
          {NAV.map(([href, label]) => (
            <a href={href} aria-current={`#/${parts[0] ?? 'incidents'}` === href ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who">
          {session.name} <span class="role">{session.role}</span>
        </span>
        <button type="button" class="quiet" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main>{page}</main>
    </>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>();
  const [ended, setEnded] = useState<string>();
  useEffect(() => {
    api<Session>('/console/session')
      .then((s) => {
        setCsrfToken(s.csrf);
        setSession(s);
      })
      .catch((e: ApiFailure) => {
        if (e.status === 401 && /session/.test(e.message)) setEnded(e.message);
        setSession(null);
      });
  }, []);
  if (session === undefined) return <p class="loading">Loading...</p>;
  if (session === null)
    return (
      <SignIn
        ended={ended}
        onSignedIn={(s) => {
          setCsrfToken(s.csrf);
          setSession(s);
        }}
      />
    );
  return (
    <Shell
      session={session}
      onSignOut={() => {
        void api('/console/sign-out', { body: {} }).finally(() => {
          setCsrfToken(undefined);
          setSession(null);
        });
      }}
    />
  );
}

const root = document.getElementById('app')!;
root.textContent = '';
render(<App />, root);
