import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, api } from './api.js';

/** What a page loads: the data once there, or the error that stopped it. */
export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  reload(): void;
}

/** Loads `fetcher()` when `key` changes (a path, a query), keeping the previous data until the new arrives. */
export function useLoad<T>(fetcher: () => Promise<T>, key: string): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    fetcher().then(
      (value) => {
        if (!live) return;
        setData(value);
        setError(undefined);
      },
      (failure: unknown) => {
        if (!live) return;
        setError(failure instanceof ApiError ? failure : new ApiError(0, 'ERROR', String(failure)));
      },
    );
    return () => {
      live = false;
    };
  }, [key, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { data, error, reload };
}

/** The page's content once loaded, its error in an alert, or a loading line. */
export function Show<T>({
  loaded,
  children,
}: {
  loaded: Loaded<T>;
  children: (data: T) => ComponentChildren;
}) {
  if (loaded.error && loaded.data === undefined) return <ErrorNote error={loaded.error} />;
  if (loaded.data === undefined)
    return (
      <p class="muted" aria-live="polite">
        Loading…
      </p>
    );
  return <>{children(loaded.data)}</>;
}

/** An error as one readable line, naming the field when the hub did. */
export function ErrorNote({ error }: { error: ApiError }) {
  return (
    <p class="error" role="alert">
      {error.message}
      {error.field ? ` (${error.field})` : ''}
    </p>
  );
}

/** A table that scrolls sideways on a narrow screen, reachable and scrollable by keyboard. */
export function ScrollTable({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus to be scrolled by keyboard
    <section class="scroll" aria-label={label} tabIndex={0}>
      <table>{children}</table>
    </section>
  );
}

/** The names of the organisations by id, for vendor staff (who see them all); empty for everyone else. */
export function useOrgNames(staff: boolean): Map<string, string> {
  const loaded = useLoad(
    () =>
      staff
        ? api<{ orgs: { id: string; name: string }[] }>('GET', '/api/v1/orgs')
        : Promise.resolve({ orgs: [] }),
    `orgs:${staff}`,
  );
  return new Map((loaded.data?.orgs ?? []).map((o) => [o.id, o.name]));
}
