/** @module The Atom 1.0 feed (RFC 4287) of published advisories: one entry per advisory, its latest revision. */

import { currentContent, type PublishedAdvisory } from '../model.js';
import { absoluteUrl, advisoryPaths } from '../urls.js';
import {
  advisoryCategories,
  advisoryEntryId,
  advisoryHtml,
  type FeedConfig,
  newestRelease,
  rfc3339,
} from './advisory-entry.js';
import { emptyElement, escapeText, textElement } from './xml.js';

/** The media type the Atom feeds are served as. */
export const ATOM_TYPE = 'application/atom+xml; charset=utf-8';

/**
 * The Atom feed of `advisories` (in the given order): each entry keeps its permanent id across revisions, has
 * `published` (initial release) and `updated` (current release), links the page, the CSAF document
 * (`rel="related"`) and every linked pack archive (`rel="enclosure"` with its type and size), and carries the
 * plain summary and the rendered advisory as escaped HTML. The feed's `updated` is the newest entry's (see
 * EMPTY_FEED_UPDATED when there is none).
 */
export function advisoryAtomFeed(advisories: readonly PublishedAdvisory[], config: FeedConfig): string {
  const url = (path: string) => absoluteUrl(config.publicUrl, path);
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
    `  <id>${escapeText(url(advisoryPaths.atom()))}</id>`,
    `  ${textElement('title', `${config.publisher.name} security advisories`, { type: 'text' })}`,
    `  <updated>${newestRelease(advisories)}</updated>`,
    `  ${person('author', config.publisher.name, config.publisher.namespace)}`,
    `  ${emptyElement('link', { rel: 'self', type: 'application/atom+xml', href: url(advisoryPaths.atom()) })}`,
    `  ${emptyElement('link', { rel: 'alternate', type: 'text/html', href: url(advisoryPaths.list()) })}`,
    `  ${emptyElement('link', { rel: 'alternate', type: 'application/rss+xml', href: url(advisoryPaths.rss()) })}`,
    '  <generator>chainsweep hub</generator>',
    ...advisories.map((advisory) => atomEntry(advisory, config)),
    '</feed>',
    '',
  ];
  return lines.join('\n');
}

function atomEntry(advisory: PublishedAdvisory, config: FeedConfig): string {
  const url = (path: string) => absoluteUrl(config.publicUrl, path);
  const content = currentContent(advisory);
  const [first, ...later] = advisory.revisions;
  const contributors = [...new Set(later.map((r) => r.author.name))].filter((n) => n !== first?.author.name);
  const children = [
    `<id>${escapeText(advisoryEntryId(config.publicUrl, advisory))}</id>`,
    textElement('title', content.title, { type: 'text' }),
    `<published>${rfc3339(advisory.initialReleaseDate)}</published>`,
    `<updated>${rfc3339(advisory.currentReleaseDate)}</updated>`,
    ...(first ? [person('author', first.author.name)] : []),
    ...contributors.map((name) => person('contributor', name)),
    emptyElement('link', {
      rel: 'alternate',
      type: 'text/html',
      href: url(advisoryPaths.page(advisory.slug)),
    }),
    emptyElement('link', {
      rel: 'related',
      type: 'application/json',
      title: `CSAF ${advisory.trackingId} revision ${advisory.revisions.length}`,
      href: url(advisoryPaths.csafDocument(advisory, content.tlp)),
    }),
    ...advisory.packs.map((pack) =>
      emptyElement('link', {
        rel: 'enclosure',
        type: pack.mediaType,
        length: pack.archiveSize,
        title: `${pack.title} (#${pack.sequence})`,
        href: url(pack.archivePath),
      }),
    ),
    ...advisoryCategories(config.publicUrl, content).map((category) => emptyElement('category', category)),
    textElement('summary', content.summary, { type: 'text' }),
    textElement('content', advisoryHtml(advisory), { type: 'html' }),
  ];
  return `  <entry>\n${children.map((child) => `    ${child}`).join('\n')}\n  </entry>`;
}

/** An Atom person construct. */
function person(element: 'author' | 'contributor', name: string, uri?: string): string {
  return `<${element}>${textElement('name', name)}${uri ? textElement('uri', uri) : ''}</${element}>`;
}
