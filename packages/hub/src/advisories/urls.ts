import type { PublishedAdvisory, TlpLabel } from './model.js';

/** Where the CSAF provider lives: `provider-metadata.json` and one directory per TLP label under it. */
export const CSAF_ROOT = '/.well-known/csaf';

/** Paths of everything the hub publishes about advisories (relative to its public URL); one place builds them. */
export const advisoryPaths = {
  list: () => '/advisories',
  page: (slug: string) => `/advisories/${slug}`,
  revision: (slug: string, number: number) => `/advisories/${slug}/revisions/${number}`,
  diff: (slug: string, from: number, to: number) => `/advisories/${slug}/diff?from=${from}&to=${to}`,
  atom: () => '/advisories/feed.atom',
  rss: () => '/advisories/feed.rss',
  providerMetadata: () => `${CSAF_ROOT}/provider-metadata.json`,
  /** The directory of one TLP label: `/.well-known/csaf/white/`. */
  csafDirectory: (tlp: TlpLabel) => `${CSAF_ROOT}/${tlp.toLowerCase()}/`,
  /** The CSAF document: `<directory><year of initial release, UTC>/<slug>.json`. */
  csafDocument: (advisory: Pick<PublishedAdvisory, 'slug' | 'initialReleaseDate'>, tlp: TlpLabel) =>
    `${CSAF_ROOT}/${tlp.toLowerCase()}/${csafYear(advisory.initialReleaseDate)}/${advisory.slug}.json`,
};

/** The year folder of a document: the UTC year of `tracking.initial_release_date`. */
export function csafYear(initialReleaseDate: string): string {
  return String(new Date(initialReleaseDate).getUTCFullYear());
}

/** An absolute URL under the hub's public URL (which has no trailing slash). */
export function absoluteUrl(publicUrl: string, path: string): string {
  return `${publicUrl}${path}`;
}
