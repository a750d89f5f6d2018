import { type Context, Hono } from 'hono';
import { conditionalResponse } from '../../http/conditional-get.js';
import type { HubDeps, HubEnv, RouteModule } from '../../http/hub-env.js';
import { access, EVERYONE } from '../../http/openapi.js';
import type { AdvisoryViewer, PublishedAdvisories, PublishedAdvisory } from '../model.js';
import { advisoryPaths } from '../urls.js';
import { type FeedConfig, newestRelease } from './advisory-entry.js';
import { ATOM_TYPE, advisoryAtomFeed } from './atom-feed.js';
import { advisoryRssFeed, RSS_TYPE } from './rss-feed.js';

/** Entries a feed holds: the advisories most recently revised (the pages list every one). */
export const FEED_ENTRY_LIMIT = 100;

/**
 * The Atom and RSS feeds of published advisories, the FEED_ENTRY_LIMIT most recently revised, with conditional
 * GET (ETag of the bytes, Last-Modified the newest current release). Anonymous callers and agents read TLP:WHITE
 * advisories only; signed-in users and API tokens read every label, in a response no shared cache may keep.
 */
export function advisoryFeedRoutes(deps: HubDeps, advisories: PublishedAdvisories): RouteModule {
  const serve = async (
    c: Context<HubEnv>,
    type: string,
    build: (list: PublishedAdvisory[], config: FeedConfig) => string,
  ) => {
    const viewer = viewerOf(c);
    const list = [...(await advisories.list(viewer))]
      .sort((x, y) => Date.parse(y.currentReleaseDate) - Date.parse(x.currentReleaseDate))
      .slice(0, FEED_ENTRY_LIMIT);
    const config = { publicUrl: deps.config.publicUrl, publisher: deps.config.publisher };
    const response = conditionalResponse(c, build(list, config), type, new Date(newestRelease(list)));
    response.headers.set('Vary', 'Authorization, Cookie');
    if (viewer === 'signed-in') response.headers.set('Cache-Control', 'private, no-cache');
    return response;
  };
  const routes = new Hono<HubEnv>()
    .get(advisoryPaths.atom(), (c) => serve(c, ATOM_TYPE, advisoryAtomFeed))
    .get(advisoryPaths.rss(), (c) => serve(c, RSS_TYPE, advisoryRssFeed));
  return { routes, openapi: feedOpenApi() };
}

/** Who reads: users and API tokens are signed in; anonymous callers and agents (host credentials) are not. */
function viewerOf(c: Context<HubEnv>): AdvisoryViewer {
  const kind = c.get('principal')?.kind;
  return kind === 'user' || kind === 'api' ? 'signed-in' : 'public';
}

function feedOpenApi(): RouteModule['openapi'] {
  const feed = (summary: string, type: string) => ({
    get: {
      summary,
      ...access(EVERYONE),
      responses: {
        '200': { description: summary, content: { [type]: { schema: { type: 'string' } } } },
        '304': { description: 'Not modified (If-None-Match, or If-Modified-Since without it)' },
      },
    },
  });
  return {
    [advisoryPaths.atom()]: feed(
      'Atom 1.0 feed of published advisories (TLP:WHITE only unless signed in)',
      'application/atom+xml',
    ),
    [advisoryPaths.rss()]: feed(
      'RSS 2.0 feed of published advisories (TLP:WHITE only unless signed in)',
      'application/rss+xml',
    ),
  };
}
