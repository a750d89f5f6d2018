import { UserError } from 'chainsweep/core/errors.js';
import { MAX_ARCHIVE_BYTES } from 'chainsweep/packs/archive.js';
import type { TrustedKey } from 'chainsweep/packs/keys.js';
import { readPackContent } from 'chainsweep/packs/pack-content.js';
import { verifyPackArchive } from 'chainsweep/packs/verify-pack.js';
import { type Context, Hono } from 'hono';
import { advisoryToLink, linkPackToAdvisory } from '../advisories/pack-link.js';
import { authorOf } from '../advisories/revision-author.js';
import { recomputeHostState } from '../fleet/states.js';
import { ANY_ROLE, requireRole } from '../http/access.js';
import { HttpError } from '../http/http-error.js';
import type { HubDeps, HubEnv, RouteModule } from '../http/hub-env.js';
import { access, ERROR_RESPONSE, EVERYONE, jsonResponse } from '../http/openapi.js';
import { scopeOf } from '../tenancy.js';
import { advisoryWebhookEvents, packWebhookEvent } from '../webhooks/hub-events.js';
import { archivePath, currentPublication, etagOf, publishFromStore } from './hub-feed.js';
import { insertPack, listPacks, PACKS_LOCK, packWithArchive } from './hub-pack-store.js';
import { DEFAULT_PACK_SETTINGS } from './pack-settings.js';
import {
  CLAIM_TIMEOUT_MS,
  getRun,
  pendingRuns,
  queueRetroHunt,
  type RetroHuntContext,
  runRetroHunt,
  runsByPack,
} from './retro-hunt.js';

const STAFF = ['vendor-staff'] as const;
/** What an uploaded archive may be sent as. */
const ARCHIVE_TYPES = /^application\/(gzip|x-gzip|octet-stream)\s*(;|$)/i;
/** A feed archive's name: `<pack id>-<sequence>.tar.gz`. */
const ARCHIVE_NAME = /^([a-z0-9][a-z0-9.-]*)-(\d{1,15})\.tar\.gz$/;
/** Archives kept in memory for the feed (immutable, so every process may cache them). */
const ARCHIVE_CACHE_BYTES = 64 * 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Signed packs at the hub: vendor staff upload a pack archive (verified in memory against the hub's keyring,
 * rollback refused), which is stored, published in the hub's signed feed and retro-hunted over every host's
 * stored facts in the background; the feed at `/feed/` is the static layout `packs update --feed` reads.
 */
