import { type Context, Hono } from 'hono';
import { HttpError } from '../http/http-error.js';
import type { HubEnv, RouteModule } from '../http/hub-env.js';
import { access, ERROR_RESPONSE, EVERYONE } from '../http/openapi.js';
import type { ConsoleAsset } from './console-assets.js';

const SLUG = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * The web console (a PWA) at /console/: its built files, and the HTML shell for every other path below it (the
 * app routes in the browser). `/` and the forum links of refusals (`/forum/SLUG`) lead into it. Files are
 * revalidated on each load (ETag) and sent brotli or gzip compressed when the browser accepts it.
 */
export function consoleRoutes(assets: Map<string, ConsoleAsset> | undefined): RouteModule {
  const send = (c: Context<HubEnv>, asset: ConsoleAsset) => {
    const headers: Record<string, string> = {
      'Content-Type': asset.type,
      'Cache-Control': 'no-cache',
      ETag: asset.etag,
      Vary: 'Accept-Encoding',
    };
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
    const accepted = c.req.header('accept-encoding') ?? '';
    if (/\bbr\b/.test(accepted))
      return c.body(new Uint8Array(asset.brotli), 200, { ...headers, 'Content-Encoding': 'br' });
    if (/\bgzip\b/.test(accepted))
      return c.body(new Uint8Array(asset.gzip), 200, { ...headers, 'Content-Encoding': 'gzip' });
    return c.body(new Uint8Array(asset.body), 200, headers);
  };
  const built = () => {
    if (!assets)
      throw new HttpError(503, 'CONSOLE_NOT_BUILT', 'the console is not built: run npm run build', {});
    return assets;
  };
  const routes = new Hono<HubEnv>()
    .get('/', (c) => c.redirect('/console/', 302))
    .get('/console', (c) => c.redirect('/console/', 301))
    .get('/forum/:slug', (c) => {
      const slug = c.req.param('slug');
      if (!SLUG.test(slug)) throw new HttpError(404, 'NOT_FOUND', 'no such page');
      return c.redirect(`/console/forum/incidents/${slug}`, 302);
    })
    .get('/console/', (c) => send(c, built().get('index.html') as ConsoleAsset))
    .get('/console/:path{.+}', (c) => {
      const files = built();
      const path = c.req.path.slice('/console/'.length);
      const asset = files.get(path);
      if (asset) return send(c, asset);
      if (path.startsWith('assets/') || path.includes('.'))
        throw new HttpError(404, 'NOT_FOUND', 'no such file');
      return send(c, files.get('index.html') as ConsoleAsset);
    });
  const page = (summary: string) => ({
    get: {
      summary,
      ...access(EVERYONE),
      responses: {
        '200': { description: 'The console', content: { 'text/html': {} } },
        default: ERROR_RESPONSE,
      },
    },
  });
  return {
    routes,
    openapi: {
      '/': page('Leads to the console'),
      '/console': page('Leads to the console'),
      '/console/': page('The web console (an installable PWA); it signs in with the session cookie'),
      '/console/{path}': {
        get: {
          ...page('A console file, or the console shell for one of its pages').get,
          parameters: [{ name: 'path', in: 'path', required: true, schema: { type: 'string' } }],
        },
      },
      '/forum/{slug}': {
        get: {
          ...page("Leads to an incident's forum thread in the console (the link of a refused ticket)").get,
          parameters: [{ name: 'slug', in: 'path', required: true, schema: { type: 'string' } }],
        },
      },
    },
  };
}
