/// <reference lib="webworker" />
/** @module The console's service worker: the shell from its cache, and the last fleet data when the hub is away. */

declare const SHELL_VERSION: string;
declare const self: ServiceWorkerGlobalScope;

const SHELL_CACHE = `chainsweep-shell-${SHELL_VERSION}`;
const DATA_CACHE = 'chainsweep-data';
const SHELL = [
  '/console/',
  '/console/assets/app.js',
  '/console/assets/app.css',
  '/console/manifest.webmanifest',
  '/console/assets/icon-192.png',
  '/console/assets/icon-512.png',
];
/** API reads kept for offline use: who is signed in, the fleet, hosts, advisories, tickets. */
const KEPT = /^\/api\/v1\/(me|fleet\/summary|hosts(\/[^/]+)?|advisories|tickets(\/[^/]+)?|incidents)$/;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names
            .filter((n) => n.startsWith('chainsweep-shell-') && n !== SHELL_CACHE)
            .map((n) => caches.delete(n)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && url.pathname.startsWith('/console')) {
    event.respondWith(
      fetch(request).catch(
        async () => (await caches.match('/console/', { cacheName: SHELL_CACHE })) ?? Response.error(),
      ),
    );
  } else if (url.pathname.startsWith('/console/')) {
    event.respondWith(caches.match(request, { cacheName: SHELL_CACHE }).then((hit) => hit ?? fetch(request)));
  } else if (KEPT.test(url.pathname)) {
    event.respondWith(networkThenSaved(request));
  }
});

/** The hub's answer, saved with the time it came; when the hub cannot be reached, the saved one, marked offline. */
async function networkThenSaved(request: Request): Promise<Response> {
  const cache = await caches.open(DATA_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) {
      const headers = new Headers(response.headers);
      headers.set('x-console-fetched-at', new Date().toISOString());
      await cache.put(
        request,
        new Response(await response.clone().blob(), { status: response.status, headers }),
      );
    }
    return response;
  } catch {
    const saved = await cache.match(request);
    if (!saved) {
      return new Response(
        JSON.stringify({
          error: {
            code: 'OFFLINE',
            message: 'The hub cannot be reached, and this page was not saved for offline use.',
          },
        }),
        {
          status: 503,
          headers: { 'content-type': 'application/json', 'x-console-offline': '1' },
        },
      );
    }
    const headers = new Headers(saved.headers);
    headers.set('x-console-offline', '1');
    return new Response(await saved.blob(), { status: saved.status, headers });
  }
}
