/** @module The RSS 2.0 feed (RSS Advisory Board 2.0.11) of published advisories, for readers without Atom. */

import { currentContent, type PublishedAdvisory } from '../model.js';
import { absoluteUrl, advisoryPaths } from '../urls.js';
import {
  advisoryCategories,
  advisoryEntryId,
  advisoryHtml,
  type FeedConfig,
  newestRelease,
} from './advisory-entry.js';
import { emptyElement, escapeText, textElement } from './xml.js';

/** The media type the RSS feed is served as. */
export const RSS_TYPE = 'application/rss+xml; charset=utf-8';

/** Minutes a reader may cache the feed: low, because advisories change while an incident moves. */
const TTL_MINUTES = 15;

/**
 * The RSS feed of `advisories` (in the given order): one item per advisory with the same permanent id as the
 * Atom entry as its non-permalink `guid`, `pubDate` the initial release (RSS has no per-item update time), the
 * summary and rendered advisory as escaped HTML, its categories, and its first pack archive as the enclosure.
 */
export function advisoryRssFeed(advisories: readonly PublishedAdvisory[], config: FeedConfig): string {
  const url = (path: string) => absoluteUrl(config.publicUrl, path);
  const built = new Date(newestRelease(advisories)).toUTCString();
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">',
    '  <channel>',
    `    ${textElement('title', `${config.publisher.name} security advisories`, {}, 'plain')}`,
    `    ${textElement('link', url(advisoryPaths.list()))}`,
    `    ${textElement('description', `Security advisories published by ${config.publisher.name}, updated with every revision.`, {}, 'plain')}`,
    '    <language>en</language>',
    `    <pubDate>${built}</pubDate>`,
    `    <lastBuildDate>${built}</lastBuildDate>`,
    `    <ttl>${TTL_MINUTES}</ttl>`,
    '    <generator>chainsweep hub</generator>',
    '    <docs>https://www.rssboard.org/rss-specification</docs>',
    `    ${emptyElement('atom:link', { rel: 'self', type: 'application/rss+xml', href: url(advisoryPaths.rss()) })}`,
    ...advisories.map((advisory) => rssItem(advisory, config)),
    '  </channel>',
    '</rss>',
    '',
  ];
  return lines.join('\n');
}

function rssItem(advisory: PublishedAdvisory, config: FeedConfig): string {
  const url = (path: string) => absoluteUrl(config.publicUrl, path);
  const content = currentContent(advisory);
  const pack = advisory.packs[0];
  const author = advisory.revisions[0]?.author.name;
  const children = [
    textElement('title', content.title, {}, 'plain'),
    textElement('link', url(advisoryPaths.page(advisory.slug))),
    textElement('guid', advisoryEntryId(config.publicUrl, advisory), { isPermaLink: 'false' }),
    `<pubDate>${new Date(advisory.initialReleaseDate).toUTCString()}</pubDate>`,
    ...(author ? [textElement('dc:creator', author, {}, 'plain')] : []),
    textElement('description', `<p>${escapeText(content.summary)}</p>\n${advisoryHtml(advisory)}`),
    ...advisoryCategories(config.publicUrl, content).map((c) =>
      textElement('category', c.term, { domain: c.scheme }, 'plain'),
    ),
    ...(pack
      ? [
          emptyElement('enclosure', {
            url: url(pack.archivePath),
            length: pack.archiveSize,
            type: pack.mediaType,
          }),
        ]
      : []),
  ];
  return `    <item>\n${children.map((child) => `      ${child}`).join('\n')}\n    </item>`;
}
