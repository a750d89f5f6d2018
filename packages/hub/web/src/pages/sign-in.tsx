import { useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import type { Me } from '../app.js';
import { ErrorNote } from '../load.js';

/** The sign-in form: email and password make a session cookie and its CSRF token. */
export function SignIn({ onSignedIn }: { onSignedIn(me: Me): void }) {
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    setBusy(true);
    try {
      await api('POST', '/api/v1/session', { email: form.get('email'), password: form.get('password') });
      onSignedIn(await api<Me>('GET', '/api/v1/me'));
    } catch (failure) {
      setError(failure instanceof ApiError ? failure : new ApiError(0, 'ERROR', String(failure)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1>Sign in to chainsweep</h1>
      <form onSubmit={submit}>
        <label>
          Email
          <input name="email" type="email" autocomplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        {error && <ErrorNote error={error} />}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
