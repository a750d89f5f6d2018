import { type Context, Hono } from 'hono';
import { ANY_ROLE } from '../../http/access.js';
import { conditionalResponse } from '../../http/conditional-get.js';
import { HttpError } from '../../http/http-error.js';
import type { HubDeps, HubEnv, RouteModule } from '../../http/hub-env.js';
import { access, ERROR_RESPONSE, EVERYONE } from '../../http/openapi.js';
import type { AdvisoryViewer, PublishedAdvisories, TlpLabel } from '../model.js';
import { TLP_LABELS } from '../model.js';
import { advisoryPaths, CSAF_ROOT } from '../urls.js';
import {
  changesCsv,
  csafPaths,
  type DirectoryEntry,
  directoryEntries,
  directoryNames,
  hashFile,
  indexTxt,
  lastChange,
  listingHtml,
  providerMetadata,
  securityTxt,
  servedLabels,
  yearNames,
} from './csaf-directory.js';
import { csafDocument, csafJson } from './csaf-document.js';
import type { CsafSigner } from './csaf-signer.js';

const TEXT = 'text/plain; charset=utf-8';
const YEAR = /^\d{4}$/;
/** Anything but TLP:WHITE is answered for this caller only: never kept by a shared cache. */
const only = (tlp: TlpLabel) => ({ private: tlp !== 'WHITE' });
const listingHeaders = (tlp: TlpLabel): Record<string, string> =>
  tlp === 'WHITE' ? {} : { 'Cache-Control': 'private, no-cache', Vary: 'Authorization, Cookie' };

/** A served file of a year folder: the document, or its signature or hash. */
const DOCUMENT_FILE = /^([+\-a-z0-9_]+\.json)(\.asc|\.sha256|\.sha512)?$/;

/**
 * The hub as a CSAF 2.0 trusted provider (directory distribution): provider-metadata.json, the public
 * OpenPGP key, security.txt, and per TLP label a directory with index.txt, changes.csv, HTML listings and each
 * document (`application/json`) with its `.sha256`, `.sha512` and `.asc`. TLP:WHITE is public; the GREEN,
 * AMBER and RED directories need a signed-in user or API token (401 otherwise, agents included). `signer` gives
 * the OpenPGP key (loaded once, before or on first use).
 */
export function csafRoutes(
  deps: HubDeps,
  advisories: PublishedAdvisories,
  signer: () => Promise<CsafSigner>,
): RouteModule {
  const config = () => ({ publicUrl: deps.config.publicUrl, publisher: deps.config.publisher });

  /** The label of a directory segment, once the caller may read it: 401 before 404, so nothing is probed. */
  const labelOf = (c: Context<HubEnv>): { tlp: TlpLabel; viewer: AdvisoryViewer } => {
    const segment = c.req.param('tlp') ?? 'white';
    const viewer = viewerOf(c);
    if (segment !== 'white' && viewer === 'public')
      throw new HttpError(
        401,
        'UNAUTHENTICATED',
        'sign in or send an API token to read TLP:GREEN, AMBER or RED',
      );
    const tlp = TLP_LABELS.find((label) => label.toLowerCase() === segment);
    if (!tlp)
      throw new HttpError(404, 'NOT_FOUND', `no CSAF directory ${JSON.stringify(segment.slice(0, 32))}`);
    return { tlp, viewer: tlp === 'WHITE' ? 'public' : viewer };
  };

  /** The documents of a directory the caller may read; a label other than WHITE with none is no directory. */
  const directoryOf = async (c: Context<HubEnv>): Promise<{ tlp: TlpLabel; entries: DirectoryEntry[] }> => {
    const { tlp, viewer } = labelOf(c);
    const entries = directoryEntries(await advisories.list(viewer), tlp);
    if (tlp !== 'WHITE' && entries.length === 0)
      throw new HttpError(404, 'NOT_FOUND', `no TLP:${tlp} documents are published`);
    return { tlp, entries };
  };

  const routes = new Hono<HubEnv>()
    .get(advisoryPaths.providerMetadata(), async (c) => {
      const all = await advisories.list('signed-in');
      const body = providerMetadata(config(), await signer(), servedLabels(all), lastChange(all));
      return conditionalResponse(c, body, 'application/json', lastChange(all));
    })
    .get(`${CSAF_ROOT}/openpgp/:file`, async (c) => {
      const key = await signer();
      if (c.req.param('file') !== `${key.fingerprint}.asc`)
        throw new HttpError(
          404,
          'NOT_FOUND',
          'no such key: see public_openpgp_keys in provider-metadata.json',
        );
      return c.body(key.publicKeyArmored, 200, { 'Content-Type': 'application/pgp-keys' });
    })
    .get(csafPaths.securityTxt(), (c) =>
      c.body(securityTxt(config(), deps.now()), 200, { 'Content-Type': TEXT }),
    );

  // TLP:WHITE at its own literal path (public), every other label at `:tlp` (signed in).
  for (const directory of [`${CSAF_ROOT}/white`, `${CSAF_ROOT}/:tlp`])
    routes
      .get(`${directory}/index.txt`, async (c) => {
        const { tlp, entries } = await directoryOf(c);
        return conditionalResponse(c, indexTxt(entries), TEXT, lastChange(entries), only(tlp));
      })
      .get(`${directory}/changes.csv`, async (c) => {
        const { tlp, entries } = await directoryOf(c);
        const csv = changesCsv(entries);
        return conditionalResponse(c, csv, 'text/csv; charset=utf-8', lastChange(entries), only(tlp));
      })
      .get(`${directory}/`, async (c) => {
        const { tlp, entries } = await directoryOf(c);
        const html = listingHtml(advisoryPaths.csafDirectory(tlp), directoryNames(entries));
        return c.html(html, 200, listingHeaders(tlp));
      })
      .get(`${directory}/:year/`, async (c) => {
        const { tlp, entries } = await directoryOf(c);
        const year = c.req.param('year');
        const names = yearNames(entries, year);
        if (!YEAR.test(year) || names.length === 0)
          throw new HttpError(404, 'NOT_FOUND', 'no such year folder');
        return c.html(listingHtml(csafPaths.yearFolder(tlp, year), names), 200, listingHeaders(tlp));
      })
      .get(`${directory}/:year/:file`, async (c) => {
        const { tlp, viewer } = labelOf(c);
        const match = DOCUMENT_FILE.exec(c.req.param('file'));
        const file = match?.[1];
        const advisory = file ? await advisories.get(file.slice(0, -'.json'.length), viewer) : undefined;
        const entry = advisory && directoryEntries([advisory], tlp)[0];
        if (!match || !entry || entry.file !== file || entry.year !== c.req.param('year'))
          throw new HttpError(404, 'NOT_FOUND', 'no such CSAF document');
        const bytes = csafJson(csafDocument(entry.advisory, config()));
        const changed = new Date(entry.currentReleaseDate);
        switch (match[2]) {
          case '.asc':
            return conditionalResponse(
              c,
              await (await signer()).sign(bytes),
              'application/pgp-signature',
              changed,
              only(tlp),
            );
          case '.sha256':
            return conditionalResponse(c, hashFile('sha256', bytes, entry.file), TEXT, changed, only(tlp));
          case '.sha512':
            return conditionalResponse(c, hashFile('sha512', bytes, entry.file), TEXT, changed, only(tlp));
          default:
            return conditionalResponse(c, bytes, 'application/json', changed, only(tlp));
        }
      });

  return { routes, openapi: csafOpenApi() };
}

