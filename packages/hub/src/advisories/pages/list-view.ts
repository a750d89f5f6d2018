/** @module The list of published advisories a reader may read. */

import { currentContent, type PublishedAdvisory } from '../model.js';
import { advisoryPaths } from '../urls.js';
import { html, link } from './html.js';
import { type PageContent, scrollingTable, severityBadge, time, tlpBadge } from './layout.js';

/** The list page of `advisories` (newest first, as the source gives them); `signedIn` changes only the wording. */
export function advisoryListPage(advisories: readonly PublishedAdvisory[], signedIn: boolean): PageContent {
  const rows = advisories.map((advisory) => {
    const content = currentContent(advisory);
    return html`<tr>
<th scope="row">${link(advisoryPaths.page(advisory.slug), content.title)}</th>
<td><code>${advisory.trackingId}</code></td>
<td>${severityBadge(content.severity)}</td>
<td>${content.status}</td>
<td>${tlpBadge(content.tlp)}</td>
<td>${time(advisory.initialReleaseDate)}</td>
<td>${time(advisory.currentReleaseDate)}</td>
</tr>
`;
  });
  const table = html`<table>
<thead><tr><th scope="col">Advisory</th><th scope="col">Tracking ID</th><th scope="col">Severity</th><th scope="col">Status</th><th scope="col">TLP</th><th scope="col">First published</th><th scope="col">Last updated</th></tr></thead>
<tbody>
${rows}</tbody>
</table>`;
  const scope = signedIn
    ? 'Every published advisory, whatever its TLP label.'
    : 'Public (TLP:WHITE) advisories; sign in to read those shared with customers only.';
  const main = html`<h1>Security advisories</h1>
<p>${scope} Newest update first. Subscribe to the ${link(advisoryPaths.atom(), 'Atom feed')} or the ${link(advisoryPaths.rss(), 'RSS feed')} to hear of every new revision.</p>
${advisories.length ? scrollingTable('Security advisories', table) : html`<p class="muted">No advisory is published yet.</p>`}`;
  return { title: 'Security advisories', main };
}