export function packRoutes(deps: HubDeps): RouteModule {
  const settings = deps.config.packs ?? DEFAULT_PACK_SETTINGS;
  const hunt: RetroHuntContext = {
    db: deps.db,
    settings,
    now: deps.now,
    recompute: (tx, orgId, hostId) =>
      recomputeHostState(tx, orgId, hostId, deps.now(), { defaultStaleDays: deps.config.staleDays }),
  };
  const running = new Map<string, Promise<unknown>>();
  /** Starts the run in this process unless it already runs here; another process may hold it (then nothing). */
  const kick = (runId: string) => {
    if (running.has(runId)) return;
    const done = runRetroHunt(hunt, runId)
      .catch(() => undefined)
      .finally(() => running.delete(runId));
    running.set(runId, done);
  };
  const archives = archiveCache();

  const routes = new Hono<HubEnv>()
    .post('/api/v1/packs', async (c) => {
      const principal = requireRole(c, STAFF);
      const advisoryParam = c.req.queries('advisory');
      if (advisoryParam && advisoryParam.length !== 1)
        throw new HttpError(400, 'INVALID', 'advisory must be given once', { field: 'advisory' });
      const advisoryId = advisoryParam ? await advisoryToLink(deps.db, advisoryParam[0] ?? '') : undefined;
      const bytes = await readArchiveBody(c, Math.min(deps.config.maxBodyBytes, MAX_ARCHIVE_BYTES));
      const now = deps.now();
      const { pack, intel } = await verifyUpload(bytes, settings.keyring, now);
      const by = principal.kind === 'user' ? `user:${principal.userId}` : `token:${principal.tokenId}`;
      const { stored, run } = await deps.db.transaction(
        async (tx) => {
          const stored = await insertPack(tx, pack, bytes, { by, at: now });
          const run = await queueRetroHunt(tx, stored, now);
          await packWebhookEvent(tx, deps, stored);
          if (settings.feedKey) await publishFromStore(tx, { ...settings, feedKey: settings.feedKey }, now);
          return { stored, run };
        },
        { lock: PACKS_LOCK },
      );
      setImmediate(() => kick(run.id));
      const linked = advisoryId
        ? await linkPackToAdvisory(
            deps.db,
            advisoryId,
            { id: stored.id, sequence: stored.sequence, apps: intel.apps },
            await authorOf(deps.db, principal),
            now,
            advisoryWebhookEvents(deps),
          )
        : undefined;
      return c.json(
        {
          pack: stored,
          advisory: linked && advisoryParam ? { trackingId: advisoryParam[0], revision: linked } : null,
          counts: intel.packs[0]?.counts ?? {},
          stale: pack.stale,
          feed: settings.feedKey ? archivePath(stored.id, stored.sequence) : null,
          retroHunt: { ...run, href: `/api/v1/retro-hunts/${run.id}` },
        },
        201,
        { location: `/api/v1/retro-hunts/${run.id}` },
      );
    })
    .get('/api/v1/packs', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const staff = principal.role === 'vendor-staff';
      const runs = await runsByPack(deps.db);
      const packs = (await listPacks(deps.db)).map(({ uploadedBy, ...p }) => {
        const run = runs.get(`${p.id}#${p.sequence}`);
        return {
          ...p,
          ...(staff ? { uploadedBy } : {}),
          retroHunt: run ? { id: run.id, status: run.status, href: `/api/v1/retro-hunts/${run.id}` } : null,
        };
      });
      return c.json({ packs });
    })
    .get('/api/v1/retro-hunts/:id', async (c) => {
      const principal = requireRole(c, ANY_ROLE);
      const id = c.req.param('id');
      const scope = scopeOf(principal);
      const run = UUID.test(id)
        ? await getRun(deps.db, id, scope.kind === 'org' ? scope.orgId : undefined)
        : undefined;
      if (!run) throw new HttpError(404, 'NOT_FOUND', `no retro-hunt ${JSON.stringify(id.slice(0, 64))}`);
      // A run left by a process that stopped is picked up by whoever asks after it.
      if (run.status === 'queued' || run.status === 'running')
        if ((await pendingRuns(deps.db, deps.now())).includes(run.id)) kick(run.id);
      return c.json(run);
    })
    .get('/feed/latest.json', async (c) => {
      const publication = await feedPublication();
      return conditional(c, publication.index, publication.etag, 'application/json', 'no-cache');
    })
    .get('/feed/latest.json.sig', async (c) => {
      const publication = await feedPublication();
      return conditional(
        c,
        publication.signature,
        etagOf(publication.signature),
        'application/json',
        'no-cache',
      );
    })
    .get('/feed/keys.json', (c) => keyListFile(c, 'bytes'))
    .get('/feed/keys.json.sig', (c) => keyListFile(c, 'signature'))
    .get('/feed/packs/:file', async (c) => {
      feedKeyOrFail();
      const match = ARCHIVE_NAME.exec(c.req.param('file'));
      const id = match?.[1] as string;
      const sequence = Number(match?.[2]);
      const bytes =
        match && Number.isSafeInteger(sequence)
          ? await archives.get(
              `${id}-${sequence}`,
              async () => (await packWithArchive(deps.db, id, sequence))?.archive,
            )
          : undefined;
      if (!bytes) throw new HttpError(404, 'NOT_FOUND', 'no such pack archive in the feed');
      return conditional(c, bytes, etagOf(bytes), 'application/gzip', 'public, max-age=31536000, immutable');
    });

  function feedKeyOrFail(): NonNullable<typeof settings.feedKey> {
    if (!settings.feedKey)
      throw new HttpError(
        404,
        'FEED_DISABLED',
        'this hub serves no pack feed: it has no feed key (start it with serve --feed-key FILE)',
      );
    return settings.feedKey;
  }

  async function feedPublication() {
    const feedKey = feedKeyOrFail();
    return currentPublication(deps.db, { ...settings, feedKey }, deps.now());
  }

  function keyListFile(c: Context<HubEnv>, part: 'bytes' | 'signature') {
    feedKeyOrFail();
    if (!settings.keyList) throw new HttpError(404, 'NOT_FOUND', 'this feed has no key list');
    const bytes = settings.keyList[part];
    return conditional(c, bytes, etagOf(bytes), 'application/json', 'no-cache');
  }

  // Runs a process left unfinished (killed, or shut down mid-run) are taken up when this one starts, and
  // whenever their claim lapses while it runs.
  const resume = () => {
    pendingRuns(deps.db, deps.now())
      .then((ids) => {
        for (const id of ids) kick(id);
      })
      .catch(() => undefined);
  };
  setImmediate(resume);
  setInterval(resume, CLAIM_TIMEOUT_MS).unref();

  return { routes, openapi: packOpenApi() };
}

