/** @module What the Atom and RSS feeds say about one advisory: its permanent id, links, categories and HTML. */

import { renderMarkdown } from '../markdown.js';
import { type AdvisoryContent, currentContent, type PublishedAdvisory } from '../model.js';
import { absoluteUrl, advisoryPaths } from '../urls.js';
import { escapeAttribute, escapeText, xmlSafe } from './xml.js';

/** Who publishes the feeds: the hub's public URL (no trailing slash) and its publisher. */
export interface FeedConfig {
  publicUrl: string;
  publisher: { name: string; namespace: string };
}

/**
 * The `updated` / Last-Modified of a feed with no entry: a fixed instant, so an empty feed keeps one ETag, and an
 * early one, so the first advisory (even backdated) moves the feed forward. Not the Unix epoch, which readers
 * tend to show as "no date".
 */
export const EMPTY_FEED_UPDATED = '2000-01-01T00:00:00.000Z';

/** An RFC 3339 UTC timestamp of an ISO-8601 string (throws on a date that does not parse). */
export function rfc3339(iso: string): string {
  return new Date(iso).toISOString();
}

/** The newest `currentReleaseDate` of `advisories`, or EMPTY_FEED_UPDATED. */
export function newestRelease(advisories: readonly PublishedAdvisory[]): string {
  return advisories.reduce(
    (newest, a) =>
      Date.parse(a.currentReleaseDate) > Date.parse(newest) ? rfc3339(a.currentReleaseDate) : newest,
    EMPTY_FEED_UPDATED,
  );
}

/**
 * The permanent id of an advisory in every feed (RFC 4151 `tag:` URI): the public URL's host name, the UTC day of
 * the initial release and the tracking id, none of which a revision changes.
 */
export function advisoryEntryId(publicUrl: string, advisory: PublishedAdvisory): string {
  const day = rfc3339(advisory.initialReleaseDate).slice(0, 10);
  return `tag:${tagAuthority(publicUrl)},${day}:advisory/${encodeURIComponent(xmlSafe(advisory.trackingId))}`;
}

/** A host name as a tag URI's DNS name: an IP literal's brackets and colons (not allowed there) become dashes. */
function tagAuthority(publicUrl: string): string {
  return new URL(publicUrl).hostname.replace(/^\[|\]$/g, '').replace(/:/g, '-');
}

/** The category terms of an advisory's current revision: severity, status and TLP label, each with its scheme. */
export function advisoryCategories(
  publicUrl: string,
  content: AdvisoryContent,
): { scheme: string; term: string; label: string }[] {
  const scheme = (name: string) => `${absoluteUrl(publicUrl, advisoryPaths.list())}#${name}`;
  return [
    { scheme: scheme('severity'), term: content.severity, label: `Severity: ${content.severity}` },
    { scheme: scheme('status'), term: content.status, label: `Status: ${content.status}` },
    { scheme: scheme('tlp'), term: `TLP:${content.tlp}`, label: `TLP:${content.tlp}` },
  ];
}

/** A reference URL as a link target: http(s) only, as the URL parser writes it (spaces and quotes escaped). */
function linkTarget(url: string): string | undefined {
  try {
    const parsed = new URL(url.trim());
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The HTML of an advisory for a feed reader (an inert fragment: the Markdown rendered with `renderMarkdown`, every
 * other field escaped): facts line, body, affected products, remediation steps, references and the revision
 * history, "Revision N (date): summary", newest first.
 */
export function advisoryHtml(advisory: PublishedAdvisory): string {
  const content = currentContent(advisory);
  const facts = [
    `Severity: ${content.severity}`,
    `Status: ${content.status}`,
    `TLP:${content.tlp}`,
    ...(content.cves.length ? [content.cves.join(', ')] : []),
  ];
  const parts = [`<p>${escapeText(facts.join(' · '))}</p>`, renderMarkdown(content.body)];
  if (content.products.length)
    parts.push(
      '<h3>Affected products</h3>',
      list(
        'ul',
        content.products.map((p) => {
          const fixed = p.fixed.length ? `; fixed in ${p.fixed.join(', ')}` : '';
          return escapeText(
            `${p.vendor} ${p.product} (${p.platforms.join(', ')}): ${p.affected.join(', ')}${fixed}`,
          );
        }),
      ),
    );
  if (content.remediation.length)
    parts.push('<h3>Remediation</h3>', list('ol', content.remediation.map(renderMarkdown)));
  if (content.references.length)
    parts.push(
      '<h3>References</h3>',
      list(
        'ul',
        content.references.map((r) => {
          const href = linkTarget(r.url);
          const text = escapeText(r.summary || r.url);
          return href ? `<a href="${escapeAttribute(href)}">${text}</a>` : `${text} (${escapeText(r.url)})`;
        }),
      ),
    );
  parts.push(
    '<h3>Revision history</h3>',
    list(
      'ul',
      [...advisory.revisions]
        .reverse()
        .map((r) => escapeText(`Revision ${r.number} (${revisionDate(r.at)}): ${r.summary}`)),
    ),
  );
  return parts.join('\n');
}

/** A revision's time as readers see it: `2023-04-11 16:30 UTC`. */
function revisionDate(iso: string): string {
  const at = rfc3339(iso);
  return `${at.slice(0, 10)} ${at.slice(11, 16)} UTC`;
}

function list(tag: 'ul' | 'ol', items: string[]): string {
  return `<${tag}>${items.map((item) => `<li>${item}</li>`).join('')}</${tag}>`;
}
