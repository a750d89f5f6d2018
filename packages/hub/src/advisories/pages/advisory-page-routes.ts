import { type Context, Hono } from 'hono';
import { validatorsOf } from '../../http/conditional-get.js';
import { HttpError } from '../../http/http-error.js';
import type { HubDeps, HubEnv, RouteModule } from '../../http/hub-env.js';
import { access, ERROR_RESPONSE, EVERYONE } from '../../http/openapi.js';
import type { AdvisoryViewer, PublishedAdvisories, PublishedAdvisory, PublishedRevision } from '../model.js';
import { advisoryPaths } from '../urls.js';
import { advisoryPage, type RevisionReadable } from './advisory-view.js';
import { revisionDiffPage } from './diff-view.js';
import { htmlDocument, type PageContent } from './layout.js';
import { advisoryListPage } from './list-view.js';
import { PAGES_CSS } from './pages-css.js';

/** A slug in a page path: never matches `feed.atom`, `feed.rss` or `pages.css` (another module serves the feeds). */
const SLUG = ':slug{[A-Za-z0-9+_-]+}';
const REVISION_NUMBER = /^[1-9][0-9]{0,8}$/;
/** Longer than any slug a tracking id gives: not looked up at all. */
const MAX_SLUG_LENGTH = 200;
const CSS_ETAG = validatorsOf(PAGES_CSS, new Date(0)).etag;

/**
 * The published advisories as HTML pages readable with no JavaScript: the list, each advisory's current revision,
 * any earlier revision, and the difference between two revisions. Anonymous callers and agents read TLP:WHITE
 * only; a page the caller may not read is 404, as if it did not exist.
 */
export function advisoryPageRoutes(deps: HubDeps, advisories: PublishedAdvisories): RouteModule {
  const respond = (c: Context<HubEnv>, viewer: AdvisoryViewer, page: PageContent) =>
    c.body(htmlDocument(page, deps.config.publisher.name), 200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': viewer === 'public' ? 'no-cache' : 'private, no-cache',
      Vary: 'Authorization, Cookie',
    });

  /** The advisory named by the path, if the caller may read it (and it has a revision): 404 otherwise. */
  const readable = async (c: Context<HubEnv>, viewer: AdvisoryViewer): Promise<PublishedAdvisory> => {
    const slug = c.req.param('slug') ?? '';
    const advisory = slug.length <= MAX_SLUG_LENGTH ? await advisories.get(slug, viewer) : undefined;
    if (!advisory?.revisions.length)
      throw new HttpError(404, 'NOT_FOUND', `no published advisory ${JSON.stringify(slug.slice(0, 64))}`);
    return advisory;
  };
  /** A redirect to `path` when the path spelled the slug otherwise (`CSW-2023-0001`), else nothing. */
  const canonical = (c: Context<HubEnv>, advisory: PublishedAdvisory, path: string) =>
    c.req.param('slug') === advisory.slug ? undefined : c.redirect(path, 301);

  const routes = new Hono<HubEnv>()
    .get('/advisories/pages.css', (c) => {
      const headers = { ETag: CSS_ETAG, 'Cache-Control': 'public, max-age=86400' };
      const sent = c.req.header('if-none-match');
      if (sent?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === CSS_ETAG))
        return c.body(null, 304, headers);
      return c.body(PAGES_CSS, 200, { ...headers, 'Content-Type': 'text/css; charset=utf-8' });
    })
    .get('/advisories', async (c) => {
      const viewer = viewerOf(c);
      return respond(
        c,
        viewer,
        advisoryListPage(
          (await advisories.list(viewer)).filter((a) => a.revisions.length),
          viewer === 'signed-in',
        ),
      );
    })
    .get(`/advisories/${SLUG}`, async (c) => {
      const viewer = viewerOf(c);
      const advisory = await readable(c, viewer);
      const current = advisory.revisions.at(-1) as PublishedRevision;
      return (
        canonical(c, advisory, advisoryPaths.page(advisory.slug)) ??
        respond(c, viewer, advisoryPage(advisory, current, revisionReadable(viewer)))
      );
    })
    .get(`/advisories/${SLUG}/revisions/:number{[0-9]+}`, async (c) => {
      const viewer = viewerOf(c);
      const advisory = await readable(c, viewer);
      const text = c.req.param('number');
      const revision = REVISION_NUMBER.test(text)
        ? advisory.revisions.find((r) => r.number === Number(text))
        : undefined;
      if (!revision)
        throw new HttpError(
          404,
          'NOT_FOUND',
          `${advisory.trackingId} has no revision ${JSON.stringify(text.slice(0, 16))} (it has 1 to ${advisory.revisions.length})`,
        );
      if (!revisionReadable(viewer)(revision)) throw notPublic(advisory, revision);
      return (
        canonical(c, advisory, advisoryPaths.revision(advisory.slug, revision.number)) ??
        respond(c, viewer, advisoryPage(advisory, revision, revisionReadable(viewer)))
      );
    })
    .get(`/advisories/${SLUG}/diff`, async (c) => {
      const viewer = viewerOf(c);
      const from = revisionNumberParam(c.req.query('from'), 'from');
      const to = revisionNumberParam(c.req.query('to'), 'to');
      const advisory = await readable(c, viewer);
      const count = advisory.revisions.length;
      const revision = (number: number, field: 'from' | 'to') => {
        const found = advisory.revisions.find((r) => r.number === number);
        if (!found)
          throw new HttpError(
            400,
            'INVALID',
            `${field}=${number} is not a revision of ${advisory.trackingId} (it has 1 to ${count})`,
            { field },
          );
        return found;
      };
      const before = revision(from, 'from');
      const after = revision(to, 'to');
      for (const [field, r] of [
        ['from', before],
        ['to', after],
      ] as const)
        if (!revisionReadable(viewer)(r)) throw notPublic(advisory, r, field);
      if (from >= to)
        throw new HttpError(400, 'INVALID', `to=${to} must be a later revision than from=${from}`, {
          field: 'to',
        });
      return (
        canonical(c, advisory, advisoryPaths.diff(advisory.slug, from, to)) ??
        respond(c, viewer, revisionDiffPage(advisory, before, after))
      );
    });

  return { routes, openapi: pageOpenApi() };
}