/** The upload's body: an archive type, not empty, within `max` bytes (413 from the app's limit or here). */
async function readArchiveBody(c: Context<HubEnv>, max: number): Promise<Buffer> {
  if (!ARCHIVE_TYPES.test(c.req.header('content-type') ?? ''))
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'send the pack archive (what packs export writes) as application/gzip',
    );
  const encoding = c.req.header('content-encoding');
  if (encoding && encoding.toLowerCase() !== 'identity')
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the archive as it is, without Content-Encoding');
  const bytes = Buffer.from(await c.req.arrayBuffer());
  if (bytes.length > max)
    throw new HttpError(413, 'TOO_LARGE', `a pack archive may have at most ${max} bytes`);
  if (bytes.length === 0) throw new HttpError(400, 'PACK_INVALID', 'the body is empty: send a pack archive');
  return bytes;
}

/** Verifies the archive (signature, key validity, digests, freshness) and reads its content: 400 naming the problem. */
async function verifyUpload(bytes: Buffer, keyring: readonly TrustedKey[], now: Date) {
  try {
    const pack = await verifyPackArchive(bytes, {
      keyring,
      now,
      requireFresh: true,
      source: 'uploaded archive',
    });
    return { pack, intel: readPackContent(pack) };
  } catch (error) {
    if (error instanceof UserError) throw new HttpError(400, error.code, error.message);
    throw error;
  }
}

