/** @module The page of one revision of an advisory: facts, text, products, remediation, packs, CSAF, history. */

import type {
  AdvisoryContent,
  LinkedPack,
  PackLink,
  PublishedAdvisory,
  PublishedRevision,
} from '../model.js';
import { advisoryPaths } from '../urls.js';
import { html, link, markdownHtml, type SafeHtml } from './html.js';
import { type PageContent, scrollingTable, severityBadge, time, tlpBadge } from './layout.js';

/** A CVE id as MITRE assigns them; only such an id gets a link to its record. */
const CVE_ID = /^CVE-\d{4}-\d{4,}$/;

/** Whether the reader may open a revision: an earlier one may have had a stricter TLP label than the current one. */
export type RevisionReadable = (revision: PublishedRevision) => boolean;

/**
 * The page of `revision` of `advisory`: the current one, or an earlier one labelled as such; links go only to the
 * revisions the reader may open.
 */
export function advisoryPage(
  advisory: PublishedAdvisory,
  revision: PublishedRevision,
  readable: RevisionReadable,
): PageContent {
  const content = revision.content;
  const total = advisory.revisions.length;
  const current = revision.number === total;
  const label = `revision ${revision.number} of ${total}`;
  const notice = current
    ? html`<p class="muted">This is the current revision (${label}), published ${time(revision.at)}.</p>`
    : html`<p class="notice"><strong>You are reading ${label}</strong>, published ${time(revision.at)}; it has been revised since.
${link(advisoryPaths.page(advisory.slug), 'Read the current revision')} or
${link(advisoryPaths.diff(advisory.slug, revision.number, total), 'see what changed since')}.</p>`;
  const main = html`<article>
<h1>${content.title}</h1>
${notice}
${facts(advisory, revision)}
<p class="summary">${content.summary}</p>
<section aria-labelledby="details">
<h2 id="details">Details</h2>
${markdownHtml(content.body, 3)}
</section>
${productsSection(content)}
${remediationSection(content)}
${packsSection(content.packs, advisory.packs)}
${referencesSection(content)}
${documentsSection(advisory)}
${historySection(advisory, revision.number, readable)}
</article>`;
  return { title: current ? content.title : `${content.title} (${label})`, main };
}

function facts(advisory: PublishedAdvisory, revision: PublishedRevision): SafeHtml {
  const content = revision.content;
  const cves = content.cves.length
    ? content.cves.map(
        (cve, i) =>
          html`${i ? ', ' : ''}${CVE_ID.test(cve) ? link(`https://www.cve.org/CVERecord?id=${cve}`, cve) : cve}`,
      )
    : html`<span class="muted">none assigned yet</span>`;
  return html`<dl class="facts">
<dt>Tracking ID</dt><dd><code>${advisory.trackingId}</code></dd>
<dt>Severity</dt><dd>${severityBadge(content.severity)}</dd>
<dt>TLP</dt><dd>${tlpBadge(content.tlp)}</dd>
<dt>Status</dt><dd>${statusText(content.status)}</dd>
<dt>CVE</dt><dd>${cves}</dd>
<dt>First published</dt><dd>${time(advisory.initialReleaseDate)}</dd>
<dt>This revision</dt><dd>${revision.number} of ${advisory.revisions.length}, ${time(revision.at)} by ${revision.author.name}</dd>
</dl>`;
}

/** The status in words: what `interim` and `final` mean to a reader. */
function statusText(status: AdvisoryContent['status']): SafeHtml {
  if (status === 'interim')
    return html`<strong>interim</strong> (the incident is still moving; expect revisions)`;
  if (status === 'final') return html`<strong>final</strong>`;
  return html`${status}`;
}

function productsSection(content: AdvisoryContent): SafeHtml {
  const rows = content.products.map(
    (p) => html`<tr>
<td>${p.vendor}</td>
<th scope="row">${p.product}</th>
<td>${p.platforms.join(', ')}</td>
<td>${versionList(p.affected)}</td>
<td>${versionList(p.fixed)}</td>
</tr>
`,
  );
  const table = html`<table>
<thead><tr><th scope="col">Vendor</th><th scope="col">Product</th><th scope="col">Platforms</th><th scope="col">Affected versions</th><th scope="col">Fixed versions</th></tr></thead>
<tbody>
${rows}</tbody>
</table>`;
  return html`<section aria-labelledby="products">
<h2 id="products">Affected products</h2>
${content.products.length ? scrollingTable('Affected products', table) : html`<p class="muted">No product is listed.</p>`}
</section>`;
}

function versionList(versions: readonly string[]): SafeHtml {
  if (!versions.length) return html`<span class="muted">none</span>`;
  return html`${versions.map((v, i) => html`${i ? ', ' : ''}<code>${v}</code>`)}`;
}

function remediationSection(content: AdvisoryContent): SafeHtml {
  const steps = content.remediation.map((step) => html`<li>${markdownHtml(step, 3)}</li>\n`);
  return html`<section aria-labelledby="remediation">
<h2 id="remediation">Remediation</h2>
${steps.length ? html`<ol>\n${steps}</ol>` : html`<p class="muted">No remediation step yet.</p>`}
</section>`;
}

