/** @module The frame of every advisory page: head (stylesheet, feed links), site navigation, main, footer. */

import { ADVISORY_SEVERITIES, type AdvisorySeverity, TLP_LABELS, type TlpLabel } from '../model.js';
import { advisoryPaths } from '../urls.js';
import { html, type Interpolation, link, type SafeHtml } from './html.js';
import { PAGES_CSS_HREF } from './pages-css.js';

/** What one page shows: its title (also the document's) and the content of `<main>`. */
export interface PageContent {
  title: string;
  main: SafeHtml;
}

/** A whole HTML document around `content`, naming `publisher` in its footer. */
export function htmlDocument(content: PageContent, publisher: string): string {
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${content.title} · ${publisher}</title>
<link rel="stylesheet" href="${PAGES_CSS_HREF}">
<link rel="alternate" type="application/atom+xml" title="Security advisories (Atom)" href="${advisoryPaths.atom()}">
<link rel="alternate" type="application/rss+xml" title="Security advisories (RSS)" href="${advisoryPaths.rss()}">
</head>
<body>
<header>
<nav aria-label="Site">
<ul>
<li>${link(advisoryPaths.list(), 'Security advisories')}</li>
<li>${link(advisoryPaths.atom(), 'Atom feed')}</li>
<li>${link(advisoryPaths.rss(), 'RSS feed')}</li>
</ul>
</nav>
</header>
<main>
${content.main}
</main>
<footer>
<p>Published by ${publisher}. These pages need no JavaScript; subscribe to the Atom or RSS feed to hear of new revisions.</p>
</footer>
</body>
</html>
`.markup;
}

/** An ISO-8601 time for people (`2023-03-30 09:00 UTC`) in a `<time>`; an unreadable one shown as it is. */
export function time(iso: string): SafeHtml {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return html`${iso}`;
  const shown = `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return html`<time datetime="${date.toISOString()}">${shown}</time>`;
}

/** The severity as a badge (a class only for a known severity). */
export function severityBadge(severity: AdvisorySeverity): SafeHtml {
  const known = (ADVISORY_SEVERITIES as readonly string[]).includes(severity);
  return html`<span class="badge${known ? ` severity-${severity}` : ''}">${severity}</span>`;
}

/** The TLP label as a badge in its TLP colours. */
export function tlpBadge(tlp: TlpLabel): SafeHtml {
  const known = (TLP_LABELS as readonly string[]).includes(tlp);
  return html`<span class="badge tlp${known ? ` tlp-${tlp.toLowerCase()}` : ''}">TLP:${tlp}</span>`;
}

/** A table that scrolls sideways on a narrow screen instead of widening the page (focusable, to scroll by keys). */
export function scrollingTable(label: string, table: Interpolation): SafeHtml {
  return html`<div class="table-wrap" role="region" aria-label="${label}" tabindex="0">${table}</div>`;
}
