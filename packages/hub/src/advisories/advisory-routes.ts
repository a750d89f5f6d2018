import { type Context, Hono } from 'hono';
import { ANY_ROLE, requireRole } from '../http/access.js';
import { markdownField } from '../http/fields.js';
import { HttpError } from '../http/http-error.js';
import type { HubDeps, HubEnv, RouteModule } from '../http/hub-env.js';
import { onlyFields, readJsonObject } from '../http/json-body.js';
import { access, ERROR_RESPONSE, jsonBody, jsonResponse } from '../http/openapi.js';
import { DEFAULT_PACK_SETTINGS } from '../packs/pack-settings.js';
import { storedPackIntel } from '../packs/stored-intel.js';
import type { Db } from '../store/db.js';
import {
  LIMITS,
  type PackApp,
  parseContent,
  resolveProducts,
  revisionSummaryField,
} from './advisory-input.js';
import {
  advisoryIdOf,
  createAdvisory,
  getAdvisory,
  listAdvisories,
  type OnPublished,
  publishAdvisory,
  publishedAdvisories,
  reviseAdvisory,
  trackingIdField,
} from './advisory-store.js';
import { renderMarkdown } from './markdown.js';
import type { AdvisoryContent } from './model.js';
import { authorOf } from './revision-author.js';

const STAFF = ['vendor-staff'] as const;

/**
 * The advisories API: vendor staff create drafts, revise them, publish, and revise what is published (every
 * revision kept, with its author, time and summary); everyone signed in reads what is published, staff read
 * drafts too. Affected products are picked from the apps of packs stored at the hub, so the advisory and the
 * scanner name the same versions.
 */
export function advisoryRoutes(deps: HubDeps, onPublished?: OnPublished): RouteModule {
  const published = publishedAdvisories(deps.db, () => deps.config.publisher.name);
  const content = async (value: unknown): Promise<AdvisoryContent> => {
    const input = parseContent(value);
    const products = await resolveProducts(input.products, (packId) => latestApps(deps, packId));
    await requireStoredPacks(deps.db, input.packs);
    return { ...input, products };
  };

  const routes = new Hono<HubEnv>()
    .get('/api/v1/advisories', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      if (principal.role === 'vendor-staff') return c.json({ advisories: await listAdvisories(deps.db) });
      return c.json({ advisories: await published.list('signed-in') });
    })
    .post('/api/v1/advisories', async (c) => {
      const principal = requireRole(c, STAFF);
      const body = onlyFields(await readJsonObject(c), ['trackingId', 'content']);
      const trackingId = body.trackingId === undefined ? undefined : trackingIdField(body.trackingId);
      const advisory = await createAdvisory(
        deps.db,
        { ...(trackingId ? { trackingId } : {}), content: await content(body.content) },
        await authorOf(deps.db, principal),
        deps.now(),
      );
      return c.json({ advisory }, 201);
    })
    .post('/api/v1/advisories/preview', async (c) => {
      requireRole(c, STAFF);
      const body = onlyFields(await readJsonObject(c), ['markdown']);
      return c.json({ html: renderMarkdown(markdownField(body.markdown, 'markdown', LIMITS.body, true)) });
    })
    .get('/api/v1/advisories/:id', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const id = await advisoryId(deps.db, c);
      if (principal.role === 'vendor-staff') {
        const advisory = await getAdvisory(deps.db, id);
        if (!advisory) throw notFound();
        return c.json({ advisory });
      }
      const advisory = (await published.list('signed-in')).find((a) => a.id === id);
      if (!advisory) throw notFound();
      return c.json({ advisory });
    })
    .put('/api/v1/advisories/:id', async (c) => {
      const principal = requireRole(c, STAFF);
      const id = await advisoryId(deps.db, c);
      const body = onlyFields(await readJsonObject(c), ['baseSeq', 'summary', 'content']);
      const change = {
        baseSeq: baseSeqField(body.baseSeq),
        summary: revisionSummaryField(body.summary),
        content: await content(body.content),
      };
      const author = await authorOf(deps.db, principal);
      return c.json(await reviseAdvisory(deps.db, id, change, author, deps.now(), onPublished));
    })
    .post('/api/v1/advisories/:id/publish', async (c) => {
      const principal = requireRole(c, STAFF);
      const id = await advisoryId(deps.db, c);
      const body = onlyFields(await readJsonObject(c), ['baseSeq', 'summary']);
      const change = {
        baseSeq: baseSeqField(body.baseSeq),
        summary: body.summary === undefined ? 'Initial release.' : revisionSummaryField(body.summary),
      };
      const author = await authorOf(deps.db, principal);
      return c.json(await publishAdvisory(deps.db, id, change, author, deps.now(), onPublished));
    });

  const idParameter = {
    name: 'id',
    in: 'path',
    required: true,
    description: 'The advisory id, or its tracking id',
    schema: { type: 'string' },
  };
  const contentBody = {
    type: 'object',
    required: ['content'],
    properties: {
      trackingId: { type: 'string' },
      content: {
        type: 'object',
        description:
          'title, severity, tlp, status, summary, body, products, remediation, packs, references, cves',
      },
    },
  };
  const revisionBody = {
    type: 'object',
    required: ['baseSeq', 'summary', 'content'],
    properties: {
      baseSeq: { type: 'integer', minimum: 1 },
      summary: { type: 'string' },
      content: { type: 'object' },
    },
  };
  return {
    routes,
    openapi: {
      '/api/v1/advisories/preview': {
        post: {
          summary: "Markdown as an advisory's page shows it (inert HTML), for the editor's live preview",
          ...access(STAFF),
          requestBody: jsonBody({
            type: 'object',
            required: ['markdown'],
            properties: { markdown: { type: 'string' } },
          }),
          responses: { '200': jsonResponse('The HTML'), default: ERROR_RESPONSE },
        },
      },
      '/api/v1/advisories': {
        get: {
          summary: 'Advisories: every one with drafts for vendor staff, the published ones for everyone else',
          ...access(ANY_ROLE),
          responses: { '200': jsonResponse('The advisories'), default: ERROR_RESPONSE },
        },
        post: {
          summary: 'Create a draft advisory (products picked from packs stored at the hub)',
          ...access(STAFF),
          requestBody: jsonBody(contentBody),
          responses: { '201': jsonResponse('The draft'), default: ERROR_RESPONSE },
        },
      },
      '/api/v1/advisories/{id}': {
        get: {
          summary: 'One advisory: every revision for vendor staff, the published revisions for everyone else',
          ...access(ANY_ROLE),
          parameters: [idParameter],
          responses: { '200': jsonResponse('The advisory'), default: ERROR_RESPONSE },
        },
        put: {
          summary:
            'Save a revision edited from `baseSeq` (a published advisory publishes it as its next number)',
          ...access(STAFF),
          parameters: [idParameter],
          requestBody: jsonBody(revisionBody),
          responses: { '200': jsonResponse('The advisory and the new revision'), default: ERROR_RESPONSE },
        },
      },
      '/api/v1/advisories/{id}/publish': {
        post: {
          summary: 'Publish a draft as revision 1',
          ...access(STAFF),
          parameters: [idParameter],
          requestBody: jsonBody({
            type: 'object',
            required: ['baseSeq'],
            properties: { baseSeq: { type: 'integer', minimum: 1 }, summary: { type: 'string' } },
          }),
          responses: { '200': jsonResponse('The advisory and revision 1'), default: ERROR_RESPONSE },
        },
      },
    },
  };
}

