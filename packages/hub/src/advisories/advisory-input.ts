import { choiceField, lineField, markdownField } from '../http/fields.js';
import { HttpError } from '../http/http-error.js';
import {
  ADVISORY_SEVERITIES,
  ADVISORY_STATUSES,
  type AdvisoryContent,
  type AdvisoryProduct,
  type AdvisoryReference,
  type LinkedPack,
  TLP_LABELS,
} from './model.js';

/** The fields of an advisory's content, and nothing else (a tracking id or a date is never staff input). */
const CONTENT_FIELDS = new Set([
  'title',
  'severity',
  'tlp',
  'status',
  'summary',
  'body',
  'products',
  'remediation',
  'packs',
  'references',
  'cves',
]);
/** The longest value of each advisory field, in characters (items for lists). */
export const LIMITS = {
  title: 300,
  summary: 2000,
  body: 200_000,
  step: 5000,
  steps: 50,
  products: 100,
  packs: 20,
  references: 100,
  url: 2000,
  cves: 50,
};
const CVE = /^CVE-\d{4}-\d{4,7}$/;
const PACK_ID = /^[a-z0-9][a-z0-9.-]{0,63}$/;

/** A product as staff pick it: an app of a pack stored at the hub, by ids; the hub copies the rest from the pack. */
export interface ProductPick {
  packId: string;
  appId: string;
}

/** The content of a request, products still as picks: 400 naming the field for anything wrong or unknown. */
export interface ContentInput extends Omit<AdvisoryContent, 'products'> {
  products: ProductPick[];
}

/** Reads an advisory's content from a request body's `content` object. */
export function parseContent(value: unknown, field = 'content'): ContentInput {
  const input = objectField(value, field);
  for (const key of Object.keys(input))
    if (!CONTENT_FIELDS.has(key))
      throw new HttpError(400, 'INVALID', `${field}.${key} is not a field of an advisory`, {
        field: `${field}.${key}`,
      });
  return {
    title: lineField(input.title, `${field}.title`, LIMITS.title),
    severity: choiceField(input.severity, `${field}.severity`, ADVISORY_SEVERITIES),
    tlp: choiceField(input.tlp ?? 'WHITE', `${field}.tlp`, TLP_LABELS),
    status: choiceField(input.status ?? 'interim', `${field}.status`, ADVISORY_STATUSES),
    summary: lineField(input.summary, `${field}.summary`, LIMITS.summary),
    body: markdownField(input.body ?? '', `${field}.body`, LIMITS.body, true),
    products: listField(input.products, `${field}.products`, LIMITS.products, (item, at) => {
      const pick = objectField(item, at);
      return {
        packId: patternField(pick.packId, `${at}.packId`, PACK_ID, 'a pack id'),
        appId: lineField(pick.appId, `${at}.appId`, 200),
      };
    }),
    remediation: listField(input.remediation, `${field}.remediation`, LIMITS.steps, (item, at) =>
      markdownField(item, at, LIMITS.step, false),
    ),
    packs: listField(input.packs, `${field}.packs`, LIMITS.packs, (item, at): LinkedPack => {
      const pack = objectField(item, at);
      const sequence = pack.sequence;
      if (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 1)
        throw new HttpError(400, 'INVALID', `${at}.sequence must be a whole number from 1`, {
          field: `${at}.sequence`,
        });
      return { packId: patternField(pack.packId, `${at}.packId`, PACK_ID, 'a pack id'), sequence };
    }),
    references: listField(input.references, `${field}.references`, LIMITS.references, (item, at) => {
      const reference = objectField(item, at);
      return {
        url: webUrlField(reference.url, `${at}.url`),
        summary: lineField(reference.summary, `${at}.summary`, 300),
      } satisfies AdvisoryReference;
    }),
    cves: listField(input.cves, `${field}.cves`, LIMITS.cves, (item, at) =>
      patternField(item, at, CVE, 'a CVE id such as CVE-2023-29059'),
    ),
  };
}

/**
 * The products of `input` resolved against the apps of packs stored at the hub (`appsOf(packId)`, undefined when
 * no version of that pack is stored): 400 naming the pick when its pack or app is unknown; duplicates are merged.
 */
export async function resolveProducts(
  picks: readonly ProductPick[],
  appsOf: (packId: string) => Promise<readonly PackApp[] | undefined>,
  field = 'content.products',
): Promise<AdvisoryProduct[]> {
  const products: AdvisoryProduct[] = [];
  const seen = new Set<string>();
  for (const [index, pick] of picks.entries()) {
    const at = `${field}[${index}]`;
    const apps = await appsOf(pick.packId);
    if (!apps)
      throw new HttpError(400, 'INVALID', `${at}.packId: no pack ${pick.packId} is stored at the hub`, {
        field: `${at}.packId`,
      });
    const app = apps.find((a) => a.id === pick.appId);
    if (!app)
      throw new HttpError(
        400,
        'INVALID',
        `${at}.appId: pack ${pick.packId} has no app ${JSON.stringify(pick.appId)}`,
        {
          field: `${at}.appId`,
        },
      );
    const key = `${pick.packId}\u0000${pick.appId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    products.push({
      packId: pick.packId,
      appId: app.id,
      vendor: app.vendor ?? '',
      product: app.product,
      platforms: [...(app.platforms ?? [])],
      affected: [...app.affected],
      fixed: [...(app.fixed ?? [])],
    });
  }
  return products;
}

/** What an advisory copies from a pack's `apps.json` entry. */
export interface PackApp {
  id: string;
  product: string;
  vendor?: string | undefined;
  platforms?: readonly string[] | undefined;
  affected: readonly string[];
  fixed?: readonly string[] | undefined;
}

/** A one-line summary of a revision ("what changed"): required when revising or publishing. */
export function revisionSummaryField(value: unknown, field = 'summary'): string {
  return lineField(value, field, 500);
}

function objectField(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(400, 'INVALID', `${field} must be an object`, { field });
  return value as Record<string, unknown>;
}

function listField<T>(
  value: unknown,
  field: string,
  max: number,
  item: (value: unknown, field: string) => T,
): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new HttpError(400, 'INVALID', `${field} must be a list`, { field });
  if (value.length > max)
    throw new HttpError(400, 'INVALID', `${field} must have at most ${max} items`, { field });
  return value.map((v, index) => item(v, `${field}[${index}]`));
}

function patternField(value: unknown, field: string, pattern: RegExp, what: string): string {
  if (typeof value !== 'string' || !pattern.test(value))
    throw new HttpError(400, 'INVALID', `${field} must be ${what}`, { field });
  return value;
}

function webUrlField(value: unknown, field: string): string {
  const text = lineField(value, field, LIMITS.url);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new HttpError(400, 'INVALID', `${field} must be an absolute http or https URL`, { field });
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password)
    throw new HttpError(400, 'INVALID', `${field} must be an http or https URL without credentials`, {
      field,
    });
  return url.href;
}
