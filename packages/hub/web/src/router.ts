/** @module The console's paths, all under /console/, with history navigation and no reload. */

export const BASE = '/console/';

/** The current path inside the console, without BASE and the query: '' for the overview. */
export function currentRoute(): { path: string; query: URLSearchParams } {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '';
  return { path: path.replace(/\/+$/, ''), query: new URLSearchParams(location.search) };
}

const listeners = new Set<() => void>();

/** Goes to `href` (a console path) without a reload, and tells the app. */
export function navigate(href: string): void {
  history.pushState(null, '', href);
  for (const listener of listeners) listener();
  window.scrollTo(0, 0);
}

/** Calls `listener` on every navigation, including back and forward. */
export function onNavigate(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
}

/** Lets plain links inside the console navigate in place (modifier keys and other origins keep their meaning). */
export function captureLinks(root: HTMLElement): void {
  root.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
      return;
    const link = (event.target as Element).closest('a');
    if (!link || link.target || link.origin !== location.origin || !link.pathname.startsWith(BASE)) return;
    if (link.hasAttribute('download') || link.getAttribute('href')?.startsWith('#')) return;
    event.preventDefault();
    navigate(link.pathname + link.search);
  });
}