/** Signed-in users and API tokens read every label; anonymous callers and agents (host credentials) public ones. */
function viewerOf(c: Context<HubEnv>): AdvisoryViewer {
  const principal = c.get('principal');
  return principal && (principal.kind === 'user' || principal.kind === 'api') ? 'signed-in' : 'public';
}

/** Revisions a viewer may open: all when signed in, else those published as TLP:WHITE (not only the current one). */
function revisionReadable(viewer: AdvisoryViewer): RevisionReadable {
  return (revision) => viewer === 'signed-in' || revision.content.tlp === 'WHITE';
}

/** 404 for an earlier revision a public viewer may not open (its existence is no secret: the history lists it). */
function notPublic(
  advisory: PublishedAdvisory,
  revision: PublishedRevision,
  field?: 'from' | 'to',
): HttpError {
  return new HttpError(
    404,
    'NOT_FOUND',
    `revision ${revision.number} of ${advisory.trackingId} was published as TLP:${revision.content.tlp}: sign in to read it`,
    field ? { field } : {},
  );
}

/** A `from` or `to` query value: a revision number, else 400 naming the field. */
function revisionNumberParam(value: string | undefined, field: 'from' | 'to'): number {
  if (value === undefined || value === '')
    throw new HttpError(400, 'INVALID', `${field} is required: the number of a revision`, { field });
  if (!REVISION_NUMBER.test(value))
    throw new HttpError(
      400,
      'INVALID',
      `${field} must be a revision number (1, 2, ...), not ${JSON.stringify(value.slice(0, 32))}`,
      { field },
    );
  return Number(value);
}

function pageOpenApi(): RouteModule['openapi'] {
  const page = (summary: string, parameters: Record<string, unknown>[], errors: string[]) => ({
    get: {
      summary,
      ...access(EVERYONE),
      ...(parameters.length ? { parameters } : {}),
      responses: {
        '200': { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } },
        ...Object.fromEntries(errors.map((status) => [status, ERROR_RESPONSE])),
      },
    },
  });
  const slug = {
    name: 'slug',
    in: 'path',
    required: true,
    description: 'The lower-case tracking id (another spelling is redirected)',
    schema: { type: 'string', pattern: '^[A-Za-z0-9+_-]+$' },
  };
  const number = (name: string, where: 'path' | 'query', description: string) => ({
    name,
    in: where,
    required: true,
    description,
    schema: { type: 'integer', minimum: 1 },
  });
  return {
    '/advisories': page(
      'Published advisories the caller may read (TLP:WHITE only unless signed in), newest update first',
      [],
      [],
    ),
    '/advisories/pages.css': {
      get: {
        summary: 'The stylesheet of the advisory pages',
        ...access(EVERYONE),
        responses: {
          '200': { description: 'CSS', content: { 'text/css': { schema: { type: 'string' } } } },
          '304': { description: 'Not modified (If-None-Match)' },
        },
      },
    },
    '/advisories/{slug}': page(
      "An advisory's current revision, with its history and links to packs, CSAF and feeds",
      [slug],
      ['404'],
    ),
    '/advisories/{slug}/revisions/{number}': page(
      'One revision of an advisory as it was published',
      [slug, number('number', 'path', 'The revision number, from 1')],
      ['404'],
    ),
    '/advisories/{slug}/diff': page(
      'What changed between two revisions: field by field, and the body line by line',
      [
        slug,
        number('from', 'query', 'The earlier revision'),
        number('to', 'query', 'The later revision (greater than from)'),
      ],
      ['400', '404'],
    ),
  };
}