/** The bytes with a strong ETag: 304 when `If-None-Match` names it (or `*`). */
function conditional(
  c: Context<HubEnv>,
  bytes: Buffer,
  etag: string,
  type: string,
  cacheControl: string,
): Response {
  const headers = { etag, 'cache-control': cacheControl };
  const sent = c.req.header('if-none-match');
  if (sent !== undefined) {
    const tags = sent.split(',').map((t) => t.trim().replace(/^W\//, ''));
    if (tags.includes('*') || tags.includes(etag)) return c.body(null, 304, headers);
  }
  return c.body(new Uint8Array(bytes), 200, { ...headers, 'content-type': type });
}

/** A byte-bounded cache of immutable archives, least recently used dropped first. */
function archiveCache() {
  const entries = new Map<string, Buffer>();
  let size = 0;
  return {
    async get(key: string, load: () => Promise<Buffer | undefined>): Promise<Buffer | undefined> {
      const hit = entries.get(key);
      if (hit) {
        entries.delete(key);
        entries.set(key, hit);
        return hit;
      }
      const bytes = await load();
      if (!bytes || bytes.length > ARCHIVE_CACHE_BYTES / 4) return bytes;
      entries.set(key, bytes);
      size += bytes.length;
      for (const [k, v] of entries) {
        if (size <= ARCHIVE_CACHE_BYTES) break;
        entries.delete(k);
        size -= v.length;
      }
      return bytes;
    },
  };
}

function packOpenApi(): RouteModule['openapi'] {
  const pack = {
    type: 'object',
    properties: {
      id: { type: 'string' },
      sequence: { type: 'integer' },
      title: { type: 'string' },
      manifestDigest: { type: 'string' },
      keyId: { type: 'string' },
      published: { type: 'string', format: 'date-time' },
      expires: { type: 'string', format: 'date-time' },
      archiveSha256: { type: 'string' },
      archiveSize: { type: 'integer' },
      uploadedBy: { type: 'string', description: 'vendor staff only' },
      uploadedAt: { type: 'string', format: 'date-time' },
    },
  };
  const run = {
    type: 'object',
    properties: {
      id: { type: 'string', format: 'uuid' },
      packId: { type: 'string' },
      packSequence: { type: 'integer' },
      status: { enum: ['queued', 'running', 'done', 'failed'] },
      requestedAt: { type: 'string', format: 'date-time' },
      startedAt: { type: ['string', 'null'] },
      finishedAt: { type: ['string', 'null'] },
      hostsChecked: { type: 'integer' },
      hostsFlagged: { type: 'integer' },
      findingsAdded: { type: 'integer' },
      durationMs: { type: ['integer', 'null'] },
      error: { type: ['string', 'null'] },
    },
  };
  const feedFile = (summary: string, type: string) => ({
    get: {
      summary,
      ...access(EVERYONE),
      responses: {
        '200': { description: summary, content: { [type]: {} } },
        '304': { description: 'Not modified (If-None-Match)' },
        '404': ERROR_RESPONSE,
      },
    },
  });
  return {
    '/api/v1/packs': {
      post: {
        summary:
          'Upload a signed pack archive (as packs export writes it); stored, published, retro-hunted, and linked to the advisory named by `advisory`',
        ...access(STAFF),
        parameters: [
          {
            name: 'advisory',
            in: 'query',
            required: false,
            description:
              'The tracking id of the advisory the pack belongs to (it gets a revision linking the pack)',
            schema: { type: 'string' },
          },
        ],
        requestBody: {
          required: true,
          content: {
            'application/gzip': { schema: { type: 'string', contentMediaType: 'application/gzip' } },
          },
        },
        responses: {
          '201': jsonResponse('The stored pack and its queued retro-hunt', {
            type: 'object',
            properties: { pack, retroHunt: run, advisory: { type: ['object', 'null'] } },
          }),
          '400': ERROR_RESPONSE,
          '401': ERROR_RESPONSE,
          '403': ERROR_RESPONSE,
          '409': ERROR_RESPONSE,
          '413': ERROR_RESPONSE,
          '415': ERROR_RESPONSE,
        },
      },
      get: {
        summary: 'Every stored pack version, with its retro-hunt',
        ...access(ANY_ROLE),
        responses: {
          '200': jsonResponse('Packs', {
            type: 'object',
            properties: { packs: { type: 'array', items: pack } },
          }),
          '401': ERROR_RESPONSE,
        },
      },
    },
    '/api/v1/retro-hunts/{id}': {
      get: {
        summary: "A retro-hunt's status; counts are the caller's organisation's (all for vendor staff)",
        ...access(ANY_ROLE),
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
        responses: { '200': jsonResponse('The run', run), '401': ERROR_RESPONSE, '404': ERROR_RESPONSE },
      },
    },
    '/feed/latest.json': feedFile(
      'The signed feed index (404 FEED_DISABLED without a feed key)',
      'application/json',
    ),
    '/feed/latest.json.sig': feedFile("The feed index's signature", 'application/json'),
    '/feed/keys.json': feedFile('The key list given to serve --pack-keys, if any', 'application/json'),
    '/feed/keys.json.sig': feedFile("The key list's signature", 'application/json'),
    '/feed/packs/{file}': {
      get: {
        ...feedFile('A pack archive, <id>-<sequence>.tar.gz', 'application/gzip').get,
        parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
      },
    },
  };
}