/** Signed-in users and API tokens read every label; anonymous callers and agents TLP:WHITE only. */
function viewerOf(c: Context<HubEnv>): AdvisoryViewer {
  const principal = c.get('principal');
  return principal && principal.kind !== 'agent' ? 'signed-in' : 'public';
}

function csafOpenApi(): RouteModule['openapi'] {
  const file = (summary: string, type: string, callers: typeof EVERYONE, parameters: string[] = []) => ({
    get: {
      summary,
      ...access(callers),
      ...(parameters.length
        ? {
            parameters: parameters.map((name) => ({
              name,
              in: 'path',
              required: true,
              schema:
                name === 'tlp'
                  ? { enum: ['green', 'amber', 'red'] }
                  : name === 'year'
                    ? { type: 'string', pattern: '^\\d{4}$' }
                    : { type: 'string' },
            })),
          }
        : {}),
      responses: {
        '200': { description: summary, content: { [type]: {} } },
        ...(type === 'text/html' || type === 'application/pgp-keys'
          ? {}
          : { '304': { description: 'Not modified' } }),
        ...(callers === EVERYONE ? {} : { '401': ERROR_RESPONSE }),
        '404': ERROR_RESPONSE,
      },
    },
  });
  const directory = (base: string, label: string, callers: typeof EVERYONE, tlp: string[]) => ({
    [`${base}/`]: file(`Listing of the ${label} directory`, 'text/html', callers, tlp),
    [`${base}/index.txt`]: file(`Every ${label} document path (index.txt)`, 'text/plain', callers, tlp),
    [`${base}/changes.csv`]: file(
      `${label} documents by current_release_date, newest first`,
      'text/csv',
      callers,
      tlp,
    ),
    [`${base}/{year}/`]: file(`Listing of a ${label} year folder`, 'text/html', callers, [...tlp, 'year']),
    [`${base}/{year}/{file}`]: file(
      `A ${label} CSAF document (<slug>.json, application/json) or its .asc, .sha256 or .sha512`,
      'application/json',
      callers,
      [...tlp, 'year', 'file'],
    ),
  });
  return {
    [advisoryPaths.providerMetadata()]: file(
      'CSAF provider metadata (trusted provider)',
      'application/json',
      EVERYONE,
    ),
    [`${CSAF_ROOT}/openpgp/{file}`]: file(
      'The public OpenPGP key signing the documents, <FINGERPRINT>.asc',
      'application/pgp-keys',
      EVERYONE,
      ['file'],
    ),
    [csafPaths.securityTxt()]: file('security.txt (RFC 9116) with the CSAF field', 'text/plain', EVERYONE),
    ...directory(`${CSAF_ROOT}/white`, 'TLP:WHITE', EVERYONE, []),
    ...directory(`${CSAF_ROOT}/{tlp}`, 'TLP:GREEN, AMBER or RED', ANY_ROLE, ['tlp']),
  };
}