/** The packs `linked` names, resolved against `resolved` (a pack the hub no longer holds is named, not linked). */
function packsSection(linked: readonly LinkedPack[], resolved: readonly PackLink[]): SafeHtml {
  const rows = linked.map((wanted) => {
    const pack = resolved.find((p) => p.packId === wanted.packId && p.sequence === wanted.sequence);
    const name = html`<code>${wanted.packId}</code> #${wanted.sequence}`;
    if (!pack)
      return html`<tr><th scope="row">${name}</th><td colspan="3" class="muted">no longer held by this hub</td></tr>\n`;
    return html`<tr>
<th scope="row">${pack.title}<br><span class="muted">${name}</span></th>
<td>${link(pack.archivePath, 'archive')}</td>
<td>${pack.archiveSize} bytes</td>
<td><span class="digest">${pack.archiveSha256}</span></td>
</tr>
`;
  });
  const table = html`<table>
<thead><tr><th scope="col">Pack</th><th scope="col">Download</th><th scope="col">Size</th><th scope="col">SHA-256</th></tr></thead>
<tbody>
${rows}</tbody>
</table>`;
  return html`<section aria-labelledby="packs">
<h2 id="packs">Signed detection packs</h2>
${
  linked.length
    ? html`<p>Scanners install these with <code>chainsweep packs update</code>; each archive is signed, and its signature is checked before use.</p>
${scrollingTable('Signed detection packs', table)}`
    : html`<p class="muted">No pack is linked.</p>`
}
</section>`;
}

function referencesSection(content: AdvisoryContent): SafeHtml {
  const items = content.references.map(
    (r) => html`<li>${link(r.url, r.summary || r.url)}<br><span class="muted digest">${r.url}</span></li>\n`,
  );
  return html`<section aria-labelledby="references">
<h2 id="references">References</h2>
${items.length ? html`<ul>\n${items}</ul>` : html`<p class="muted">No reference.</p>`}
</section>`;
}

function documentsSection(advisory: PublishedAdvisory): SafeHtml {
  const tlp = advisory.revisions.at(-1)?.content.tlp ?? 'WHITE';
  const csaf = advisoryPaths.csafDocument(advisory, tlp);
  return html`<section aria-labelledby="documents">
<h2 id="documents">Machine-readable</h2>
<ul>
<li>${link(csaf, 'CSAF 2.0 document')} (every revision; ${link(`${csaf}.sha256`, 'SHA-256')}, ${link(`${csaf}.sha512`, 'SHA-512')}, ${link(`${csaf}.asc`, 'OpenPGP signature')})</li>
<li>${link(advisoryPaths.atom(), 'Atom feed')} and ${link(advisoryPaths.rss(), 'RSS feed')} of every advisory and revision</li>
</ul>
</section>`;
}

function historySection(advisory: PublishedAdvisory, shown: number, readable: RevisionReadable): SafeHtml {
  const total = advisory.revisions.length;
  const byNumber = new Map(advisory.revisions.map((r) => [r.number, r]));
  const rows = advisory.revisions.map((r) => {
    const name = r.number === total ? `Revision ${r.number} (current)` : `Revision ${r.number}`;
    const previous = byNumber.get(r.number - 1);
    let title: SafeHtml;
    if (r.number === shown) title = html`<strong>${name}</strong> <span class="muted">(this page)</span>`;
    else if (readable(r)) title = link(advisoryPaths.revision(advisory.slug, r.number), name);
    else title = html`${name} <span class="muted">(TLP:${r.content.tlp}: sign in to read it)</span>`;
    let changes: SafeHtml;
    if (!previous) changes = html`<span class="muted">first release</span>`;
    else if (readable(previous) && readable(r))
      changes = link(
        advisoryPaths.diff(advisory.slug, previous.number, r.number),
        `changes from ${previous.number}`,
      );
    else changes = html`<span class="muted">not public</span>`;
    return html`<tr>
<th scope="row">${title}</th>
<td>${time(r.at)}</td>
<td>${r.author.name}</td>
<td>${r.summary}</td>
<td>${changes}</td>
</tr>
`;
  });
  const table = html`<table>
<thead><tr><th scope="col">Revision</th><th scope="col">Published</th><th scope="col">Author</th><th scope="col">Summary</th><th scope="col">Changes</th></tr></thead>
<tbody>
${rows}</tbody>
</table>`;
  const first = advisory.revisions.find(readable);
  const everything =
    first && first.number < total - 1
      ? html`<p>${link(advisoryPaths.diff(advisory.slug, first.number, total), `Every change from revision ${first.number} to ${total}`)}</p>`
      : '';
  return html`<section aria-labelledby="history">
<h2 id="history">Revision history</h2>
${scrollingTable('Revision history', table)}
${everything}
</section>`;
}