/** The apps of the newest stored sequence of a pack. */
async function latestApps(deps: HubDeps, packId: string): Promise<readonly PackApp[] | undefined> {
  const row = await deps.db.get<{ sequence: number | null }>(
    'SELECT MAX(sequence) AS sequence FROM hub_packs WHERE pack_id = ?',
    [packId],
  );
  if (row?.sequence == null) return undefined;
  const intel = await storedPackIntel(
    deps.db,
    deps.config.packs ?? DEFAULT_PACK_SETTINGS,
    packId,
    Number(row.sequence),
  );
  return intel?.apps;
}

/** 400 naming the link when a linked pack version is not stored at the hub. */
async function requireStoredPacks(db: Db, packs: AdvisoryContent['packs']): Promise<void> {
  for (const [index, pack] of packs.entries()) {
    const stored = await db.get('SELECT 1 AS stored FROM hub_packs WHERE pack_id = ? AND sequence = ?', [
      pack.packId,
      pack.sequence,
    ]);
    if (!stored)
      throw new HttpError(
        400,
        'INVALID',
        `content.packs[${index}]: pack ${pack.packId} #${pack.sequence} is not stored at the hub`,
        { field: `content.packs[${index}]` },
      );
  }
}

/** The advisory the path names by id or tracking id: 404 when there is none. */
async function advisoryId(db: Db, c: Context<HubEnv>): Promise<string> {
  const id = await advisoryIdOf(db, c.req.param('id') ?? '');
  if (!id) throw notFound();
  return id;
}

function baseSeqField(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new HttpError(400, 'INVALID', 'baseSeq must be the seq of the revision the edit started from', {
      field: 'baseSeq',
    });
  return value;
}

function notFound(): HttpError {
  return new HttpError(404, 'NOT_FOUND', 'no such advisory');
}
