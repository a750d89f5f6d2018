import { Hono } from 'hono';
import { conditionalResponse } from '../../http/conditional-get.js';
import { HttpError } from '../../http/http-error.js';
import type { HubDeps, HubEnv, RouteModule } from '../../http/hub-env.js';
import { access, ERROR_RESPONSE, EVERYONE } from '../../http/openapi.js';
import { listPacks } from '../../packs/hub-pack-store.js';
import { DEFAULT_PACK_SETTINGS } from '../../packs/pack-settings.js';
import { EMPTY_FEED_UPDATED } from './advisory-entry.js';
import { ATOM_TYPE } from './atom-feed.js';
import { PACK_FEED_ROOT, packAtomFeed, packUpdated } from './pack-atom-feed.js';

const PATH = `${PACK_FEED_ROOT}feed.atom`;

/**
 * `GET /feed/feed.atom`: the Atom feed of every pack version stored at the hub, next to the signed `latest.json`,
 * with conditional GET. Like the rest of `/feed/`, 404 FEED_DISABLED when the hub has no feed key.
 */
export function packAtomFeedRoutes(deps: HubDeps): RouteModule {
  const routes = new Hono<HubEnv>().get(PATH, async (c) => {
    const settings = deps.config.packs ?? DEFAULT_PACK_SETTINGS;
    if (!settings.feedKey)
      throw new HttpError(
        404,
        'FEED_DISABLED',
        'this hub serves no pack feed: it has no feed key (start it with serve --feed-key FILE)',
      );
    const packs = await listPacks(deps.db);
    const body = packAtomFeed(packs, {
      publicUrl: deps.config.publicUrl,
      feedName: settings.feedName,
      publisher: deps.config.publisher,
    });
    const newest = Math.max(
      Date.parse(EMPTY_FEED_UPDATED),
      ...packs.map((pack) => Date.parse(packUpdated(pack))),
    );
    return conditionalResponse(c, body, ATOM_TYPE, new Date(newest));
  });
  return {
    routes,
    openapi: {
      [PATH]: {
        get: {
          summary: 'Atom 1.0 feed of the pack versions at the hub (404 FEED_DISABLED without a feed key)',
          ...access(EVERYONE),
          responses: {
            '200': {
              description: 'The feed',
              content: { 'application/atom+xml': { schema: { type: 'string' } } },
            },
            '304': { description: 'Not modified (If-None-Match, or If-Modified-Since without it)' },
            '404': ERROR_RESPONSE,
          },
        },
      },
    },
  };
}
